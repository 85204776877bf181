// The agent's tunnel endpoint `…/edges/<edge>/proxy` (docs/agent-protocol.md §5): authenticates the edge credential
// before the WebSocket upgrade, runs a yamux session as server, registers it (one per edge), reports tunnel up/down
// to the Edge lifecycle, and re-verifies every live session's credential periodically (revocation closes it).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { bearerToken } from '../auth/identity.ts';
import {
  SessionRegistry,
  TunnelError,
  TunnelErrorCode,
  createWebSocketSession,
  webSocketOptions,
  type TunnelConfig,
  type TunnelSession,
} from '../../tunnel/index.ts';
import { authenticateEdge, edgeObjectPath, type AgentProxyDeps } from './agent-proxy.ts';
import { edgesProxyURL, type AgentRequest } from './paths.ts';
import { outcomeOfStatus } from '../metrics.ts';
import { writeSocketStatus } from '../server/status.ts';
import { edgeKey, splitKey } from '../../kube/cluster-key.ts';
import { sleep } from '../../util/wait.ts';

/** How long stop() waits for tunnel signals already under way. */
const SETTLE_ON_STOP_MS = 5_000;

export type TunnelEventFn = (
  cluster: string,
  edge: string,
  type: 'Opened' | 'Closed',
  registered?: boolean,
) => Promise<void>;

export interface SessionInfo {
  cluster: string;
  edge: string;
  type: string | undefined;
  /** Kept in memory only, to re-verify the credential; never logged. */
  token: string;
}

export interface TunnelEndpointOptions extends AgentProxyDeps {
  tunnelEvent: TunnelEventFn;
  tunnelConfig?: Partial<TunnelConfig>;
  /** Re-verification period of live sessions' credentials (default 30 s). */
  recheckIntervalMs?: number;
}

export class TunnelEndpoint {
  readonly registry: SessionRegistry<TunnelSession>;
  readonly #info = new WeakMap<TunnelSession, SessionInfo>();
  readonly #wss: WebSocketServer;
  readonly #opts: TunnelEndpointOptions;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #rechecking = false;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(opts: TunnelEndpointOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'tunnel-endpoint' });
    this.registry = new SessionRegistry<TunnelSession>(opts.log);
    this.#wss = new WebSocketServer({ noServer: true, ...webSocketOptions(opts.tunnelConfig) });
    // Per edge, signals apply in the order the registry emitted them (a Closed never overtakes its Opened).
    this.registry.on('connect', (key, session) => this.#inOrder(key, () => this.#onConnect(key, session)));
    this.registry.on('disconnect', (key) => this.#inOrder(key, () => this.#signal(key, 'Closed')));
    this.registry.on('connect', () => opts.metrics?.tunnelConnected(this.registry.size));
    this.registry.on('disconnect', () => opts.metrics?.tunnelDisconnected(this.registry.size));
    this.#timer = setInterval(() => void this.recheck(), opts.recheckIntervalMs ?? 30_000);
    this.#timer.unref();
  }

  info(session: TunnelSession): SessionInfo | undefined {
    return this.#info.get(session);
  }

  /** The registered session of an edge, if its tunnel is up. */
  session(cluster: string, edge: string): TunnelSession | undefined {
    return this.registry.get(edgeKey(cluster, edge));
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, r: AgentRequest): Promise<void> {
    // Agents never send Origin; a browser always does, and must not reach the tunnel with ambient credentials.
    if (req.headers.origin !== undefined) return this.#refuse(socket, 403, 'cross-origin requests are not allowed');
    if (req.method !== 'GET' || String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return this.#refuse(socket, 400, 'the tunnel needs a WebSocket upgrade');
    }
    const token = bearerToken(req.headers.authorization);
    let edge;
    try {
      edge = await authenticateEdge(this.#opts, token, r.cluster, r.edge);
    } catch (err) {
      this.#log.error({ err, cluster: r.cluster, edge: r.edge }, 'tunnel authentication failed');
      return this.#refuse(socket, 503, 'the control plane could not check the credential');
    }
    if (!edge || !token) return this.#refuse(socket, 401, 'Unauthorized');
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const log = this.#opts.log.child({ cluster: r.cluster, edge: r.edge });
      const session = createWebSocketSession(ws, {
        role: 'server',
        logger: log,
        ...(this.#opts.tunnelConfig ? { config: this.#opts.tunnelConfig } : {}),
      });
      this.#info.set(session, { cluster: r.cluster, edge: r.edge, type: edge.spec?.type, token });
      this.#opts.metrics?.agentProxy('ok');
      this.registry.register(edgeKey(r.cluster, r.edge), session);
    });
  }

  /** Answers a refused tunnel upgrade with a status, counted as an agent-proxy outcome. */
  #refuse(socket: Duplex, code: number, message: string): void {
    this.#opts.metrics?.agentProxy(outcomeOfStatus(code));
    writeSocketStatus(socket, code, message);
  }

  /** Re-verifies every live session; closes those whose credential or Edge is gone. */
  async recheck(): Promise<void> {
    if (this.#rechecking) return;
    this.#rechecking = true;
    try {
      const keys = this.registry.keys();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const key = keys[next++] ?? '';
          const session = this.registry.get(key);
          const info = session && this.#info.get(session);
          if (!session || !info) continue;
          this.#opts.credentials.invalidate(info.cluster, info.edge);
          let valid: boolean;
          try {
            valid = (await authenticateEdge(this.#opts, info.token, info.cluster, info.edge)) !== undefined;
          } catch (err) {
            this.#log.warn({ err, key }, 'could not re-verify a tunnel credential; keeping the session');
            continue;
          }
          if (!valid && this.registry.get(key) === session) {
            this.#log.info({ key }, 'edge credential revoked: closing its tunnel');
            await session.close(new TunnelError(TunnelErrorCode.SessionClosed, 'edge credential revoked'));
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      this.#rechecking = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.registry.removeAllListeners();
    await this.registry.closeAll();
    this.#wss.close();
    // Signals already under way (an Edge's Closed after its agent left) finish while the hub's kcp client is still
    // open: the hub closes it next, which would fail them. Bounded, so an unreachable kcp cannot hold the shutdown.
    const bounded = new AbortController();
    await Promise.race([this.settled(), sleep(SETTLE_ON_STOP_MS, bounded.signal).catch(() => {})]);
    bounded.abort();
  }

  #inOrder(key: string, fn: () => Promise<void>): void {
    const tail = (this.#chains.get(key) ?? Promise.resolve()).then(fn);
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
  }

  /** Resolves once every tunnel signal emitted so far was applied (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
  }

  async #onConnect(key: string, session: TunnelSession): Promise<void> {
    const info = this.#info.get(session);
    if (info) {
      const url = edgesProxyURL(this.#opts.hubURL, info.cluster, info.edge, info.type);
      await this.#opts.admin
        .forCluster(info.cluster)
        .patch(`${edgeObjectPath(info.edge)}/status`, { status: { URL: url } }, 'merge')
        .catch((err: unknown) => this.#log.warn({ err, key }, 'could not set Edge status.URL'));
    }
    await this.#signal(key, 'Opened');
  }

  async #signal(key: string, type: 'Opened' | 'Closed'): Promise<void> {
    const parts = splitKey(key);
    if (parts === undefined) return;
    try {
      await this.#opts.tunnelEvent(parts.cluster, parts.name, type, true);
    } catch (err) {
      this.#log.warn({ err, key, type }, 'could not report the tunnel state to the Edge lifecycle');
    }
  }
}
