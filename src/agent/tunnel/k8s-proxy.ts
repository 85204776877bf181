// The agent end of `k8s` tunnel streams (docs/agent-protocol.md §5): a byte relay between each tunnel stream and one
// connection of its own to the local kube-apiserver. The agent reads only request heads (src/kube/http1-framing.ts):
// each is rewritten to authenticate with the agent's own credentials but act AS THE CALLER — the identity the hub
// authenticated (the `kedge-identity` header) becomes Impersonate-User/-Group/-Uid (edge-impersonation.ts;
// docs/agent-protocol.md "Identity on the edge") — and the caller's own Authorization/Impersonate-*/X-Remote-* are
// dropped. Request bodies and every response byte pass through unparsed, so keep-alive, watches, `logs -f`, and
// upgrades (exec, attach, port-forward over SPDY or WebSocket: raw bytes both ways after the request) need nothing
// more. A request without a valid identity is refused (403) and never reaches the API server.
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { EDGE_IDENTITY_HEADER } from '../../api/edge-identity.ts';
import { HOP_BY_HOP_HEADERS, connectionListed } from '../../kube/http-headers.ts';
import { ChunkedBodyScanner, parseRequestHead, type RequestHead } from '../../kube/http1-framing.ts';
import { rawStatusResponse, statusBody } from '../../kube/status.ts';
import { AgentErrorCode } from '../errors.ts';
import type { LocalTarget } from '../local-cluster.ts';
import { impersonationFor, impersonationHeaders, type Impersonation } from './edge-impersonation.ts';

/** Headers that carry the caller's identity; never forwarded (hop-by-hop ones never are either). */
const IDENTITY = /^(authorization|proxy-authorization|proxy-authenticate|impersonate-.*|x-remote-.*|kedge-identity)$/i;
/** Hop-by-hop headers dropped from a relayed head. Transfer-Encoding stays: the body is relayed as it was framed. */
const DROPPED = new Set([...HOP_BY_HOP_HEADERS].filter((h) => h !== 'transfer-encoding'));

/**
 * The request headers sent to the local API server, from the head the hub sent. Identity headers and hop-by-hop
 * headers (plus any the caller's Connection lists) are dropped; the body's framing (Content-Length or
 * Transfer-Encoding) is kept, since its bytes are relayed unchanged. Connection is set again from what the head
 * asked for: `Upgrade` (with the caller's Upgrade) for a protocol switch, `close` when the hub will send nothing more.
 * Host and Authorization are the agent's, then the Impersonate-* headers for the caller.
 */
export function forwardHeaders(
  headers: readonly (readonly [string, string])[],
  opts: {
    host: string;
    authorization?: string;
    upgrade: boolean;
    close?: boolean;
    impersonate?: [string, string][];
  },
): [string, string][] {
  const listed = connectionListed(headers.filter(([k]) => k.toLowerCase() === 'connection').map(([, v]) => v));
  const out: [string, string][] = [['Host', opts.host]];
  let upgrade: string | undefined;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'upgrade') upgrade ??= value;
    if (IDENTITY.test(lower) || DROPPED.has(lower) || listed.has(lower)) continue;
    out.push([name, value]);
  }
  if (opts.upgrade) {
    out.push(['Connection', 'Upgrade']);
    if (upgrade !== undefined) out.push(['Upgrade', upgrade]);
  } else if (opts.close === true) out.push(['Connection', 'close']);
  if (opts.authorization !== undefined) out.push(['Authorization', opts.authorization]);
  if (opts.impersonate !== undefined) out.push(...opts.impersonate);
  return out;
}

export interface K8sProxyStats {
  requests: number;
  upgrades: number;
  upstreamErrors: number;
  /** Requests and upgrades refused for want of a valid identity from the hub. */
  refused: number;
  /** Streams whose bytes were not a well-formed HTTP/1.1 request (answered 400 or 431 and closed). */
  malformed: number;
}

export class K8sProxy {
  readonly stats: K8sProxyStats = { requests: 0, upgrades: 0, upstreamErrors: 0, refused: 0, malformed: 0 };
  readonly target: LocalTarget;
  readonly log: Logger;
  readonly #open = new Set<StreamRelay>();
  /** The last TLS session the API server handed out: new upstream connections resume it (no full handshake). */
  #tlsSession: Buffer | undefined;

  constructor(target: LocalTarget, logger: Logger) {
    this.target = target;
    this.log = logger.child({ component: 'k8s-proxy' });
  }

  /** Relays the HTTP exchanges carried by `stream` (a tunnel stream with header {kind:'k8s'}) until it ends. */
  handle(stream: Duplex): void {
    const relay = new StreamRelay(this, stream);
    this.#open.add(relay);
    stream.once('close', () => this.#open.delete(relay));
  }

  /** Tunnel streams being relayed. */
  get openStreams(): number {
    return this.#open.size;
  }

  /** Connections to the local API server (one per stream that has carried a request). */
  get upstreamConnections(): number {
    let n = 0;
    for (const r of this.#open) if (r.connected) n++;
    return n;
  }

  close(): void {
    for (const r of this.#open) r.destroy();
    this.#open.clear();
  }

  /** A new connection to the local API server, TCP_NODELAY, TLS resumed when a session is known. */
  connectUpstream(): Socket {
    const t = this.target;
    const host = t.url.hostname.replace(/^\[|\]$/g, '');
    const https = t.url.protocol === 'https:';
    const port = Number(t.url.port || (https ? 443 : 80));
    if (!https) return netConnect({ host, port, noDelay: true });
    const socket = tlsConnect({
      host,
      port,
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      rejectUnauthorized: t.rejectUnauthorized,
      servername: t.servername ?? (isIP(host) ? undefined : host),
      session: this.#tlsSession,
    });
    socket.setNoDelay(true);
    socket.on('session', (s: Buffer) => (this.#tlsSession = s));
    return socket;
  }

  /** The agent's own `Authorization` for the API server, asked for per request (a plugin may have refreshed it). */
  async credential(): Promise<string | undefined> {
    try {
      return await this.target.authorization();
    } catch (err) {
      this.log.warn({ err }, "the local cluster's credential is not available");
      throw err;
    }
  }

  /** The upstream request-target for the hub's: the kubeconfig server's path prefix, if any, goes first. */
  upstreamTarget(target: string): string {
    return this.target.url.pathname.replace(/\/+$/, '') + target;
  }

  /** Counts and logs a refusal; its Status body. */
  refusal(reason: string, what: 'request' | 'upgrade'): string {
    this.stats.refused++;
    this.log.warn({ reason }, `k8s ${what} without a valid identity refused`);
    return statusBody(403, `${reason}: the edge agent acts only as a caller the hub authenticated`, {
      kedgeCode: AgentErrorCode.EdgeIdentityInvalid,
    });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * One tunnel stream and its connection to the API server. Reads request heads and finds where each body ends (so the
 * next head is found), writes the rewritten head and the body bytes upstream, and pipes every upstream byte back.
 * The hub sends its next request on a stream only after the previous response ended (it never pipelines), so an
 * answer of the agent's own (403, 502, 400) never lands inside a relayed response; it closes the stream anyway.
 */
class StreamRelay {
  readonly #proxy: K8sProxy;
  readonly #stream: Duplex;
  #upstream: Socket | undefined;
  /** Bytes from the hub not yet handled. */
  #pending: Buffer = EMPTY;
  #state: 'head' | 'length' | 'chunked' | 'raw' | 'busy' | 'done' = 'head';
  #remaining = 0;
  #chunks: ChunkedBodyScanner | undefined;
  /** The hub ended its side (FIN). */
  #ended = false;
  /** upstream.bytesRead when the last head went out: unchanged means its response has not started. */
  #readAtRequest = -1;
  /** Upstream bytes read in this turn of the event loop, sent to the hub together (#flush). */
  #out: Buffer[] = [];

  constructor(proxy: K8sProxy, stream: Duplex) {
    this.#proxy = proxy;
    this.#stream = stream;
    stream.on('data', (b: Buffer) => {
      if (this.#state === 'done') return;
      this.#pending = this.#pending.length === 0 ? b : Buffer.concat([this.#pending, b]);
      this.#pump();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#pump();
    });
    stream.on('error', () => {}); // resets by the hub are normal (the caller went away)
    stream.once('close', () => this.#upstream?.destroy());
  }

  get connected(): boolean {
    return this.#upstream !== undefined && !this.#upstream.destroyed;
  }

  destroy(): void {
    this.#state = 'done';
    this.#upstream?.destroy();
    this.#stream.destroy();
  }

  /** Handles pending bytes until it must wait: for more bytes, for the credential, or for upstream to drain. */
  #pump(): void {
    while (this.#state !== 'busy' && this.#state !== 'done') {
      if (this.#pending.length === 0) {
        if (this.#ended) this.#finish();
        return;
      }
      if (this.#state === 'head') {
        const r = parseRequestHead(this.#pending);
        if (!r.ok) {
          if (r.incomplete) {
            if (this.#ended) this.#finish(); // a partial head and then FIN: nothing to answer
            return;
          }
          this.#proxy.stats.malformed++;
          this.#proxy.log.debug({ reason: r.reason }, 'malformed request on a k8s stream');
          return this.#answer(r.status, statusBody(r.status, r.reason));
        }
        this.#pending = this.#pending.subarray(r.head.size);
        this.#state = 'busy';
        this.#stream.pause();
        void this.#forward(r.head);
        return;
      }
      let body: Buffer;
      if (this.#state === 'raw') {
        body = this.#pending;
      } else if (this.#state === 'length') {
        body = this.#pending.subarray(0, this.#remaining);
        this.#remaining -= body.length;
        if (this.#remaining === 0) this.#state = 'head';
      } else {
        const end = (this.#chunks as ChunkedBodyScanner).scan(this.#pending);
        if (end instanceof Error) {
          this.#proxy.stats.malformed++;
          return this.destroy(); // part of this request is upstream already: nothing sane to answer
        }
        body = end < 0 ? this.#pending : this.#pending.subarray(0, end);
        if (end >= 0) this.#state = 'head';
      }
      this.#pending = this.#pending.subarray(body.length);
      if (this.#upstream !== undefined && !this.#upstream.write(body)) {
        this.#stream.pause();
        this.#upstream.once('drain', () => {
          if (this.#state !== 'busy') this.#stream.resume();
        });
      }
    }
  }

  /** Checks the caller's identity, asks for the agent's credential, then sends the rewritten head upstream. */
  async #forward(head: RequestHead): Promise<void> {
    const proxy = this.#proxy;
    const what = head.upgrade ? 'upgrade' : 'request';
    const identity = head.headers.find(([k]) => k.toLowerCase() === EDGE_IDENTITY_HEADER)?.[1];
    const imp: Impersonation = impersonationFor(identity);
    if (!imp.ok) return this.#answer(403, proxy.refusal(imp.reason, what));
    let authorization: string | undefined;
    try {
      authorization = await proxy.credential();
    } catch {
      return this.#answer(502, unreachableBody('the edge agent has no credential for its local Kubernetes API server'));
    }
    if (this.#state === 'done') return; // the stream closed meanwhile
    if (head.upgrade) proxy.stats.upgrades++;
    else proxy.stats.requests++;
    const lines = forwardHeaders(head.headers, {
      host: proxy.target.url.host,
      authorization,
      upgrade: head.upgrade,
      close: head.close,
      impersonate: impersonationHeaders(imp),
    });
    let out = `${head.method} ${proxy.upstreamTarget(head.target)} HTTP/1.1\r\n`;
    for (const [k, v] of lines) out += `${k}: ${v}\r\n`;
    const upstream = this.#upstream ?? this.#connect();
    this.#readAtRequest = upstream.bytesRead;
    upstream.write(`${out}\r\n`);
    if (head.upgrade) this.#state = 'raw';
    else if (head.body.kind === 'length') {
      this.#state = 'length';
      this.#remaining = head.body.length;
    } else if (head.body.kind === 'chunked') {
      this.#state = 'chunked';
      this.#chunks ??= new ChunkedBodyScanner();
    } else this.#state = 'head';
    this.#stream.resume();
    this.#pump();
  }

  #connect(): Socket {
    const upstream = this.#proxy.connectUpstream();
    this.#upstream = upstream;
    upstream.on('data', (b: Buffer) => {
      this.#out.push(b);
      if (this.#out.length === 1) setImmediate(() => this.#flush());
    });
    this.#stream.on('drain', () => upstream.resume());
    // The API server closed (it said Connection: close, or went away): FIN to the hub, which drops the stream.
    upstream.on('end', () => {
      this.#state = 'done';
      this.#flush();
      this.#stream.end();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#state === 'done') return;
      if (upstream.bytesRead === this.#readAtRequest) {
        // No byte of the answer yet: the hub gets a Status it can show the caller.
        this.#proxy.stats.upstreamErrors++;
        this.#proxy.log.warn({ err }, 'local API server unreachable');
        return this.#answer(502, unreachableBody('the edge agent cannot reach its local Kubernetes API server'));
      }
      this.#proxy.log.debug({ err }, 'connection to the local API server broke');
      this.destroy();
    });
    upstream.on('close', () => {
      if (this.#state !== 'done') this.destroy();
    });
    return upstream;
  }

  /**
   * Sends what the API server wrote since the last flush as one tunnel message. Its answers arrive in several TLS
   * records (the head and body of a GET in two or three); one message each would cost the hub a WebSocket frame,
   * a yamux frame and a TLS read per record.
   */
  #flush(): void {
    if (this.#out.length === 0) return;
    const chunk = this.#out.length === 1 ? (this.#out[0] as Buffer) : Buffer.concat(this.#out);
    this.#out = [];
    if (!this.#stream.destroyed && !this.#stream.write(chunk)) this.#upstream?.pause();
  }

  /** The hub ended its side and everything it sent is handled: end ours towards the API server. */
  #finish(): void {
    if (this.#upstream === undefined || this.#upstream.destroyed) {
      this.#state = 'done';
      this.#stream.end();
      return;
    }
    this.#upstream.end(); // the API server answers what it has and closes: 'end' above ends the stream
  }

  /** An answer of the agent's own, then FIN: the stream carries nothing after it. */
  #answer(code: number, body: string): void {
    this.#state = 'done';
    this.#upstream?.destroy();
    if (this.#stream.writable) this.#stream.end(rawStatusResponse(code, body));
    else this.#stream.destroy();
  }
}

function unreachableBody(message: string): string {
  return statusBody(502, message, { reason: 'ServiceUnavailable' });
}

function isIP(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
