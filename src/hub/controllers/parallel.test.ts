import { describe, expect, it } from '@jest/globals';
import { forEachLimit } from './parallel.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('forEachLimit', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      done.push(n);
      inFlight--;
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects with the first error, starts nothing new after it, and waits for the calls in flight', async () => {
    const started: number[] = [];
    let finished = 0;
    const run = forEachLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await tick();
      finished++;
      if (n === 1) throw new Error('boom 1');
      if (n === 2) throw new Error('boom 2');
    });
    await expect(run).rejects.toThrow('boom 1');
    expect(started).toEqual([1, 2]);
    expect(finished).toBe(2);
  });

  it('handles an empty list', async () => {
    await expect(
      forEachLimit([], 4, async () => {
        throw new Error('never');
      }),
    ).resolves.toBeUndefined();
  });
});
