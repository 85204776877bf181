// Kubernetes `Status` JSON error replies. Messages are fixed, user-facing sentences: never internal detail.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusBody } from '../../kube/status.ts';

export function sendStatus(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = statusBody(code, message);
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
export function writeSocketStatus(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed) return;
  const body = statusBody(code, message);
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}
