import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../util/clock.ts';
import { TokenBucket } from './token-bucket.ts';

/** Steps: `r` = reserve (its delay is recorded), a number = advance the clock by that many ms. */
function run(opts: { qps: number; burst: number }, steps: ('r' | number)[]): number[] {
  const clock = new FakeClock();
  const bucket = new TokenBucket(clock, opts);
  const delays: number[] = [];
  for (const s of steps) {
    if (s === 'r') delays.push(bucket.reserve());
    else clock.advance(s);
  }
  return delays;
}

const r = (n: number): 'r'[] => Array.from({ length: n }, () => 'r' as const);

describe('TokenBucket', () => {
  it.each([
    {
      what: 'burst at once, then spaced at 1/qps',
      opts: { qps: 10, burst: 3 },
      steps: r(6),
      want: [0, 0, 0, 100, 200, 300],
    },
    {
      what: 'client-go default: 100 free, then 100 ms apart',
      opts: { qps: 10, burst: 100 },
      steps: r(102),
      want: [...Array(100).fill(0), 100, 200],
    },
    {
      what: 'refills with time, never beyond burst',
      opts: { qps: 10, burst: 2 },
      steps: ['r', 'r', 10_000, 'r', 'r', 'r'],
      want: [0, 0, 0, 0, 100],
    },
    {
      what: 'outstanding reservations shrink as time passes',
      opts: { qps: 10, burst: 1 },
      steps: ['r', 'r', 'r', 150, 'r'],
      want: [0, 100, 200, 150],
    },
    {
      what: 'a partly refilled token waits only for the rest',
      opts: { qps: 10, burst: 1 },
      steps: ['r', 40, 'r'],
      want: [0, 60],
    },
    { what: 'fractional rates round up to whole ms', opts: { qps: 3, burst: 1 }, steps: r(3), want: [0, 334, 667] },
    { what: 'qps 0 disables the bucket', opts: { qps: 0, burst: 1 }, steps: r(3), want: [0, 0, 0] },
    { what: 'burst below 1 still grants one', opts: { qps: 10, burst: 0 }, steps: r(2), want: [0, 100] },
  ])('$what', ({ opts, steps, want }) => {
    expect(run(opts, steps as ('r' | number)[])).toEqual(want);
  });

  it('does not drain when the clock steps back', () => {
    let now = 1_000_000;
    const clock = { now: () => now, setTimeout: () => ({ id: 0 }), clearTimeout: () => undefined };
    const bucket = new TokenBucket(clock, { qps: 10, burst: 1 });
    expect(bucket.reserve()).toBe(0);
    now -= 60_000;
    expect(bucket.reserve()).toBe(100);
    expect(bucket.tokens).toBe(-1);
  });
});
