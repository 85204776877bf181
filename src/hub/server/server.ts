// The hub's single HTTPS listener and its route table (SPEC §7). Paths are checked for unsafe forms before
// routing; every error is a Kubernetes Status JSON without internal detail.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import { unsafePathReason } from './paths.ts';
import { sendStatus } from './status.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface Routes {
  isReady(): boolean;
  tokenLogin: Handler;
  tokenReview: Handler;
  kcpProxy: Handler;
}

export function createHubServer(tls: { cert: Buffer; key: Buffer }, routes: Routes, metrics: HubMetrics, log: Logger): Server {
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const route = routeName(req.url ?? '/');
    res.on('finish', () => metrics.httpRequests.inc({ route, code: String(res.statusCode) }));
    Promise.resolve(dispatch(req, res, route)).catch((err: unknown) => {
      log.error({ err, route }, 'request failed');
      sendStatus(res, 500, 'internal error');
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // watches are long-lived
  return server;

  function dispatch(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> | void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const bad = unsafePathReason(path);
    if (bad) return sendStatus(res, 400, `malformed path: ${bad}`);
    switch (route) {
      case 'healthz':
        return plain(res, 200, 'ok');
      case 'readyz':
        return routes.isReady() ? plain(res, 200, 'ok') : plain(res, 503, 'bootstrap not finished');
      case 'metrics':
        return metrics.registry.metrics().then((body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        });
      case 'token-login':
        return ready(res) ? routes.tokenLogin(req, res) : undefined;
      case 'tokenreview':
        return routes.tokenReview(req, res);
      case 'clusters':
        return ready(res) ? routes.kcpProxy(req, res) : undefined;
      default:
        return sendStatus(res, 404, 'not found');
    }
  }

  function ready(res: ServerResponse): boolean {
    if (routes.isReady()) return true;
    sendStatus(res, 503, 'the hub is starting; try again shortly', { 'Retry-After': '2' });
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
  if (path === '/authn/tokenreview') return 'tokenreview';
  if (path.startsWith('/clusters/')) return 'clusters';
  return 'other';
}

function plain(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}
