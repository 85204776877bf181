// Lease-based leader election (coordination.k8s.io/v1 Lease, client-go semantics) so that only one replica does the
// work (the hub's controllers in kcp, the agent's tunnel in its edge cluster): acquire when the Lease is free or its holder let it lapse, renew every retry period, step down
// when a renewal has not succeeded within the renew deadline, release on shutdown so a successor need not wait.
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, isNotFound } from './api-error.ts';
import type { KubeClient } from './client.ts';
import { realClock, sleep, type Clock } from '../util/clock.ts';
import type { KubeObject } from './types.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
export type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  /** Unique per process (hostname, pid, random): a restarted hub is a new candidate. */
  identity: string;
  /** How long others wait after the last observed renewal before taking over (default 15 s). */
  leaseDurationMs?: number;
  /** The leader steps down when it could not renew for this long (default 10 s; < leaseDurationMs). */
  renewDeadlineMs?: number;
  /** Period of acquire attempts and renewals (default 2 s). */
  retryPeriodMs?: number;
  clock?: Clock;
  random?: () => number;
}

/** Runs while this replica leads; must resolve once `term` aborted and everything it started has stopped. */
export type LeadFunc = (term: AbortSignal) => Promise<void>;

export function leasePath(namespace: string, name: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`;
}

/** MicroTime wants exactly six fractional digits (Go's RFC3339Micro); toISOString has three. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #cfg: Required<Omit<LeaderElectionConfig, 'clock' | 'random'>>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  /** The last Lease spec seen and when (local clock) it was seen to change: expiry is judged on our own clock. */
  #observed: { holder: string; renewTime: string; at: number } | undefined;
  #leading = false;

  /** `client` points at the workspace holding the Lease (e.g. `/clusters/root:kedge`). */
  constructor(client: KubeClient, cfg: LeaderElectionConfig, log: Logger) {
    this.#client = client;
    this.#cfg = {
      namespace: cfg.namespace,
      name: cfg.name,
      identity: cfg.identity,
      leaseDurationMs: cfg.leaseDurationMs ?? 15_000,
      renewDeadlineMs: cfg.renewDeadlineMs ?? 10_000,
      retryPeriodMs: cfg.retryPeriodMs ?? 2_000,
    };
    if (this.#cfg.renewDeadlineMs >= this.#cfg.leaseDurationMs)
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    this.#clock = cfg.clock ?? realClock;
    this.#random = cfg.random ?? Math.random;
    this.#log = log.child({ namespace: cfg.namespace, name: cfg.name, identity: cfg.identity });
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last observed (this replica while it leads). */
  get leader(): string | undefined {
    return this.#leading ? this.#cfg.identity : this.#observed?.holder || undefined;
  }

  /** Campaign, lead, and campaign again after losing the Lease, until `signal` aborts; then release and return. */
  async run(lead: LeadFunc, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.#acquire(signal))) break;
      await this.#leadTerm(lead, signal);
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    let announced: string | undefined;
    for (;;) {
      if (signal.aborted) return false;
      try {
        if (await this.tryAcquireOrRenew(signal)) return true;
        const holder = this.#observed?.holder;
        if (holder && holder !== announced)
          this.#log.info({ leader: holder }, 'another replica leads; waiting for the lease');
        announced = holder;
      } catch (err) {
        if (signal.aborted) return false;
        this.#log.debug({ err }, 'acquiring the lease failed');
      }
      const jitter = 1 + 0.2 * this.#random();
      try {
        await sleep(this.#clock, this.#cfg.retryPeriodMs * jitter, signal);
      } catch {
        return false;
      }
    }
  }

  async #leadTerm(lead: LeadFunc, signal: AbortSignal): Promise<void> {
    this.#leading = true;
    this.#log.info('became leader');
    const term = new AbortController();
    const onStop = (): void => term.abort(signal.reason);
    signal.addEventListener('abort', onStop, { once: true });
    let leadEnded = false;
    const leading = lead(term.signal)
      .catch((err: unknown) => this.#log.error({ err }, 'leader work failed'))
      .finally(() => {
        leadEnded = true;
        if (!term.signal.aborted) term.abort(new Error('leader work ended'));
      });
    let lastRenew = this.#clock.now();
    let reason = 'stopping';
    while (!term.signal.aborted) {
      try {
        await sleep(this.#clock, this.#cfg.retryPeriodMs, term.signal);
      } catch {
        break;
      }
      try {
        if (await this.tryAcquireOrRenew(term.signal)) lastRenew = this.#clock.now();
        else if (this.#observed?.holder && this.#observed.holder !== this.#cfg.identity) {
          reason = `lease taken by ${this.#observed.holder}`;
          break;
        }
      } catch (err) {
        if (term.signal.aborted) break;
        this.#log.debug({ err }, 'renewing the lease failed');
      }
      if (this.#clock.now() - lastRenew >= this.#cfg.renewDeadlineMs) {
        reason = `could not renew for ${this.#cfg.renewDeadlineMs} ms`;
        break;
      }
    }
    if (leadEnded) reason = 'leader work ended';
    signal.removeEventListener('abort', onStop);
    term.abort(new Error(reason));
    await leading;
    this.#leading = false;
    // Release only after the work stopped, so a successor never overlaps with our last writes.
    if (signal.aborted || leadEnded) await this.#release();
    this.#log.info({ reason }, 'stopped leading');
    if (leadEnded && !signal.aborted) await sleep(this.#clock, this.#cfg.retryPeriodMs, signal).catch(() => undefined);
  }

  /** One client-go style attempt; true when this replica holds the Lease afterwards. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.#clock.now();
    const path = leasePath(this.#cfg.namespace, this.#cfg.name);
    const opts = signal ? { signal } : {};
    let lease: Lease;
    try {
      lease = await this.#client.get<Lease>(path, opts);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.#client.create(
          path.slice(0, path.lastIndexOf('/')),
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#cfg.name, namespace: this.#cfg.namespace },
            spec: this.#spec(now, now, 0),
          },
          opts,
        );
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
      this.#observe(this.#cfg.identity, microTime(now), now);
      return true;
    }
    const spec = lease.spec ?? {};
    this.#observe(spec.holderIdentity ?? '', spec.renewTime ?? '', now);
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.#cfg.identity && (this.#observed?.at ?? now) + durationMs > now) return false;
    const mine = holder === this.#cfg.identity;
    const next: Lease = {
      ...lease,
      spec: this.#spec(
        mine && spec.acquireTime ? Date.parse(spec.acquireTime) : now,
        now,
        (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      ),
    };
    try {
      await this.#client.update(path, next, opts);
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.#observe(this.#cfg.identity, next.spec?.renewTime ?? '', now);
    if (!mine) this.#log.info({ previous: holder || undefined }, 'acquired the lease');
    return true;
  }

  async #release(): Promise<void> {
    const path = leasePath(this.#cfg.namespace, this.#cfg.name);
    try {
      const lease = await this.#client.get<Lease>(path, { timeoutMs: 5_000 });
      if (lease.spec?.holderIdentity !== this.#cfg.identity) return;
      const now = this.#clock.now();
      await this.#client.update(
        path,
        {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) },
        },
        { timeoutMs: 5_000 },
      );
      this.#log.info('released the lease');
    } catch (err) {
      this.#log.warn({ err }, 'releasing the lease failed; a successor waits for it to expire');
    }
  }

  #spec(acquiredMs: number, nowMs: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.#cfg.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#cfg.leaseDurationMs / 1000)),
      acquireTime: microTime(acquiredMs),
      renewTime: microTime(nowMs),
      leaseTransitions: transitions,
    };
  }

  #observe(holder: string, renewTime: string, now: number): void {
    const o = this.#observed;
    if (o === undefined || o.holder !== holder || o.renewTime !== renewTime)
      this.#observed = { holder, renewTime, at: now };
  }
}
