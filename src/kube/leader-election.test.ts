// Leader election on a fake clock against an in-memory Lease (compare-and-swap on resourceVersion, like the API
// server): acquire, renew, step down when renewals fail past the renew deadline, take over a lapsed Lease only after a
// whole lease duration on the candidate's own clock, never two leaders at once, release on stop.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ApiError } from './api-error.ts';
import type { KubeClient } from './client.ts';
import { FakeClock } from '../util/clock.ts';
import { LeaderElector, microTime, type Lease, type LeaderElectionConfig } from './leader-election.ts';

const log = pino({ level: 'silent' });
const LEASE = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** One Lease object; each replica gets its own client, which a test can partition (every request then fails 503). */
class LeaseStore {
  lease: Lease | undefined;
  #rv = 0;
  readonly partitioned = new Set<string>();

  client(who: string): KubeClient {
    const check = (): void => {
      if (this.partitioned.has(who)) throw new ApiError({ code: 503, message: `${who} is partitioned` });
    };
    const stored = (body: unknown): Lease => {
      const l = structuredClone(body) as Lease;
      l.metadata = { ...l.metadata, resourceVersion: String(++this.#rv) };
      this.lease = l;
      return structuredClone(l);
    };
    const fake = {
      get: async () => {
        check();
        if (this.lease === undefined) throw new ApiError({ code: 404 });
        return structuredClone(this.lease);
      },
      create: async (_path: string, body: unknown) => {
        check();
        if (this.lease !== undefined) throw new ApiError({ code: 409, reason: 'AlreadyExists' });
        return stored(body);
      },
      update: async (_path: string, body: Lease) => {
        check();
        if (this.lease === undefined) throw new ApiError({ code: 404 });
        if (body.metadata.resourceVersion !== this.lease.metadata.resourceVersion)
          throw new ApiError({ code: 409, reason: 'Conflict' });
        return stored(body);
      },
    };
    return fake as unknown as KubeClient;
  }
}

/** Lets every promise continuation that is ready run (the fake client answers within microtasks; timers are fake). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function candidate(store: LeaseStore, clock: FakeClock, identity: string, cfg: Partial<LeaderElectionConfig> = {}) {
  const elector = new LeaderElector(
    store.client(identity),
    { namespace: 'kedge', name: 'controllers', identity, clock, random: () => 0, ...LEASE, ...cfg },
    log,
  );
  const stop = new AbortController();
  const state = { terms: 0, leading: false };
  const running = elector.run(async (term) => {
    state.terms++;
    state.leading = true;
    await new Promise((r) => term.addEventListener('abort', r, { once: true }));
    state.leading = false;
  }, stop.signal);
  return {
    elector,
    state,
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

describe('LeaderElector (fake clock)', () => {
  it('acquires a free Lease, renews it every retry period, and releases it on stop so a successor need not wait', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await settle();
    expect(a.state.leading).toBe(true);
    expect(a.elector.isLeader).toBe(true);
    const acquired = clock.now();
    expect(store.lease?.spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(acquired),
      renewTime: microTime(acquired),
      leaseTransitions: 0,
    });
    for (let i = 1; i <= 3; i++) {
      clock.advance(LEASE.retryPeriodMs);
      await settle();
      expect(store.lease?.spec).toMatchObject({
        holderIdentity: 'a',
        acquireTime: microTime(acquired),
        renewTime: microTime(clock.now()),
      });
    }
    expect(a.state.terms).toBe(1);

    await a.stop();
    expect(a.state.leading).toBe(false);
    expect(a.elector.isLeader).toBe(false);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const b = new LeaderElector(
      store.client('b'),
      { namespace: 'kedge', name: 'controllers', identity: 'b', clock, ...LEASE },
      log,
    );
    expect(await b.tryAcquireOrRenew()).toBe(true); // at once, no lease duration to wait
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('takes over a Lease only once it went unrenewed for a whole lease duration on its own clock', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    // The holder's renewTime is far in the past: that must not count, clocks of replicas are not compared.
    store.lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'controllers', namespace: 'kedge', resourceVersion: '1' },
      spec: {
        holderIdentity: 'old',
        leaseDurationSeconds: 15,
        renewTime: microTime(0),
        acquireTime: microTime(0),
        leaseTransitions: 4,
      },
    };
    const b = new LeaderElector(
      store.client('b'),
      { namespace: 'kedge', name: 'controllers', identity: 'b', clock, ...LEASE },
      log,
    );
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(b.leader).toBe('old');
    clock.advance(10_000);
    // The holder renews: the wait starts again from when b sees the change.
    store.lease.spec = { ...store.lease.spec, renewTime: microTime(clock.now()) };
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.advance(LEASE.leaseDurationMs - 1);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.lease.spec).toMatchObject({
      holderIdentity: 'b',
      leaseTransitions: 5,
      acquireTime: microTime(clock.now()),
    });
    expect(b.leader).toBe('b');
  });

  it('steps down when renewals fail for the renew deadline, before anyone else may take over; never two leaders', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await settle();
    expect(a.state.leading).toBe(true);
    const b = candidate(store, clock, 'b');
    await settle();
    expect(b.state.leading).toBe(false);
    expect(b.elector.leader).toBe('a');

    store.partitioned.add('a'); // a can no longer renew; b still sees the Lease
    const cut = clock.now();
    let aSteppedDownAt: number | undefined;
    let bLeadsAt: number | undefined;
    while (bLeadsAt === undefined && clock.now() - cut < 60_000) {
      clock.advance(500);
      await settle();
      expect(a.state.leading && b.state.leading).toBe(false);
      if (!a.state.leading && aSteppedDownAt === undefined) aSteppedDownAt = clock.now() - cut;
      if (b.state.leading) bLeadsAt = clock.now() - cut;
    }
    // a gives up once renewDeadline passed since its last successful renewal (at most one retry period before the cut).
    expect(aSteppedDownAt).toBeGreaterThan(LEASE.renewDeadlineMs - LEASE.retryPeriodMs);
    expect(aSteppedDownAt).toBeLessThanOrEqual(LEASE.renewDeadlineMs);
    // b waits a whole lease duration after the last renewal it saw.
    expect(bLeadsAt).toBeGreaterThanOrEqual(LEASE.leaseDurationMs - LEASE.retryPeriodMs);
    expect(bLeadsAt).toBeGreaterThan(aSteppedDownAt ?? Infinity);
    expect(store.lease?.spec?.holderIdentity).toBe('b');

    store.partitioned.delete('a'); // a is back: it finds b leading and keeps waiting
    for (let i = 0; i < 10; i++) {
      clock.advance(LEASE.retryPeriodMs);
      await settle();
      expect(a.state.leading).toBe(false);
    }
    expect(a.elector.leader).toBe('b');
    expect(a.state.terms).toBe(1);
    await b.stop();
    await a.stop();
  });

  it('campaigns again after losing its term and leads once the Lease is its own again', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = candidate(store, clock, 'a');
    await settle();
    store.partitioned.add('a');
    clock.advance(LEASE.renewDeadlineMs);
    await settle();
    expect(a.state.leading).toBe(false);
    store.partitioned.delete('a');
    clock.advance(LEASE.retryPeriodMs);
    await settle();
    // Nobody else took the Lease, and it still names a: a renews it as its own (no transition) and leads again.
    expect(a.state.leading).toBe(true);
    expect(a.state.terms).toBe(2);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    await a.stop();
    expect(store.lease?.spec?.holderIdentity).toBe('');
  });
});
