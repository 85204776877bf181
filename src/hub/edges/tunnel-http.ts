// One HTTP/1.1 exchange per tunnel stream (docs/agent-protocol.md §5): the hub opens a `{kind:'k8s'}` stream and
// speaks HTTP over it as if it were a TCP connection to the agent's local API proxy. Plain requests stream both ways
// (watch, logs -f); upgrades (exec, attach, port-forward over SPDY or WebSocket) become raw byte pipes after the 101.
import { request as httpRequest, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { StreamKind, type TunnelSession } from '../../tunnel/index.ts';
import { sendStatus } from '../server/status.ts';
import { writeSocketStatus } from './socket-reply.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** Request headers for the edge: the caller's credentials and asserted identities never cross the tunnel. */
export function edgeRequestHeaders(h: IncomingHttpHeaders, upgrade: string | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'authorization' || k === 'cookie') continue;
    if (k.startsWith('impersonate-') || k.startsWith('x-remote-') || k.startsWith('proxy-')) continue;
    out[k] = v;
  }
  out.host = 'kubernetes';
  if (upgrade !== undefined) {
    out.connection = 'Upgrade';
    out.upgrade = upgrade;
  } else {
    out.connection = 'close';
  }
  return out;
}

function responseHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Forwards a plain request; `path` is the edge-side path with its query. */
export function forwardRequest(session: TunnelSession, req: IncomingMessage, res: ServerResponse, path: string, log: Logger): void {
  const up = httpRequest({
    createConnection: streamConnection(session),
    method: req.method,
    path,
    headers: edgeRequestHeaders(req.headers, undefined),
  });
  up.on('response', (edgeRes) => {
    res.writeHead(edgeRes.statusCode ?? 502, responseHeaders(edgeRes.headers));
    res.flushHeaders(); // watches: headers before the first event
    edgeRes.pipe(res);
    edgeRes.on('error', () => res.destroy());
    edgeRes.on('aborted', () => res.destroy());
  });
  up.on('error', (err) => {
    log.debug({ err: err.message }, 'edge request failed');
    if (!res.headersSent) sendStatus(res, 502, 'the edge did not answer');
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** Forwards an upgrade request arriving on `socket` (the server's 'upgrade' event, `head` already read). */
export function forwardUpgrade(session: TunnelSession, req: IncomingMessage, socket: Duplex, head: Buffer, path: string, log: Logger): void {
  const upgrade = typeof req.headers.upgrade === 'string' ? req.headers.upgrade : 'websocket';
  const up = httpRequest({
    createConnection: streamConnection(session),
    method: req.method,
    path,
    headers: edgeRequestHeaders(req.headers, upgrade),
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
    log.debug({ err: err.message }, 'edge upgrade failed');
    writeSocketStatus(socket, 502, 'the edge did not answer');
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
  up.end();
}

type Oncreate = (err: Error | null, socket: Duplex) => void;

/** `createConnection` in its callback form: a new `k8s` stream on the session is the request's connection. */
function streamConnection(session: TunnelSession): (opts: unknown, oncreate: Oncreate) => undefined {
  return (_opts, oncreate) => {
    session.openStream({ kind: StreamKind.K8s }).then(
      (stream) => oncreate(null, stream),
      (err: unknown) => oncreate(err instanceof Error ? err : new Error(String(err)), undefined as unknown as Duplex),
    );
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
    if (closeDelimited && (lk === 'connection' || lk === 'transfer-encoding' || lk === 'content-length' || lk === 'keep-alive')) continue;
    if (/[\r\n]/.test(k) || /[\r\n]/.test(raw[i + 1] ?? '')) continue;
    out += `${k}: ${raw[i + 1] ?? ''}\r\n`;
  }
  if (closeDelimited) out += 'Connection: close\r\n';
  return `${out}\r\n`;
}
