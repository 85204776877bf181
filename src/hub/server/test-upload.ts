// Test support (unit and e2e): a request with a body of N bytes streamed with backpressure, or headers of any size,
// that resolves with the answer as soon as it is complete, even when the server answers mid-upload.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface UploadReply {
  status: number;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface UploadOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Body bytes (spaces), sent as `content-type: application/json`. */
  size?: number;
  /** Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** CA for an https URL. */
  ca?: Buffer;
}

export function upload(url: string, opts: UploadOptions): Promise<UploadReply> {
  const u = new URL(url);
  const size = opts.size ?? 0;
  const headers = {
    ...(size > 0
      ? { 'content-type': 'application/json', ...(opts.chunked ? {} : { 'content-length': String(size) }) }
      : {}),
    ...opts.headers,
  };
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        method: opts.method ?? 'POST',
        path: opts.path,
        headers,
        ...(opts.ca ? { ca: opts.ca } : {}),
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
