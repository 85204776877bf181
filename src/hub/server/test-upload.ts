// Test support (unit and e2e): a request with a body of N bytes streamed with backpressure, or headers of any size,
// that resolves with the answer as soon as it is complete, even when the server answers mid-upload.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Writable } from 'node:stream';

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
  /** Over one HTTP/2 connection (https only) instead of HTTP/1.1. */
  http2?: boolean;
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
  if (opts.http2) return uploadH2(u, opts, headers, size);
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
    pump(req, size);
  });
}

function uploadH2(u: URL, opts: UploadOptions, headers: Record<string, string>, size: number): Promise<UploadReply> {
  const session = connect(u.origin, opts.ca ? { ca: opts.ca } : {});
  return new Promise<UploadReply>((resolve, reject) => {
    let answered = false;
    session.on('error', reject);
    const req = session.request({ ':method': opts.method ?? 'POST', ':path': opts.path, ...headers });
    req.on('response', (head) => {
      answered = true;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: Number(head[':status']), body, json: <T>() => JSON.parse(body) as T });
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    pump(req, size);
  }).finally(() => session.destroy());
}

/** Writes `size` bytes of spaces with backpressure, then ends; stops once the request is destroyed. */
function pump(req: Writable, size: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const more = (): void => {
    while (sent < size && !req.destroyed) {
      const n = Math.min(chunk.length, size - sent);
      sent += n;
      if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', more);
    }
    if (!req.destroyed) req.end();
  };
  more();
}
