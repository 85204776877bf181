// Waiting, written once: `sleep`, `poll` (until a value arrives, with a deadline) and `retry` (until an attempt
// succeeds, with backoff). Every wait and retry loop in Kedge uses these; the clock is injectable for tests.
import { backoffDelay, backoffPolicy, type BackoffPolicy } from './backoff.ts';
import { realClock, sleep as sleepOn, type Clock } from './clock.ts';

export interface PollOptions {
  what: string;
  /** Give up after this long; `Infinity` polls until `signal` aborts. */
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/** Thrown inside a poll function to stop polling at once; `poll` rethrows its cause. */
export class StopPolling extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepOn(realClock, ms, signal);
}

/**
 * Calls `fn` until it returns a value other than undefined or false; throws naming `what` on timeout. Errors from
 * `fn` count as "not yet", except `StopPolling`, which ends the poll with its cause. (`false` is "not yet" too, so
 * `poll(async () => done(), …)` waits for a condition instead of returning at once.)
 */
export async function poll<T>(fn: () => Promise<T | undefined | false>, opts: PollOptions): Promise<Exclude<T, false>> {
  const clock = opts.clock ?? realClock;
  const deadline = clock.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, false>;
      lastError = undefined;
    } catch (err) {
      if (err instanceof StopPolling) throw err.cause;
      lastError = err;
    }
    if (clock.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`, { cause: lastError });
    }
    await sleepOn(clock, opts.intervalMs ?? 250, opts.signal);
  }
}

export interface RetryOptions {
  /** Most attempts in all (default: no limit; then only `retryIf` or `signal` end the loop). */
  attempts?: number;
  /** Overrides of the default policy (800 ms doubling to 30 s, 50 % jitter); `{ initialMs: 0 }` retries at once. */
  backoff?: Partial<BackoffPolicy>;
  /** Whether a failure is worth another attempt (default: every failure). */
  retryIf?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log the failure once per attempt. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  clock?: Clock;
  random?: () => number;
}

/**
 * Runs `fn(attempt)` (1-based) until it resolves. A failure that `retryIf` rejects, the last allowed attempt's
 * failure, or any failure after `signal` aborted is thrown as it is; otherwise waits with backoff and tries again.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = backoffPolicy(opts.backoff);
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted || attempt >= (opts.attempts ?? Infinity) || !(opts.retryIf?.(err) ?? true)) throw err;
      const delayMs = backoffDelay(attempt, policy, random);
      opts.onRetry?.(err, attempt, delayMs);
      if (delayMs > 0) await sleepOn(clock, delayMs, opts.signal);
    }
  }
}
