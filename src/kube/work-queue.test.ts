import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../util/clock.ts';
import { WorkQueue } from './work-queue.ts';
import type { QueueMetrics } from './work-queue.ts';

/** Takes a key that must already be ready (get() resolves in the same tick). */
async function take(q: WorkQueue): Promise<string | undefined> {
  let got: string | undefined | null = null;
  void q.get().then((k) => (got = k));
  await Promise.resolve();
  if (got === null) throw new Error('queue had no ready key');
  return got;
}

/** A QueueMetrics that records what the queue reported. */
function recording() {
  const r = { depths: [] as number[], adds: 0, queued: [] as number[], worked: [] as number[], retries: 0 };
  const metrics: QueueMetrics = {
    depth: (n) => void r.depths.push(n),
    added: () => void r.adds++,
    queued: (s) => void r.queued.push(s),
    worked: (s) => void r.worked.push(s),
    retried: () => void r.retries++,
  };
  return { r, metrics, lastDepth: () => r.depths.at(-1) };
}

/** Fires every pending timer in order and returns, per key, ms from now until it became ready (then takes it). */
async function readyAfter(q: WorkQueue, clock: FakeClock): Promise<Record<string, number>> {
  const start = clock.now();
  const out: Record<string, number> = {};
  for (let d = clock.nextDelay(); d !== undefined; d = clock.nextDelay()) {
    clock.advance(d);
    while (q.length > 0) {
      const k = (await take(q)) as string;
      out[k] = clock.now() - start;
      q.done(k);
    }
  }
  return out;
}

describe('WorkQueue', () => {
  it('collapses a key added twice before it is taken', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await take(q)).toBe('a');
    expect(await take(q)).toBe('b');
    expect(q.length).toBe(0);
  });

  it('re-queues a key added while processing only after done, and never hands it out twice at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    expect(await take(q)).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0); // not ready while 'a' is being processed
    let second: string | undefined | null = null;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeNull();
    q.done('a');
    await Promise.resolve();
    expect(second).toBe('a'); // processed again, once
    q.done('a');
    expect(q.length).toBe(0);
    expect(q.processingCount).toBe(0);
  });

  it('wakes a waiting worker on add', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add('x');
    await expect(p).resolves.toBe('x');
    expect(q.processingCount).toBe(1);
  });

  it('addAfter fires on the clock and keeps the earliest due time', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    clock.advance(299);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(10_000);
    expect(q.length).toBe(1); // the later timers were replaced, not added
    expect(clock.pending).toBe(0);
  });

  it('backs off per key exponentially from 5 ms, caps, and forget resets', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, maxDelayMs: 100 });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      q.addRateLimited('k');
      delays.push(clock.nextDelay() ?? -1);
      clock.advance(clock.nextDelay() ?? 0);
      q.done((await take(q)) as string);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 100, 100]);
    expect(q.numRequeues('k')).toBe(7);
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
    q.addRateLimited('k');
    expect(clock.nextDelay()).toBe(5);
    q.addRateLimited('other');
    expect(q.numRequeues('other')).toBe(1);
  });

  it('shutDown hands out queued keys, then undefined, and refuses new keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = new WorkQueue({ clock });
    const idle = waiting.get();
    waiting.shutDown();
    await expect(idle).resolves.toBeUndefined();

    q.add('a');
    q.addAfter('later', 10);
    q.shutDown();
    q.add('b');
    expect(clock.pending).toBe(0);
    expect(await take(q)).toBe('a');
    await expect(q.get()).resolves.toBeUndefined();
  });

  it('shutDownWithDrain waits for keys in flight', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    const a = await take(q);
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    const b = await take(q);
    q.done(a as string);
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(b as string);
    await drain;
    expect(drained).toBe(true);
  });

  it('rate-limited adds share one bucket: the burst goes at per-key backoff, the rest spaced at 1/qps', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, bucket: { qps: 10, burst: 3 } });
    for (const k of ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']) q.addRateLimited(k);
    expect(await readyAfter(q, clock)).toEqual({ k0: 5, k1: 5, k2: 5, k3: 100, k4: 200, k5: 300 });
  });

  it("waits the larger of the key's backoff and the bucket's wait", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 100_000, bucket: { qps: 1, burst: 2 } });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.addRateLimited('a');
      delays.push((await readyAfter(q, clock)).a ?? -1);
    }
    // backoff 100, 200, 400, 800, 1600; bucket 0, 0, 700 (0.3 tokens left), 1000, 1000.
    expect(delays).toEqual([100, 200, 700, 1000, 1600]);
  });

  it("forget resets the key's backoff but gives no tokens back to the bucket", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, bucket: { qps: 10, burst: 1 } });
    q.addRateLimited('a');
    expect(await readyAfter(q, clock)).toEqual({ a: 5 });
    q.forget('a');
    q.addRateLimited('a');
    expect(q.numRequeues('a')).toBe(1); // backoff back at its first step (5 ms) …
    expect(await readyAfter(q, clock)).toEqual({ a: 95 }); // … but the bucket still holds the first token: 100 ms − 5
  });

  it('a plain add or addAfter is never held by the bucket', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, bucket: { qps: 1, burst: 1 } });
    q.addRateLimited('a');
    q.addRateLimited('b'); // takes the bucket's next second
    q.add('c');
    q.addAfter('d', 10);
    expect(await take(q)).toBe('c');
    expect(await readyAfter(q, clock)).toEqual({ a: 5, d: 10, b: 1000 });
  });

  it('reports depth, adds, queue and work durations and retries; depth is 0 again once drained', async () => {
    const clock = new FakeClock();
    const { r, metrics, lastDepth } = recording();
    const q = new WorkQueue({ clock, metrics });
    expect(lastDepth()).toBe(0);
    q.add('a');
    q.add('b');
    q.add('a'); // already pending: not an add
    expect({ adds: r.adds, depth: lastDepth() }).toEqual({ adds: 2, depth: 2 });
    clock.advance(30);
    expect(await take(q)).toBe('a');
    expect({ depth: lastDepth(), queued: r.queued }).toEqual({ depth: 1, queued: [0.03] });
    q.add('a'); // pending again while processing: counts, as in client-go
    expect({ adds: r.adds, depth: lastDepth() }).toEqual({ adds: 3, depth: 2 });
    clock.advance(20);
    q.done('a');
    expect(r.worked).toEqual([0.02]);
    expect(await take(q)).toBe('b');
    expect(await take(q)).toBe('a');
    expect(r.queued).toEqual([0.03, 0.05, 0.02]);
    clock.advance(7);
    q.done('a');
    q.done('b');
    expect(r.worked).toEqual([0.02, 0.007, 0.007]);
    expect(lastDepth()).toBe(0);

    q.addRateLimited('a');
    q.addRateLimited('a'); // a retry although the first is still waiting: counted, one timer kept
    expect({ retries: r.retries, adds: r.adds, depth: lastDepth() }).toEqual({ retries: 2, adds: 3, depth: 0 });
    await readyAfter(q, clock);
    expect({ adds: r.adds, depth: lastDepth(), queued: r.queued.at(-1) }).toEqual({ adds: 4, depth: 0, queued: 0 });
    q.add('x');
    q.add('y');
    const x = await take(q);
    const drained = q.shutDownWithDrain();
    q.done((await take(q)) as string);
    q.done(x as string);
    await drained;
    expect(lastDepth()).toBe(0);
    expect(r.worked.length).toBe(6);
  });
});
