// GET /readyz: the hub is ready when bootstrap finished and every readiness check passes (kcp answers). A check is
// bounded by a timeout and its result is shared with concurrent probes and cached briefly, so a flood of probes
// costs the checked dependency at most one request per cache period. Failures answer 503 naming the check, the way
// kube does (`[-]kcp failed: …`).
import type { ServerResponse } from 'node:http';
import { sendStatus } from './status.ts';
import { HubErrorCode } from '../errors.ts';

export interface ReadinessCheck {
  name: string;
  /** Resolves when healthy; rejects with a user-facing reason (no URLs, no credentials) otherwise. */
  run(signal: AbortSignal): Promise<void>;
}

export interface CachedCheck {
  name: string;
  /** undefined when healthy, else why not. */
  failure(): Promise<string | undefined>;
}

export const READYZ_CHECK_TIMEOUT_MS = 2_000;
export const READYZ_CACHE_MS = 1_000;

export function cachedCheck(
  check: ReadinessCheck,
  opts: { timeoutMs?: number; cacheMs?: number; now?: () => number } = {},
): CachedCheck {
  const timeoutMs = opts.timeoutMs ?? READYZ_CHECK_TIMEOUT_MS;
  const cacheMs = opts.cacheMs ?? READYZ_CACHE_MS;
  const now = opts.now ?? Date.now;
  let last: { at: number; failure: string | undefined } | undefined;
  let inFlight: Promise<string | undefined> | undefined;

  async function runOnce(): Promise<string | undefined> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The race, not only the signal, bounds the check: a check that ignores its signal still cannot hang readyz.
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error('timeout'));
        resolve(`no answer within ${timeoutMs} ms`);
      }, timeoutMs);
    });
    try {
      return await Promise.race([
        check.run(abort.signal).then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    name: check.name,
    failure() {
      if (last && now() - last.at < cacheMs) return Promise.resolve(last.failure);
      inFlight ??= runOnce().then((failure) => {
        last = { at: now(), failure };
        inFlight = undefined;
        return failure;
      });
      return inFlight;
    },
  };
}

/** Answers /readyz: 200 `ok`, or 503 Status JSON whose message lists the failing checks. */
export async function answerReadyz(
  res: ServerResponse,
  bootstrapped: boolean,
  checks: readonly CachedCheck[],
): Promise<void> {
  if (!bootstrapped)
    return sendStatus(res, 503, 'not ready: [-]bootstrap failed: not finished yet', {
      headers: { 'Retry-After': '2' },
      kedgeCode: HubErrorCode.NotReady,
    });
  const failures = await Promise.all(checks.map(async (c) => ({ name: c.name, failure: await c.failure() })));
  const failed = failures.filter((f) => f.failure !== undefined);
  if (failed.length > 0) {
    return sendStatus(res, 503, `not ready: ${failed.map((f) => `[-]${f.name} failed: ${f.failure}`).join('; ')}`, {
      headers: { 'Retry-After': '2' },
      kedgeCode: HubErrorCode.NotReady,
    });
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('ok');
}
