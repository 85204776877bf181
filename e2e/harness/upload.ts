// Large or odd requests to the hub for limit tests: a body of N bytes streamed with backpressure, or headers of
// any size. Resolves with the answer as soon as it is complete, even when the hub answers mid-upload.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { Reply } from './http.ts';

export function uploadToHub(
  hubURL: string,
  caFile: string,
  opts: {
    method?: string;
    path: string;
    token?: string;
    headers?: Record<string, string>;
    size?: number;
    chunked?: boolean;
  },
): Promise<Reply> {
  const u = new URL(hubURL);
  const size = opts.size ?? 0;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (size > 0) {
    headers['content-type'] ??= 'application/json';
    if (!opts.chunked) headers['content-length'] = String(size);
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpsRequest(
      {
        hostname: u.hostname,
        port: u.port,
        method: opts.method ?? 'POST',
        path: opts.path,
        headers,
        ca: readFileSync(caFile),
        agent: false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
          req.destroy(); // the answer is in: stop uploading
        });
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !req.destroyed) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}
