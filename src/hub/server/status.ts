// Kubernetes `Status` JSON error replies, each carrying a code of docs/errors.md (as its first cause). Messages are
// fixed, user-facing sentences: never internal detail.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawStatusResponse, statusBody } from '../../kube/status.ts';
import { hubCodeForStatus, type HubErrorCode } from '../errors.ts';

export interface StatusOptions {
  headers?: Record<string, string>;
  /** Defaults to the code for the HTTP status (`hubCodeForStatus`). */
  kedgeCode?: HubErrorCode;
}

export function sendStatus(res: ServerResponse, code: number, message: string, opts: StatusOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = opts.headers ?? {};
  const body = statusBody(code, message, { kedgeCode: opts.kedgeCode ?? hubCodeForStatus(code) });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendJSON(res: ServerResponse, code: number, obj: unknown): void {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers on a raw socket (an upgrade request refused before or instead of a protocol switch): the Status JSON with
 * `Connection: close`, then the socket is closed.
 */
export function writeSocketStatus(socket: Duplex, code: number, message: string, kedgeCode?: HubErrorCode): void {
  if (socket.destroyed) return;
  const body = statusBody(code, message, { kedgeCode: kedgeCode ?? hubCodeForStatus(code) });
  socket.on('error', () => {});
  socket.end(rawStatusResponse(code, body));
  // `end` only half-closes: a peer that never closes its side would keep the socket (and server.close()) alive.
  setTimeout(() => socket.destroy(), 5_000).unref();
}
