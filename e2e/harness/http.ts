// Small HTTP helpers for suites: requests to the hub with its CA, and `eventually` for asynchronous outcomes.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

export interface Reply { status: number; body: string; json<T = Record<string, unknown>>(): T }

export async function hubRequest(hubURL: string, caFile: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } });
  try {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${hubURL}${path}`, {
      method: method as 'GET', dispatcher, headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const body = await res.body.text();
    return { status: res.statusCode, body, json: <T>() => JSON.parse(body) as T };
  } finally {
    await dispatcher.close();
  }
}

export async function eventually<T>(fn: () => Promise<T>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what}: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 300));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
