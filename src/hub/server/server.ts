// The hub's single HTTPS listener and its route table (docs/kcp.md, docs/agent-protocol.md). ALPN offers `h2` and
// `http/1.1`: plain requests are served over either through Node's HTTP/2 compatibility API, protocol upgrades (the
// agent tunnel, exec/attach/port-forward) only over HTTP/1.1. Paths are checked for unsafe forms before routing;
// every error is a Kubernetes Status JSON without internal detail.
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import { unsafePathReason } from './paths.ts';
import { answerReadyz, type CachedCheck } from './readyz.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus, writeSocketStatus } from './status.ts';
import { LOGIN_CONFIG_PATH } from '../../api/login-config.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> | void;
export type HubServer = Http2SecureServer;

/**
 * Node's own default, stated so the 431 reply can name it. HTTP/1.1: the request line and headers as sent; HTTP/2:
 * the decoded header list, pseudo-headers included.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * HTTP/2 SETTINGS the hub advertises. 250 concurrent streams is what k8s.io/apiserver (kube-apiserver, kcp) advertises
 * while `--http2-max-streams-per-connection` is left at 0 (Go's HTTP/2 default): a client tuned against them (client-go
 * opens a stream per watch) gets the same room through the hub, and more streams wait in the client instead of costing
 * the hub memory. The header list limit is twice MAX_HEADER_BYTES: Node resets a stream over it (ENHANCE_YOUR_CALM)
 * before the hub sees it, so lists between the two still get the 431 Status HTTP/1.1 gets.
 */
export const H2_SETTINGS = { maxConcurrentStreams: 250, maxHeaderListSize: 2 * MAX_HEADER_BYTES } as const;

/**
 * An HTTP/2 connection with no open stream for this long is closed with GOAWAY: the HTTP/2 counterpart of HTTP/1.1's
 * headers timeout and keep-alive timeout (kube-apiserver's idle timeout is 90 s too). A watch is an open stream, so
 * a quiet watch never counts as idle.
 */
export const H2_IDLE_MS = 90_000;

export interface Routes {
  /** True once bootstrap finished: gates the user routes. */
  isReady(): boolean;
  /** What /readyz checks besides bootstrap (kcp reachability), each bounded and cached (readyz.ts). */
  readinessChecks?: readonly CachedCheck[];
  tokenLogin: Handler;
  /** GET /auth/config (src/hub/auth/login-config.ts): unauthenticated, served before bootstrap finished. */
  loginConfig?: Handler;
  tokenReview: Handler;
  kcpProxy: Handler;
  /** GET /auth/workspaces: the workspaces the caller may use (src/hub/tenancy/workspace-list.ts). */
  workspaces?: Handler;
  /** /services/agent-proxy/… and /services/edges-proxy/… (src/hub/edges); plain requests and upgrades. */
  agentProxy?: Handler;
  agentProxyUpgrade?: UpgradeHandler;
  edgesProxy?: Handler;
  edgesProxyUpgrade?: UpgradeHandler;
}

export function createHubServer(
  tls: { cert: Buffer; key: Buffer },
  routes: Routes,
  metrics: HubMetrics,
  log: Logger,
  opts: { h2IdleMs?: number } = {},
): HubServer {
  const server = createSecureServer(
    { cert: tls.cert, key: tls.key, allowHTTP1: true, settings: H2_SETTINGS },
    (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
      // The route handlers are written against node:http's types; HTTP/2 requests reach them through the compatibility
      // API, which has every member they use (server.test.ts runs the routes over both protocols).
      const r = req as IncomingMessage;
      const s = res as ServerResponse;
      const route = routeName(r.url ?? '/');
      s.on('finish', () => metrics.httpRequests.inc({ route, code: String(s.statusCode) }));
      if (r.httpVersionMajor === 2 && headerListBytes(r.rawHeaders) > MAX_HEADER_BYTES) {
        return sendStatus(s, ...clientErrorReply('HPE_HEADER_OVERFLOW'));
      }
      Promise.resolve(dispatch(r, s, route)).catch((err: unknown) => {
        log.error({ err, route }, 'request failed');
        sendStatus(s, 500, 'internal error');
      });
    },
  );
  // Limits of HTTP/1.1 connections: the compatibility server reads them from these properties, not from options.
  Object.assign(server, {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: 30_000,
    requestTimeout: 0, // watches are long-lived
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    metrics.connections.inc({ protocol: socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1' });
  });
  server.on('session', (session: ServerHttp2Session) => closeWhenIdle(session, opts.h2IdleMs ?? H2_IDLE_MS));
  // A broken HTTP/2 connection or stream (protocol error, reset) concerns that client only; Node already closed it.
  server.on('sessionError', (err: Error) => log.debug({ err }, 'HTTP/2 connection error'));
  // HTTP/1.1 requests Node's parser refuses (headers too large, malformed) get a Status body too, not Node's bare reply.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const [code, message] = clientErrorReply(err.code);
    metrics.httpRequests.inc({ route: 'client-error', code: String(code) });
    writeSocketStatus(socket, code, message);
  });
  // Upgrades (the agent tunnel, exec/attach/port-forward through the edges-proxy) arrive on HTTP/1.1 connections only
  // (HTTP/2 has no Upgrade; the hub does not offer RFC 8441 extended CONNECT); everything else refuses them.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const route = routeName(req.url ?? '/');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const bad = unsafePathReason(path);
    const handler =
      route === 'agent-proxy'
        ? routes.agentProxyUpgrade
        : route === 'edges-proxy'
          ? routes.edgesProxyUpgrade
          : undefined;
    metrics.httpRequests.inc({ route: `${route}-upgrade`, code: 'upgrade' });
    if (bad) return writeSocketStatus(socket, 400, `malformed path: ${bad}`);
    if (!handler) return writeSocketStatus(socket, 400, 'this path does not accept protocol upgrades');
    if (!routes.isReady())
      return writeSocketStatus(socket, 503, 'the hub is starting; try again shortly', HubErrorCode.NotReady);
    Promise.resolve(handler(req, socket, head)).catch((err: unknown) => {
      log.error({ err, route }, 'upgrade failed');
      writeSocketStatus(socket, 500, 'internal error');
    });
  });
  return server;

  function dispatch(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> | void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const bad = unsafePathReason(path);
    if (bad) return sendStatus(res, 400, `malformed path: ${bad}`);
    switch (route) {
      case 'healthz':
        return plain(res, 200, 'ok');
      case 'readyz':
        return answerReadyz(res, routes.isReady(), routes.readinessChecks ?? []);
      case 'metrics':
        return metrics.registry.metrics().then((body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        });
      case 'login-config':
        return routes.loginConfig ? routes.loginConfig(req, res) : sendStatus(res, 404, 'not found');
      case 'token-login':
        return ready(res) ? routes.tokenLogin(req, res) : undefined;
      case 'workspaces':
        if (!routes.workspaces) return sendStatus(res, 404, 'not found');
        return ready(res) ? routes.workspaces(req, res) : undefined;
      case 'tokenreview':
        return routes.tokenReview(req, res);
      case 'clusters':
        return ready(res) ? routes.kcpProxy(req, res) : undefined;
      case 'agent-proxy':
        if (!routes.agentProxy) return sendStatus(res, 404, 'not found');
        return ready(res) ? routes.agentProxy(req, res) : undefined;
      case 'edges-proxy':
        if (!routes.edgesProxy) return sendStatus(res, 404, 'not found');
        return ready(res) ? routes.edgesProxy(req, res) : undefined;
      default:
        return sendStatus(res, 404, 'not found');
    }
  }

  function ready(res: ServerResponse): boolean {
    if (routes.isReady()) return true;
    sendStatus(res, 503, 'the hub is starting; try again shortly', {
      headers: { 'Retry-After': '2' },
      kedgeCode: HubErrorCode.NotReady,
    });
    return false;
  }
}

/** A low-cardinality name for a request path, for routing and metrics. */
export function routeName(url: string): string {
  const path = url.split('?')[0] ?? '/';
  if (path === '/healthz' || path === '/livez') return 'healthz';
  if (path === '/readyz') return 'readyz';
  if (path === '/metrics') return 'metrics';
  if (path === '/auth/token-login') return 'token-login';
  if (path === '/auth/workspaces') return 'workspaces';
  if (path === LOGIN_CONFIG_PATH) return 'login-config';
  if (path === '/authn/tokenreview') return 'tokenreview';
  if (path.startsWith('/clusters/')) return 'clusters';
  if (path.startsWith('/services/agent-proxy/')) return 'agent-proxy';
  if (path.startsWith('/services/edges-proxy/')) return 'edges-proxy';
  return 'other';
}

/** The reply to a request Node's HTTP parser refused, by Node's error code. */
export function clientErrorReply(code: string | undefined): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, `the request line and headers exceed the hub's limit of ${MAX_HEADER_BYTES} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return [408, 'the request was not received in time'];
    default:
      return [400, 'malformed HTTP request'];
  }
}

/**
 * The size of an HTTP/2 request's decoded header list, as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2:
 * name and value octets plus 32 per field).
 */
export function headerListBytes(rawHeaders: readonly string[]): number {
  let n = 0;
  for (const field of rawHeaders) n += Buffer.byteLength(field);
  return n + 16 * rawHeaders.length; // rawHeaders lists name and value of each field: 32 per pair
}

/** Closes (GOAWAY) an HTTP/2 connection once it had no open stream for `idleMs`. */
function closeWhenIdle(session: ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => session.close(), idleMs);
    timer.unref();
  };
  arm();
  session.on('stream', (stream) => {
    open++;
    clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0 && !session.closed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
}

function plain(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}
