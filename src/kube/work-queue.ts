// Rate-limited work queue of string keys with client-go semantics: a key queued many times before it is taken runs
// once (dirty set); a key is never handed to two workers at once (processing set; re-added while processing → queued
// again at `done`); delayed adds keep the earliest due time. `addRateLimited` waits max(per-key exponential backoff
// until `forget`, an overall token bucket) as client-go's DefaultControllerRateLimiter, so a storm of failing keys
// cannot hammer the API server at once. Counts go to an optional QueueMetrics named like client-go's workqueue metrics.
import { realClock } from '../util/clock.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { TokenBucket, defaultTokenBucket } from './token-bucket.ts';
import type { TokenBucketOptions } from './token-bucket.ts';

/**
 * What one queue reports (client-go's workqueue metrics). Bound to one queue name by whoever creates it — the hub
 * maps it to `kedge_workqueue_*{name}` — so src/kube stays free of prom-client and of label values.
 */
export interface QueueMetrics {
  /** Keys waiting to be processed (client-go's depth: queued, plus re-added while processing); set on every change. */
  depth(keys: number): void;
  /** A key became pending (an add of a key already pending is not counted). */
  added(): void;
  /** A worker took a key `seconds` after it became pending. */
  queued(seconds: number): void;
  /** A worker finished a key `seconds` after taking it. */
  worked(seconds: number): void;
  /** `addRateLimited` was called (a retry). */
  retried(): void;
}

export type WorkQueueOptions = {
  clock?: Clock;
  /** First `addRateLimited` delay (default 5 ms); doubles per further requeue of the same key. */
  baseDelayMs?: number;
  /** Backoff cap (default 1000 s, as client-go). */
  maxDelayMs?: number;
  /** The overall bucket every `addRateLimited` reserves from (default 10 qps, burst 100, as client-go). */
  bucket?: TokenBucketOptions;
  metrics?: QueueMetrics | undefined;
};

export class WorkQueue {
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #bucket: TokenBucket;
  readonly #metrics: QueueMetrics | undefined;
  /** With metrics only: when each pending key became pending, and when each processing key was taken (clock ms). */
  readonly #addedAt = new Map<string, number>();
  readonly #takenAt = new Map<string, number>();
  /** FIFO of keys ready to hand out; `#head` avoids O(n) shifts. Every queued key is also in `#dirty`. */
  #queue: string[] = [];
  #head = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Delayed adds: key → due time and its timer (only the earliest due time is kept). */
  readonly #waiting = new Map<string, { at: number; timer: TimerHandle }>();
  readonly #requeues = new Map<string, number>();
  #getters: ((key: string | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#clock = opts.clock ?? realClock;
    this.#baseDelayMs = opts.baseDelayMs ?? 5;
    this.#maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.#bucket = new TokenBucket(this.#clock, opts.bucket ?? defaultTokenBucket);
    this.#metrics = opts.metrics;
    this.#metrics?.depth(0);
  }

  /** Queues `key` unless it is already queued; a key being processed is queued again when it is `done`. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#metrics) {
      this.#metrics.added();
      this.#metrics.depth(this.#dirty.size);
      if (!this.#addedAt.has(key)) this.#addedAt.set(key, this.#clock.now());
    }
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds `key` after `ms`. A pending delayed add of the same key keeps whichever is due first. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      this.#clock.clearTimeout(pending.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { at, timer });
  }

  /**
   * Adds `key` after the larger of its backoff (base × 2^(requeues so far), capped) and the overall bucket's wait;
   * counts one more requeue. The bucket's token is taken even when the backoff is longer (client-go does the same).
   */
  addRateLimited(key: string): void {
    // A queue shutting down drops the retry anyway; it must not count one or spend a token on it.
    if (this.#shuttingDown) return;
    const n = this.#requeues.get(key) ?? 0;
    this.#requeues.set(key, n + 1);
    this.#metrics?.retried();
    this.addAfter(key, Math.max(this.backoffFor(n), this.#bucket.reserve()));
  }

  /** The per-key part of `addRateLimited`'s delay after `requeues` earlier requeues (the bucket may wait longer). */
  backoffFor(requeues: number): number {
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** requeues);
  }

  /** Resets the backoff of `key` (call after it was processed successfully); the overall bucket is not refunded. */
  forget(key: string): void {
    this.#requeues.delete(key);
  }

  numRequeues(key: string): number {
    return this.#requeues.get(key) ?? 0;
  }

  /**
   * Takes the next key and marks it processing; the caller must call `done(key)`. Waits while the queue is empty;
   * resolves to undefined once the queue is shut down and empty.
   */
  get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Ends processing of `key`; if it was added meanwhile it is queued again now. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#metrics) {
      const at = this.#takenAt.get(key);
      this.#takenAt.delete(key);
      if (at !== undefined) this.#metrics.worked(Math.max(0, this.#clock.now() - at) / 1000);
    }
    if (this.#dirty.has(key)) this.#push(key);
    if (this.#processing.size === 0) for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Keys ready to be taken (not counting delayed or processing ones). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  get processingCount(): number {
    return this.#processing.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops accepting keys and drops delayed ones. Keys already queued are still handed out; `get` then resolves to
   * undefined, which is the workers' signal to exit.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    if (this.length === 0) for (const g of this.#getters.splice(0)) g(undefined);
  }

  /** `shutDown`, then resolves once every queued key has been taken and every taken key is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.length === 0 && this.#processing.size === 0) resolve();
        else this.#drainWaiters.push(check);
      };
      this.#drainWaiters.push(check);
    });
  }

  #push(key: string): void {
    const getter = this.#getters.shift();
    if (getter !== undefined) {
      this.#markTaken(key);
      getter(key);
      return;
    }
    this.#queue.push(key);
  }

  #take(): string | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const key = this.#queue[this.#head++] as string;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#markTaken(key);
    return key;
  }

  #markTaken(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
    if (this.#metrics) {
      const now = this.#clock.now();
      const at = this.#addedAt.get(key);
      this.#addedAt.delete(key);
      this.#metrics.depth(this.#dirty.size);
      if (at !== undefined) this.#metrics.queued(Math.max(0, now - at) / 1000);
      this.#takenAt.set(key, now);
    }
  }
}
