// HTTP/1.1 over `{kind:'k8s'}` tunnel streams (docs/agent-protocol.md §5), each stream used as if it were a TCP
// connection to the agent's local API proxy. Plain requests go over keep-alive streams pooled per session (one
// `http.Agent` per TunnelSession), so a request costs no stream open/close; bodies stream both ways (watch, logs -f).
// Upgrades (exec, attach, port-forward over SPDY or WebSocket) get a stream of their own that becomes a raw byte pipe
// after the 101. Every request and upgrade carries the identity the hub authenticated in the `kedge-identity` header
// (src/api/edge-identity.ts); the agent impersonates it on its API server (docs/agent-protocol.md "Identity on the edge").
import {
  Agent as HttpAgent,
  request as httpRequest,
  STATUS_CODES,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { EDGE_IDENTITY_HEADER, encodeEdgeIdentity, type EdgeIdentity } from '../../api/edge-identity.ts';
import { endToEndHeaders, isHopHeader } from '../../kube/http-headers.ts';
import { StreamKind, type TunnelSession } from '../../tunnel/index.ts';
import { HubErrorCode } from '../errors.ts';
import { sendStatus, writeSocketStatus } from '../server/status.ts';

/**
 * Request headers for the edge: the caller's credentials and asserted identities (Authorization, Cookie,
 * Impersonate-*, X-Remote-*, a caller-sent kedge-identity) never cross the tunnel; the identity the hub authenticated
 * does, as the only kedge-identity header. The stream carries HTTP/1.1 whatever the caller spoke: HTTP/2
 * pseudo-headers are dropped like hop-by-hop ones.
 */
export function edgeRequestHeaders(
  h: IncomingHttpHeaders,
  upgrade: string | undefined,
  identity?: EdgeIdentity,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || isHopHeader(k) || k === 'authorization' || k === 'cookie') continue;
    if (k.startsWith('impersonate-') || k.startsWith('x-remote-') || k.startsWith('proxy-')) continue;
    if (k === EDGE_IDENTITY_HEADER) continue;
    out[k] = v;
  }
  if (identity !== undefined) out[EDGE_IDENTITY_HEADER] = encodeEdgeIdentity(identity);
  out.host = 'kubernetes';
  if (upgrade !== undefined) {
    out.connection = 'Upgrade';
    out.upgrade = upgrade;
  } else {
    out.connection = 'keep-alive';
  }
  return out;
}

/** Idle pooled streams are closed (FIN) after this long; the agent never closes an idle stream itself. */
export const IDLE_STREAM_MS = 15_000;
/** Idle streams kept per session; more are closed as their exchange ends. */
export const MAX_IDLE_STREAMS = 32;

type Oncreate = (err: Error | null, socket: Duplex) => void;

/**
 * The keep-alive pool of one session: `createConnection` opens a `k8s` stream; a stream whose exchange ended cleanly
 * (neither side said `Connection: close`) waits for the next request, for at most IDLE_STREAM_MS. Destroyed with its
 * session. Streams whose peer ended them while idle are dropped, never reused.
 */
export class StreamPool extends HttpAgent {
  readonly #session: TunnelSession;
  readonly #idleMs: number;
  readonly #idle = new Map<Duplex, NodeJS.Timeout>();

  constructor(session: TunnelSession, opts: { idleMs?: number } = {}) {
    super({ keepAlive: true, maxFreeSockets: MAX_IDLE_STREAMS, scheduling: 'lifo' });
    this.#session = session;
    this.#idleMs = opts.idleMs ?? IDLE_STREAM_MS;
    session.once('close', () => this.destroy());
  }

  /** Streams waiting for a request. */
  get idleStreams(): number {
    return this.#idle.size;
  }

  override createConnection(_opts: ClientRequestArgs, oncreate?: Oncreate): undefined {
    openK8sStream(this.#session, (err, stream) => {
      if (stream !== undefined) {
        // What http.Agent calls on a pooled socket besides the Duplex API (a stream has no event-loop handle).
        Object.assign(stream, { ref: noop, unref: noop, setKeepAlive: noop });
        stream.on('end', () => {
          if (this.#idle.has(stream)) stream.destroy(); // the agent went away from an idle stream
        });
        stream.once('close', () => this.#forget(stream));
      }
      oncreate?.(err, stream as Duplex);
    });
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    const timer = setTimeout(() => {
      this.#forget(socket);
      socket.end(); // FIN: the agent's server ends its side, the stream closes
      socket.emit('agentRemove'); // after end(): http.Agent drops a non-writable socket from its free list
    }, this.#idleMs);
    timer.unref();
    this.#idle.set(socket, timer);
    return true;
  }

  override reuseSocket(socket: Duplex, req: ClientRequest): void {
    this.#forget(socket);
    super.reuseSocket(socket, req);
  }

  override destroy(): void {
    for (const t of this.#idle.values()) clearTimeout(t);
    this.#idle.clear();
    super.destroy();
  }

  #forget(socket: Duplex): void {
    clearTimeout(this.#idle.get(socket));
    this.#idle.delete(socket);
  }
}

const pools = new WeakMap<TunnelSession, StreamPool>();

/** The session's keep-alive pool (made on first use). */
export function streamPool(session: TunnelSession): StreamPool {
  let pool = pools.get(session);
  if (pool === undefined) {
    pool = new StreamPool(session);
    pools.set(session, pool);
  }
  return pool;
}

function noop(this: Duplex): Duplex {
  return this;
}

/** Forwards a plain request; `path` is the edge-side path with its query, `identity` the caller's (see above). */
export function forwardRequest(
  session: TunnelSession,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  log: Logger,
  identity?: EdgeIdentity,
): void {
  const up = httpRequest({
    agent: streamPool(session),
    method: req.method,
    path,
    headers: edgeRequestHeaders(req.headers, undefined, identity),
  });
  up.on('response', (edgeRes) => {
    edgeRes.on('error', () => res.destroy());
    edgeRes.on('aborted', () => res.destroy());
    relayResponse(edgeRes, res, req.method === 'HEAD');
  });
  up.on('error', (err) => {
    log.debug({ err }, 'edge request failed');
    if (!res.headersSent) sendStatus(res, 502, 'the edge did not answer', { kedgeCode: HubErrorCode.EdgeNoAnswer });
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** Answers up to this size that arrive whole in one turn of the event loop are sent with their length. */
export const WHOLE_ANSWER_BYTES = 64 * 1024;

/**
 * Relays the edge's answer. One that ends before the next turn of the event loop (a GET's object, a list page, an
 * error) goes to the caller in one write with a Content-Length: on HTTP/1.1 one TLS record instead of a chunked head
 * and body and a separate last chunk, on HTTP/2 HEADERS and one DATA frame. Anything longer (a watch, `logs -f`, a
 * large list) is streamed, its headers sent at once.
 */
export function relayResponse(edgeRes: IncomingMessage, res: ServerResponse, head: boolean): void {
  const status = edgeRes.statusCode ?? 502;
  const headers = endToEndHeaders(edgeRes.headers);
  // No body may follow these: their headers go as they are.
  const bodiless = head || status === 204 || status === 304 || status < 200;
  const chunks: Buffer[] = [];
  let size = 0;
  let streaming = false;
  const stream = (): void => {
    if (streaming || edgeRes.readableEnded) return;
    streaming = true;
    edgeRes.off('data', collect);
    res.writeHead(status, headers);
    for (const c of chunks) res.write(c);
    edgeRes.pipe(res);
    flushHeadersSoon(res); // watches: headers before the first event
  };
  const collect = (b: Buffer): void => {
    chunks.push(b);
    size += b.length;
    if (size > WHOLE_ANSWER_BYTES) stream();
  };
  edgeRes.on('data', collect);
  edgeRes.once('end', () => {
    if (streaming) return;
    if (!bodiless) headers['content-length'] = String(size);
    res.writeHead(status, headers);
    res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
  setImmediate(stream);
}

/** Forwards an upgrade request arriving on `socket` (the server's 'upgrade' event, `head` already read). */
export function forwardUpgrade(
  session: TunnelSession,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  path: string,
  log: Logger,
  identity?: EdgeIdentity,
): void {
  const upgrade = typeof req.headers.upgrade === 'string' ? req.headers.upgrade : 'websocket';
  const up = httpRequest({
    createConnection: streamConnection(session),
    method: req.method,
    path,
    headers: edgeRequestHeaders(req.headers, upgrade, identity),
  });
  up.on('upgrade', (edgeRes, edgeSocket, edgeHead) => {
    socket.write(statusLine(edgeRes) + rawHeaderBlock(edgeRes.rawHeaders, false));
    if (edgeHead.length > 0) socket.write(edgeHead);
    if (head.length > 0) edgeSocket.write(head);
    edgeSocket.pipe(socket);
    socket.pipe(edgeSocket);
    const done = (): void => {
      edgeSocket.destroy();
      socket.destroy();
    };
    edgeSocket.on('error', done);
    socket.on('error', done);
    edgeSocket.on('close', () => socket.end());
    socket.on('close', () => edgeSocket.destroy());
  });
  up.on('response', (edgeRes) => {
    // The edge refused the upgrade (403, 400, …): relay its answer and close.
    socket.write(statusLine(edgeRes) + rawHeaderBlock(edgeRes.rawHeaders, true));
    edgeRes.pipe(socket);
    edgeRes.on('error', () => socket.destroy());
  });
  up.on('error', (err) => {
    log.debug({ err }, 'edge upgrade failed');
    writeSocketStatus(socket, 502, 'the edge did not answer', HubErrorCode.EdgeNoAnswer);
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
  up.end();
}

/**
 * Sends the response headers now unless body bytes already went out with them: the headers and the first body bytes
 * then share one write (one TLS record, one syscall), and a watch with no event yet still gets its headers at once.
 */
export function flushHeadersSoon(res: ServerResponse): void {
  setImmediate(() => {
    if (!res.headersSent && !res.destroyed) res.flushHeaders();
  });
}

function openK8sStream(session: TunnelSession, done: (err: Error | null, stream: Duplex | undefined) => void): void {
  session.openStream({ kind: StreamKind.K8s }).then(
    (stream) => done(null, stream),
    (err: unknown) => done(err instanceof Error ? err : new Error(String(err)), undefined),
  );
}

/** `createConnection` in its callback form, for upgrades: a stream of its own, never pooled. */
function streamConnection(session: TunnelSession): (opts: unknown, oncreate: Oncreate) => undefined {
  return (_opts, oncreate) => {
    openK8sStream(session, (err, stream) => oncreate(err, stream as Duplex));
    return undefined;
  };
}

function statusLine(res: IncomingMessage): string {
  const code = res.statusCode ?? 502;
  return `HTTP/1.1 ${code} ${res.statusMessage || STATUS_CODES[code] || ''}\r\n`;
}

/** The edge's headers as sent; for a relayed non-101 answer the framing headers give way to `Connection: close`. */
function rawHeaderBlock(raw: string[], closeDelimited: boolean): string {
  let out = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i] ?? '';
    const lk = k.toLowerCase();
    if (
      closeDelimited &&
      (lk === 'connection' || lk === 'transfer-encoding' || lk === 'content-length' || lk === 'keep-alive')
    )
      continue;
    if (/[\r\n]/.test(k) || /[\r\n]/.test(raw[i + 1] ?? '')) continue;
    out += `${k}: ${raw[i + 1] ?? ''}\r\n`;
  }
  if (closeDelimited) out += 'Connection: close\r\n';
  return `${out}\r\n`;
}
