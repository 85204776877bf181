// The agent end of `k8s` tunnel streams (docs/agent-protocol.md §5): a never-listening http.Server parses the
// keep-alive HTTP/1.1 exchanges on each stream (the hub pools streams; it closes idle ones, the agent never does) and
// forwards each to the local kube-apiserver. It authenticates there with the agent's own credentials but acts AS THE
// CALLER: the identity the hub authenticated (the `kedge-identity` header) becomes Impersonate-User/-Group/-Uid
// (edge-impersonation.ts; docs/agent-protocol.md "Identity on the edge"), so the edge's RBAC decides what the caller
// may do. A request without a valid identity is refused (403) and never reaches the API server; the caller's own
// Authorization/Impersonate-*/X-Remote-* are dropped. Bodies stream both ways (watch, logs -f); upgrades
// (exec, attach, port-forward; SPDY and WebSocket) become a raw byte pipe after the request is re-sent upstream.
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { EDGE_IDENTITY_HEADER } from '../../api/edge-identity.ts';
import { HOP_BY_HOP_HEADERS, connectionListed } from '../../kube/http-headers.ts';
import { rawStatusResponse, statusBody } from '../../kube/status.ts';
import { AgentErrorCode } from '../errors.ts';
import type { LocalTarget } from '../local-cluster.ts';
import { impersonationFor, impersonationHeaders, type Impersonation } from './edge-impersonation.ts';

/** Headers that carry the caller's identity; never forwarded (hop-by-hop ones never are either). */
const IDENTITY = /^(authorization|proxy-authorization|proxy-authenticate|impersonate-.*|x-remote-.*|kedge-identity)$/i;

/**
 * The request headers sent to the local API server, as [name, value] pairs from Node's rawHeaders. Identity headers
 * and hop-by-hop headers (plus any the caller's Connection lists) are dropped; `keepUpgrade` keeps Connection/Upgrade
 * for a protocol switch. Host and Authorization are set to the agent's, then the Impersonate-* headers for the caller.
 */
export function forwardHeaders(
  rawHeaders: readonly string[],
  opts: { host: string; authorization?: string; keepUpgrade: boolean; impersonate?: [string, string][] },
): [string, string][] {
  const listed = connectionListed(
    rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]?.toLowerCase() === 'connection'),
  );
  const out: [string, string][] = [['Host', opts.host]];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const value = rawHeaders[i + 1] ?? '';
    const lower = name.toLowerCase();
    if (IDENTITY.test(lower)) continue;
    if (opts.keepUpgrade && (lower === 'upgrade' || lower === 'connection')) continue; // re-added below, normalised
    if (HOP_BY_HOP_HEADERS.has(lower) || listed.has(lower)) continue;
    out.push([name, value]);
  }
  if (opts.keepUpgrade) {
    const upgrade = headerValue(rawHeaders, 'upgrade');
    out.push(['Connection', 'Upgrade']);
    if (upgrade !== undefined) out.push(['Upgrade', upgrade]);
  }
  if (opts.authorization !== undefined) out.push(['Authorization', opts.authorization]);
  if (opts.impersonate !== undefined) out.push(...opts.impersonate);
  return out;
}

/** Response headers passed back to the hub: hop-by-hop ones dropped (Node frames the body itself). */
export function responseHeaders(rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(name)) continue;
    const value = rawHeaders[i + 1] ?? '';
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    if (rawHeaders[i]?.toLowerCase() === name) return rawHeaders[i + 1];
  return undefined;
}

export interface K8sProxyStats {
  requests: number;
  upgrades: number;
  upstreamErrors: number;
  /** Requests and upgrades refused for want of a valid identity from the hub. */
  refused: number;
}

export class K8sProxy {
  readonly stats: K8sProxyStats = { requests: 0, upgrades: 0, upstreamErrors: 0, refused: 0 };
  readonly #target: LocalTarget;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #agent: HttpAgent;
  readonly #https: boolean;
  readonly #host: string;
  readonly #port: number;
  readonly #prefix: string;
  readonly #open = new Set<Duplex>();

  constructor(target: LocalTarget, logger: Logger) {
    this.#target = target;
    this.#log = logger.child({ component: 'k8s-proxy' });
    this.#https = target.url.protocol === 'https:';
    this.#host = target.url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(target.url.port || (this.#https ? 443 : 80));
    this.#prefix = target.url.pathname.replace(/\/+$/, '');
    this.#agent = this.#https
      ? new HttpsAgent({
          keepAlive: true,
          ca: target.ca,
          cert: target.cert,
          key: target.key,
          rejectUnauthorized: target.rejectUnauthorized,
          servername: target.servername,
        })
      : new HttpAgent({ keepAlive: true });
    // Timeouts are the hub's business (it owns the caller's request); a watch or exec may last hours.
    this.#server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 1_000 });
    // The hub may half-close after sending the request; the response must still go out.
    (this.#server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // The agent's credential is asked for per request: an exec plugin's token may have been refreshed meanwhile.
    // Until it is known the request body stays paused (nothing reads it yet).
    this.#server.on('request', (req, res) => {
      const imp = impersonationFor(req.headers[EDGE_IDENTITY_HEADER]);
      if (!imp.ok) return this.#refuse(res, imp.reason);
      this.#credential().then(
        (authorization) => this.#onRequest(req, res, authorization, imp),
        () => this.#unreachable(res, 'the edge agent has no credential for its local Kubernetes API server'),
      );
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const imp = impersonationFor(req.headers[EDGE_IDENTITY_HEADER]);
      if (!imp.ok) return this.#refuseUpgrade(socket, imp.reason);
      this.#credential().then(
        (authorization) => this.#onUpgrade(req, socket, head, authorization, imp),
        () => socket.destroy(),
      );
    });
    this.#server.on('clientError', (err, socket) => {
      this.#log.debug({ err }, 'malformed request on a k8s stream');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    });
  }

  /** Serves the HTTP exchanges carried by `stream` (a tunnel stream with header {kind:'k8s'}) until it ends. */
  handle(stream: Duplex): void {
    this.#open.add(stream);
    stream.once('close', () => this.#open.delete(stream));
    stream.on('error', () => {}); // resets by the hub are normal (caller went away); the request handler cleans up
    this.#server.emit('connection', stream);
  }

  get openStreams(): number {
    return this.#open.size;
  }

  close(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
    this.#agent.destroy();
  }

  #path(url: string | undefined): string {
    const p = url && url.startsWith('/') ? url : `/${url ?? ''}`;
    return this.#prefix + p;
  }

  async #credential(): Promise<string | undefined> {
    try {
      return await this.#target.authorization();
    } catch (err) {
      this.#log.warn({ err }, "the local cluster's credential is not available");
      throw err;
    }
  }

  #unreachable(res: ServerResponse, message: string): void {
    if (res.headersSent) return void res.destroy();
    const body = statusBody(502, message, { reason: 'ServiceUnavailable' });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** 403 without touching the API server: nobody is acted as without an identity from the hub. */
  #refuse(res: ServerResponse, reason: string): void {
    const body = this.#refusal(reason, 'request');
    res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #refuseUpgrade(socket: Duplex, reason: string): void {
    socket.end(rawStatusResponse(403, this.#refusal(reason, 'upgrade')));
  }

  /** Counts and logs a refusal; its Status body. */
  #refusal(reason: string, what: 'request' | 'upgrade'): string {
    this.stats.refused++;
    this.#log.warn({ reason }, `k8s ${what} without a valid identity refused`);
    return statusBody(403, `${reason}: the edge agent acts only as a caller the hub authenticated`, {
      kedgeCode: AgentErrorCode.EdgeIdentityInvalid,
    });
  }

  #onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string | undefined,
    imp: Impersonation & { ok: true },
  ): void {
    this.stats.requests++;
    // Keep-alive: the hub reuses the stream for its next request unless either side said `Connection: close`.
    const headers = forwardHeaders(req.rawHeaders, {
      host: this.#target.url.host,
      authorization,
      keepUpgrade: false,
      impersonate: impersonationHeaders(imp),
    });
    const request = this.#https ? httpsRequest : httpRequest;
    const up = request(
      {
        host: this.#host,
        port: this.#port,
        method: req.method,
        path: this.#path(req.url),
        headers: headers as unknown as OutgoingHttpHeaders,
        agent: this.#agent,
        setHost: false,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, responseHeaders(upRes.rawHeaders));
        upRes.pipe(res);
        // A watch's headers must reach the caller before its first event; otherwise they go with the first body bytes.
        setImmediate(() => {
          if (!res.headersSent && !res.destroyed) res.flushHeaders();
        });
        upRes.on('error', (err) => {
          this.#log.debug({ err }, 'local API server response broke');
          res.destroy(err);
        });
      },
    );
    up.on('error', (err: NodeJS.ErrnoException) => {
      this.stats.upstreamErrors++;
      this.#log.warn({ err, method: req.method }, 'local API server unreachable');
      if (res.headersSent) res.destroy(err);
      else this.#unreachable(res, 'the edge agent cannot reach its local Kubernetes API server');
    });
    // The caller (hub) went away: stop the local request too (ends a watch or logs -f on the edge).
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.on('error', () => up.destroy());
    req.pipe(up);
  }

  #onUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    authorization: string | undefined,
    imp: Impersonation & { ok: true },
  ): void {
    this.stats.upgrades++;
    const t = this.#target;
    const upstream: Socket = this.#https
      ? tlsConnect({
          host: this.#host,
          port: this.#port,
          ca: t.ca,
          cert: t.cert,
          key: t.key,
          rejectUnauthorized: t.rejectUnauthorized,
          servername: t.servername ?? (isIP(this.#host) ? undefined : this.#host),
        })
      : netConnect({ host: this.#host, port: this.#port });
    const headers = forwardHeaders(req.rawHeaders, {
      host: t.url.host,
      authorization,
      keepUpgrade: true,
      impersonate: impersonationHeaders(imp),
    });
    const head0 = `${req.method ?? 'GET'} ${this.#path(req.url)} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
    upstream.write(head0);
    if (head.length > 0) upstream.write(head);
    let done = false;
    const teardown = (why: string, err?: Error): void => {
      if (done) return;
      done = true;
      if (err !== undefined) this.#log.debug({ err, why }, 'upgraded k8s stream ended with an error');
      upstream.destroy();
      socket.destroy();
    };
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      if (upstream.bytesRead === 0 && socket.writable && !socket.writableEnded) {
        this.stats.upstreamErrors++;
        const body = statusBody(502, 'the edge agent cannot reach its local Kubernetes API server', {
          reason: 'ServiceUnavailable',
        });
        socket.end(rawStatusResponse(502, body));
        this.#log.warn({ err }, 'local API server unreachable (upgrade)');
        return;
      }
      teardown('upstream error', err);
    });
    socket.on('error', (err) => teardown('tunnel stream error', err));
    upstream.pipe(socket);
    socket.pipe(upstream);
    upstream.once('close', () => {
      if (!socket.writableEnded) socket.end();
    });
    socket.once('close', () => {
      if (!upstream.destroyed) upstream.end();
    });
  }
}

function isIP(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
