// Exponential backoff with jitter for retry loops (informer re-list/re-watch). Pure: the caller keeps the failure
// count and supplies randomness, so tests can pin the delays.

export type BackoffPolicy = {
  /** Delay after the first consecutive failure. */
  initialMs: number;
  /** Upper bound before jitter. */
  maxMs: number;
  /** Growth per further failure. */
  factor: number;
  /** Adds up to `jitter * delay` on top, spreading retries of many clients. */
  jitter: number;
};

/** client-go's reflector uses 800 ms doubling to 30 s. */
export const defaultBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** Delay before retry number `failures` (1 = first failure); 0 for `failures <= 0`. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  if (failures <= 0) return 0;
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1));
  return Math.round(base * (1 + policy.jitter * random()));
}
