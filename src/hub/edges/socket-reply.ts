// Answers on a raw socket (HTTP upgrade requests, before or instead of a protocol switch): a Kubernetes Status JSON
// with `Connection: close`, then the socket is closed.
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { statusBody } from '../server/status.ts';

export function writeSocketStatus(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed) return;
  const body = statusBody(code, message);
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}
