// The agent's tunnel: one outbound WebSocket to …/edges/<edge>/proxy carrying a yamux client session, kept up by the
// Reconnector (1 s ×2 + jitter, cap 30 s, reset after a healthy session). Inbound `k8s` streams go to the K8sProxy;
// any other kind is reset. A 401 on the upgrade is reported (the credential may be revoked).
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { Reconnector, createWebSocketSession, webSocketOptions } from '../../tunnel/index.ts';
import type { StreamHeader, TunnelConfig, TunnelSession, TunnelStream } from '../../tunnel/index.ts';
import type { HubTLS } from '../hub-client/hub-client.ts';
import { KedgeError } from '../../api/errors.ts';

/** The agent could not open its tunnel (it retries with backoff); `status` is the hub's answer when it refused. */
export class TunnelDialError extends KedgeError<'KEDGE_AGENT_TUNNEL_DIAL'> {
  override name = 'TunnelDialError';
  /** HTTP status of a refused upgrade, if the hub answered one. */
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('KEDGE_AGENT_TUNNEL_DIAL', message, options);
    this.status = status;
  }
}

export interface TunnelClientOptions {
  /** `https://…/edges/<edge>`: `/proxy` is appended and the scheme becomes wss. */
  edgeBaseURL: string;
  token: string;
  tls: HubTLS;
  logger: Logger;
  config?: Partial<TunnelConfig>;
  onStream: (stream: TunnelStream, header: StreamHeader) => void;
  onUnauthorized?: () => void;
  /** The session is up / went down (for heartbeats and logs). */
  onConnected?: (session: TunnelSession) => void;
  onDisconnected?: () => void;
}

export function tunnelURL(edgeBaseURL: string): string {
  return `${edgeBaseURL.replace(/^http/, 'ws')}/proxy`;
}

/** Dials once: resolves with the session once the WebSocket is open; rejects on refusal, error or abort. */
export function dialTunnel(opts: TunnelClientOptions, signal: AbortSignal): Promise<TunnelSession> {
  const log = opts.logger;
  const ws = new WebSocket(tunnelURL(opts.edgeBaseURL), {
    ...webSocketOptions(opts.config),
    headers: { authorization: `Bearer ${opts.token}` },
    ca: opts.tls.ca,
    rejectUnauthorized: !opts.tls.insecureSkipTLSVerify,
    handshakeTimeout: 30_000,
    followRedirects: false,
  });
  // Created before 'open' on purpose (ts-libs §6): frames the hub sends right after the 101 must find a listener.
  const session = createWebSocketSession(ws, {
    role: 'client',
    logger: log,
    config: opts.config,
    onStream: opts.onStream,
  });
  return new Promise<TunnelSession>((resolve, reject) => {
    let settled = false;
    const fail = (err: TunnelDialError): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      void session.close();
      ws.terminate();
      reject(err);
    };
    const onAbort = (): void => fail(new TunnelDialError('dial aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(session);
    });
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      fail(new TunnelDialError(`hub refused the tunnel with HTTP ${status}`, status));
    });
    ws.once('error', (err: Error & { code?: string }) =>
      fail(new TunnelDialError(`tunnel dial failed: ${err.code ?? err.message}`, undefined, { cause: err })),
    );
  });
}

/** Starts the reconnect loop; `stop()` closes the live session and stops dialing. */
export function startTunnel(opts: TunnelClientOptions): Reconnector<TunnelSession> {
  const reconnector = new Reconnector<TunnelSession>({
    logger: opts.logger,
    dial: async (signal) => {
      try {
        return await dialTunnel(opts, signal);
      } catch (err) {
        if (err instanceof TunnelDialError && err.status === 401) opts.onUnauthorized?.();
        throw err;
      }
    },
  });
  reconnector.on('session', (s) => opts.onConnected?.(s));
  reconnector.on('disconnected', () => opts.onDisconnected?.());
  reconnector.start();
  return reconnector;
}
