// Small HTTP helpers for suites: requests to the hub with its CA, and `eventually` for asynchronous outcomes.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { poll } from '../../src/util/wait.ts';

export interface Reply {
  status: number;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends the path byte for byte (no URL normalisation), so tests can try hostile paths. */
export function hubRequest(
  hubURL: string,
  caFile: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = new URL(hubURL);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { hostname: url.hostname, port: url.port, method, path, headers, ca: readFileSync(caFile), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Retries `fn` until it resolves (a failed assertion or request counts as "not yet"); names `what` on timeout. */
export async function eventually<T>(
  fn: () => Promise<T>,
  opts: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const box = await poll(async () => ({ value: await fn() }), {
    what: opts.what,
    timeoutMs: opts.timeoutMs ?? 30_000,
    intervalMs: opts.intervalMs ?? 300,
  });
  return box.value;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
