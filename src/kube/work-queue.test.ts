import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../util/clock.ts';
import { WorkQueue } from './work-queue.ts';

/** Takes a key that must already be ready (get() resolves in the same tick). */
async function take(q: WorkQueue): Promise<string | undefined> {
  let got: string | undefined | null = null;
  void q.get().then((k) => (got = k));
  await Promise.resolve();
  if (got === null) throw new Error('queue had no ready key');
  return got;
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
});
