import { describe, expect, it } from '@jest/globals';
import { cachedCheck } from './readyz.ts';

describe('readyz checks', () => {
  it('shares one run among concurrent probes and caches the result for cacheMs', async () => {
    let t = 0;
    let runs = 0;
    let healthy = true;
    const c = cachedCheck(
      {
        name: 'kcp',
        run: async () => {
          runs++;
          if (!healthy) throw new Error('kcp is unreachable (ECONNREFUSED)');
        },
      },
      { cacheMs: 1_000, now: () => t },
    );
    expect(await Promise.all(Array.from({ length: 50 }, () => c.failure()))).toEqual(Array(50).fill(undefined));
    expect(runs).toBe(1);
    healthy = false;
    t = 999;
    expect(await c.failure()).toBeUndefined(); // still cached
    expect(runs).toBe(1);
    t = 1_000;
    expect(await c.failure()).toBe('kcp is unreachable (ECONNREFUSED)');
    expect(runs).toBe(2);
  });

  it('bounds a hanging check by its timeout and aborts it', async () => {
    let signal: AbortSignal | undefined;
    const c = cachedCheck(
      {
        name: 'kcp',
        run: (s) => {
          signal = s;
          return new Promise(() => {});
        },
      },
      { timeoutMs: 50 },
    );
    const started = Date.now();
    expect(await c.failure()).toBe('no answer within 50 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(signal?.aborted).toBe(true);
  });
});
