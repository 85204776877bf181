// Agent side: keeps one tunnel session up. Dial, and after a failed dial or a lost session wait
// base = min(cap, initial * factor^failures) plus up to `jitter` * base, then dial again. A session that stayed up
// for `healthyAfterMs` resets the failure count. Clock and randomness are injectable for tests.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { backoffDelay, backoffPolicy, type BackoffPolicy } from '../util/backoff.ts';
import { realClock, type Clock, type TimerHandle } from '../util/clock.ts';
import type { TunnelError } from './errors.ts';

/** Dial backoff: 1 s doubling to a 30 s cap, up to 10 % jitter on top (as k8s wait.Backoff). */
export const defaultReconnectBackoff: Readonly<BackoffPolicy> = Object.freeze({
  initialMs: 1_000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.1,
});
/** A session up at least this long counts as healthy: the next wait starts from the initial delay again. */
export const DEFAULT_HEALTHY_AFTER_MS = 30_000;

/** What the reconnector needs from a session (TunnelSession satisfies it). */
export interface ReconnectableSession {
  close(reason?: TunnelError): Promise<void> | void;
  once(event: 'close', listener: (reason: TunnelError | undefined) => void): unknown;
}

export interface ReconnectOptions<S extends ReconnectableSession> {
  /** Dials the hub and resolves with an open session; must honour `signal` (stop() aborts it). */
  dial: (signal: AbortSignal) => Promise<S>;
  logger: Logger;
  /** Overrides of `defaultReconnectBackoff`; unset, negative or NaN fields keep the default. */
  policy?: Partial<BackoffPolicy>;
  healthyAfterMs?: number;
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
  readonly #healthyAfterMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  #failures = 0;
  #running = false;
  #timer: TimerHandle | undefined;
  #dialing: AbortController | undefined;
  #session: S | undefined;

  constructor(opts: ReconnectOptions<S>) {
    super();
    this.#dial = opts.dial;
    this.#logger = opts.logger.child({ component: 'tunnel-reconnect' });
    this.#policy = backoffPolicy(opts.policy, defaultReconnectBackoff);
    this.#healthyAfterMs = opts.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS;
    this.#clock = opts.clock ?? realClock;
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
        this.#logger.info({ err, delayMs: delay }, 'tunnel dial failed');
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
      if (this.#clock.now() - connectedAt >= this.#healthyAfterMs) this.#failures = 0;
      const delay = this.#nextDelay();
      this.#logger.info({ code: reason?.code, delayMs: delay }, 'tunnel session lost');
      this.emit('disconnected', reason, delay);
      this.#schedule(delay);
    });
    this.#logger.info('Tunnel connection established');
    this.emit('session', session);
  }

  #nextDelay(): number {
    this.#failures++;
    const delay = backoffDelay(this.#failures, this.#policy, this.#random);
    return delay;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#attempt(), delayMs);
  }
}
