// Exponential backoff with jitter, the one policy for every retry loop (informer, tunnel dial, retry()). Pure: the caller keeps the failure
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

/**
 * `defaultBackoff` overridden by the fields of `partial` that are finite and not negative. An explicit `undefined`
 * (`{ maxMs: cfg.maxMs }` with the setting unset) or NaN must not win: `{ ...defaults, ...partial }` would make every
 * delay NaN, and a retry loop that sleeps only `if (delay > 0)` would then spin without ever yielding to timers.
 */
export function backoffPolicy(
  partial: Partial<BackoffPolicy> = {},
  defaults: Readonly<BackoffPolicy> = defaultBackoff,
): BackoffPolicy {
  const policy = { ...defaults };
  for (const k of Object.keys(policy) as (keyof BackoffPolicy)[]) {
    const v = partial[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) policy[k] = v;
  }
  return policy;
}

/** Delay before retry number `failures` (1 = first failure); 0 for `failures <= 0`. Never NaN. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  if (failures <= 0) return 0;
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1));
  const delay = Math.round(base * (1 + policy.jitter * random()));
  return Number.isFinite(delay) ? delay : defaultBackoff.initialMs;
}
