// Assembles the hub's edge services (docs/agent-protocol.md): the agent-proxy (join, agent API, tunnel endpoint) and
// the users' edges-proxy, sharing one credential verifier, one access reviewer and one tunnel registry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import type { TunnelConfig } from '../../tunnel/index.ts';
import type { Authenticator } from '../auth/identity.ts';
import { EdgeAccessReviewer } from './access-review.ts';
import { EdgeTenants } from './edge-tenant.ts';
import { agentProxyHandler } from './agent-proxy.ts';
import { EdgeCredentials } from './credentials.ts';
import { edgesProxyHandlers } from './edges-proxy.ts';
import { parseAgentRequest, splitURL } from './paths.ts';
import { outcomeOfStatus, type EdgeMetrics } from '../metrics.ts';
import { TunnelEndpoint, type TunnelEventFn } from './tunnel-endpoint.ts';
import { SshRelay } from './ssh-relay.ts';
import { auditEvent, auditFields, type SshSessionRecord } from './ssh-audit.ts';
import { edgeObjectPath, type EdgeObject } from './agent-proxy.ts';
import { writeSocketStatus } from '../server/status.ts';

export interface EdgeServiceOptions {
  /** Admin client on the bare kcp URL. */
  admin: KubeClient;
  authn: Authenticator;
  /** The hub's external URL, as agents and users reach it. */
  hubURL: string;
  tunnelEvent: TunnelEventFn;
  tunnelConfig?: Partial<TunnelConfig>;
  recheckIntervalMs?: number;
  /** WebSocket ping interval of SSH sessions (default SSH_KEEPALIVE_MS). */
  sshKeepAliveMs?: number;
  log: Logger;
  /** Tunnel sessions and proxy outcomes are counted here (src/hub/metrics.ts). */
  metrics?: EdgeMetrics;
}

export interface EdgeService {
  agentProxy(req: IncomingMessage, res: ServerResponse): Promise<void>;
  agentProxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  edgesProxy(req: IncomingMessage, res: ServerResponse): Promise<void>;
  edgesProxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  readonly tunnels: TunnelEndpoint;
  readonly credentials: EdgeCredentials;
  readonly reviewer: EdgeAccessReviewer;
  readonly ssh: SshRelay;
  stop(): Promise<void>;
}

export function createEdgeService(opts: EdgeServiceOptions): EdgeService {
  const hubURL = opts.hubURL.replace(/\/+$/, '');
  const credentials = new EdgeCredentials(opts.admin, opts.log.child({ component: 'edge-credentials' }));
  const reviewer = new EdgeAccessReviewer(opts.admin);
  const deps = {
    admin: opts.admin,
    credentials,
    hubURL,
    log: opts.log.child({ component: 'agent-proxy' }),
    metrics: opts.metrics,
  };
  const tunnels = new TunnelEndpoint({
    ...deps,
    log: opts.log, // the endpoint names its own component
    tunnelEvent: opts.tunnelEvent,
    ...(opts.tunnelConfig ? { tunnelConfig: opts.tunnelConfig } : {}),
    ...(opts.recheckIntervalMs ? { recheckIntervalMs: opts.recheckIntervalMs } : {}),
  });
  const agent = agentProxyHandler(deps);
  const sshLog = opts.log.child({ component: 'ssh' });
  const ssh = new SshRelay({
    log: sshLog,
    ...(opts.sshKeepAliveMs ? { keepAliveMs: opts.sshKeepAliveMs } : {}),
    ...(opts.tunnelConfig?.maxMessageBytes ? { maxMessageBytes: opts.tunnelConfig.maxMessageBytes } : {}),
    onStart: () => opts.metrics?.sshStarted(),
    onEnd: (r) => {
      opts.metrics?.sshEnded(r.ended, r.bytesToEdge, r.bytesToClient);
      sshLog.info(auditFields(r), 'ssh session ended');
      void recordSshEvent(opts.admin, r, sshLog);
    },
  });
  const users = edgesProxyHandlers(
    {
      admin: opts.admin,
      authn: opts.authn,
      reviewer,
      tenants: new EdgeTenants(opts.admin),
      tunnels,
      hubOrigin: new URL(hubURL).origin,
      log: opts.log.child({ component: 'edges-proxy' }),
      metrics: opts.metrics,
    },
    {
      request: (_r, req, res) => ssh.request(req, res),
      upgrade: (r, req, socket, head) =>
        void ssh.upgrade(
          { cluster: r.request.cluster, edge: r.request.edge, user: r.user, session: r.session },
          req,
          socket,
          head,
        ),
    },
  );
  return {
    agentProxy: agent,
    async agentProxyUpgrade(req, socket, head) {
      socket.on('error', () => {});
      const parsed = parseAgentRequest(req.method ?? 'GET', splitURL(req.url ?? '/').path);
      const refuse = (code: number, message: string): void => {
        opts.metrics?.agentProxy(outcomeOfStatus(code));
        writeSocketStatus(socket, code, message);
      };
      if (!parsed.ok) return refuse(parsed.code, parsed.code === 403 ? 'Forbidden' : parsed.reason);
      if (parsed.op !== 'tunnel') return refuse(400, 'only …/proxy accepts an upgrade');
      await tunnels.handleUpgrade(req, socket, head, parsed);
    },
    edgesProxy: (req, res) => users.request(req, res),
    edgesProxyUpgrade: (req, socket, head) => users.upgrade(req, socket, head),
    tunnels,
    credentials,
    reviewer,
    ssh,
    stop: () => {
      ssh.stop();
      return tunnels.stop();
    },
  };
}

/** The session's Event on its Edge, with the hub's admin client in the tenant workspace. Best effort. */
async function recordSshEvent(admin: KubeClient, r: SshSessionRecord, log: Logger): Promise<void> {
  try {
    const c = admin.forCluster(r.cluster);
    const edge = await c.get<EdgeObject>(edgeObjectPath(r.edge));
    await c.create('/api/v1/namespaces/default/events', auditEvent(r, edge, 'kedge-hub'));
  } catch (err) {
    log.debug({ err, cluster: r.cluster, edge: r.edge }, 'recording the SSH session Event failed');
  }
}
