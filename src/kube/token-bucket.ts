// The overall token bucket of the work queue's rate limiter (client-go's BucketRateLimiter: golang.org/x/time/rate
// with Reserve().Delay()). It owns no timers: it reads the injected clock only when asked, so FakeClock tests step it.
import type { Clock } from '../util/clock.ts';

export type TokenBucketOptions = {
  /** Tokens added per second (client-go's default controller rate limiter: 10). */
  qps: number;
  /** Bucket size, i.e. how many reservations are granted at once from full (client-go: 100). */
  burst: number;
};

/** client-go's `DefaultControllerRateLimiter` bucket. */
export const defaultTokenBucket: TokenBucketOptions = { qps: 10, burst: 100 };

export class TokenBucket {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  /** May go negative: reservations beyond the tokens at hand queue up behind each other (what rate.Reserve does). */
  #tokens: number;
  #last: number;

  constructor(clock: Clock, opts: TokenBucketOptions = defaultTokenBucket) {
    this.#clock = clock;
    // A non-finite or non-positive rate would make every delay NaN or infinite; the bucket then never delays.
    this.#qps = Number.isFinite(opts.qps) && opts.qps > 0 ? opts.qps : Infinity;
    this.#burst = Math.max(1, Number.isFinite(opts.burst) ? Math.floor(opts.burst) : 1);
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  /**
   * Takes one token and returns how many ms from now it is due: 0 while the bucket has tokens, else the wait until
   * refill covers every reservation before it and this one. The token is taken either way (a reservation, not a try).
   */
  reserve(): number {
    if (this.#qps === Infinity) return 0;
    const now = this.#clock.now();
    // A clock that steps back (wall time adjusted) must not drain the bucket.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    // Rounded up so a key is never released before its token exists; the epsilon keeps float noise
    // (0.1 + 0.2 style) from adding a whole millisecond to exact spacings.
    return Math.ceil((-this.#tokens * 1000) / this.#qps - 1e-9);
  }

  /** Tokens available now (negative while reservations are outstanding); for tests and debugging. */
  get tokens(): number {
    if (this.#qps === Infinity) return this.#burst;
    const elapsed = Math.max(0, this.#clock.now() - this.#last);
    return Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
  }
}
