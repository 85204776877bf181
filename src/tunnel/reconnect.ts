// Agent side: keeps one tunnel session up. Dial, and after a failed dial or a lost session wait
// base = min(cap, initial * factor^failures) plus up to `jitter` * base, then dial again. A session that stayed up
// for `healthyAfterMs` resets the failure count. Clock and randomness are injectable for tests.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { TunnelError } from './errors.ts';

export interface BackoffPolicy {
  initialDelayMs: number;
  factor: number;
  /** Cap on the base delay; jitter comes on top (as k8s wait.Backoff), so the longest wait is cap * (1 + jitter). */
  maxDelayMs: number;
  /** Fraction of the base delay added at random, spreading agents that lost the hub at the same moment. */
  jitter: number;
  /** A session up at least this long counts as healthy: the next wait starts from `initialDelayMs` again. */
  healthyAfterMs: number;
}

export const defaultBackoffPolicy: Readonly<BackoffPolicy> = Object.freeze({
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 30_000,
  jitter: 0.1,
  healthyAfterMs: 30_000,
});

/** The wait before the next dial after `failures` consecutive failures; `random` is in [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** failures);
  return Math.round(base + base * policy.jitter * random);
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the reconnector needs from a session (TunnelSession satisfies it). */
export interface ReconnectableSession {
  close(reason?: TunnelError): Promise<void> | void;
  once(event: 'close', listener: (reason: TunnelError | undefined) => void): unknown;
}

export interface ReconnectOptions<S extends ReconnectableSession> {
  /** Dials the hub and resolves with an open session; must honour `signal` (stop() aborts it). */
  dial: (signal: AbortSignal) => Promise<S>;
  logger: Logger;
  policy?: Partial<BackoffPolicy>;
  clock?: Clock;
  random?: () => number;
}

export interface ReconnectEvents<S> {
  /** A session is up. */
  session: [session: S];
  /** A dial failed; the next one follows in `delayMs`. */
  'dial-error': [error: Error, delayMs: number];
  /** The session ended; the next dial follows in `delayMs`. */
  disconnected: [reason: TunnelError | undefined, delayMs: number];
}

export class Reconnector<S extends ReconnectableSession> extends EventEmitter<ReconnectEvents<S>> {
  readonly #dial: (signal: AbortSignal) => Promise<S>;
  readonly #logger: Logger;
  readonly #policy: BackoffPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  #failures = 0;
  #running = false;
  #timer: unknown;
  #dialing: AbortController | undefined;
  #session: S | undefined;

  constructor(opts: ReconnectOptions<S>) {
    super();
    this.#dial = opts.dial;
    this.#logger = opts.logger.child({ component: 'tunnel-reconnect' });
    this.#policy = { ...defaultBackoffPolicy, ...opts.policy };
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
  }

  /** The live session, if any. */
  get session(): S | undefined {
    return this.#session;
  }

  /** Starts dialing now. Calling it while running does nothing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt();
  }

  /** Stops dialing: cancels a pending wait, aborts a dial in flight and closes the live session. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dialing?.abort();
    this.#dialing = undefined;
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  #attempt(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const controller = new AbortController();
    this.#dialing = controller;
    this.#dial(controller.signal).then(
      (session) => this.#connected(session, controller),
      (err: unknown) => {
        if (this.#dialing !== controller || !this.#running) return;
        this.#dialing = undefined;
        const delay = this.#nextDelay();
        this.#logger.info({ err: (err as Error).message, delayMs: delay }, 'tunnel dial failed');
        this.emit('dial-error', err as Error, delay);
        this.#schedule(delay);
      },
    );
  }

  #connected(session: S, controller: AbortController): void {
    if (this.#dialing !== controller || !this.#running) {
      void session.close();
      return;
    }
    this.#dialing = undefined;
    this.#session = session;
    const connectedAt = this.#clock.now();
    session.once('close', (reason) => {
      if (this.#session !== session) return;
      this.#session = undefined;
      if (!this.#running) return;
      if (this.#clock.now() - connectedAt >= this.#policy.healthyAfterMs) this.#failures = 0;
      const delay = this.#nextDelay();
      this.#logger.info({ code: reason?.code, delayMs: delay }, 'tunnel session lost');
      this.emit('disconnected', reason, delay);
      this.#schedule(delay);
    });
    this.#logger.info('Tunnel connection established');
    this.emit('session', session);
  }

  #nextDelay(): number {
    const delay = backoffDelay(this.#failures, this.#policy, this.#random());
    this.#failures++;
    return delay;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#attempt(), delayMs);
  }
}
