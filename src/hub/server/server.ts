// The hub's single HTTPS listener and its route table (docs/kcp.md, docs/agent-protocol.md). Paths are checked for unsafe forms before
// routing; every error is a Kubernetes Status JSON without internal detail.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import { unsafePathReason } from './paths.ts';
import { answerReadyz, type CachedCheck } from './readyz.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus, writeSocketStatus } from './status.ts';
import { LOGIN_CONFIG_PATH } from '../../api/login-config.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> | void;

/** Node's own default, stated so the 431 reply can name it. Total size of the request line and headers. */
export const MAX_HEADER_BYTES = 16 * 1024;

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
): Server {
  const server = createServer({ cert: tls.cert, key: tls.key, maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const route = routeName(req.url ?? '/');
    res.on('finish', () => metrics.httpRequests.inc({ route, code: String(res.statusCode) }));
    Promise.resolve(dispatch(req, res, route)).catch((err: unknown) => {
      log.error({ err, route }, 'request failed');
      sendStatus(res, 500, 'internal error');
    });
  });
  // Requests Node's parser refuses (headers too large, malformed) get a Status body too, not Node's bare reply.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const [code, message] = clientErrorReply(err.code);
    metrics.httpRequests.inc({ route: 'client-error', code: String(code) });
    writeSocketStatus(socket, code, message);
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // watches are long-lived
  // Upgrades (the agent tunnel, exec/attach/port-forward through the edges-proxy); everything else refuses them.
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

function plain(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}
