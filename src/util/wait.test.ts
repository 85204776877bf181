import { describe, expect, it } from '@jest/globals';
import { poll, sleep, StopPolling } from './wait.ts';

describe('poll', () => {
  it('retries until a value arrives, treating errors as not yet', async () => {
    let n = 0;
    const v = await poll(async () => { n++; if (n < 3) throw new Error('not yet'); return 'done'; }, { what: 'x', timeoutMs: 2000, intervalMs: 1 });
    expect([v, n]).toEqual(['done', 3]);
  });
  it('stops at once on StopPolling with its cause', async () => {
    let n = 0;
    const cause = new Error('fatal');
    await expect(poll(async () => { n++; throw new StopPolling(cause); }, { what: 'x', timeoutMs: 2000, intervalMs: 1 })).rejects.toBe(cause);
    expect(n).toBe(1);
  });
  it('names what it waited for on timeout', async () => {
    await expect(poll(async () => undefined, { what: 'the moon', timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(/waiting for the moon/);
  });
});

describe('sleep', () => {
  it('rejects at once when the signal already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(sleep(10_000, ac.signal)).rejects.toThrow('stop');
  });
});
