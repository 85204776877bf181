import { describe, expect, it } from '@jest/globals';
import { FakeClock } from './clock.ts';
import { poll, retry, sleep, StopPolling } from './wait.ts';

describe('poll', () => {
  it('retries until a value arrives, treating errors as not yet', async () => {
    let n = 0;
    const v = await poll(
      async () => {
        n++;
        if (n < 3) throw new Error('not yet');
        return 'done';
      },
      { what: 'x', timeoutMs: 2000, intervalMs: 1 },
    );
    expect([v, n]).toEqual(['done', 3]);
  });
  it('stops at once on StopPolling with its cause', async () => {
    let n = 0;
    const cause = new Error('fatal');
    await expect(
      poll(
        async () => {
          n++;
          throw new StopPolling(cause);
        },
        { what: 'x', timeoutMs: 2000, intervalMs: 1 },
      ),
    ).rejects.toBe(cause);
    expect(n).toBe(1);
  });
  it('treats false as not yet, so a boolean condition is waited for', async () => {
    let n = 0;
    expect(await poll(async () => ++n >= 3, { what: 'x', timeoutMs: 2000, intervalMs: 1 })).toBe(true);
    expect(n).toBe(3);
  });
  it('names what it waited for on timeout', async () => {
    await expect(poll(async () => undefined, { what: 'the moon', timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      /waiting for the moon/,
    );
  });
});

describe('sleep', () => {
  it('rejects at once when the signal already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(sleep(10_000, ac.signal)).rejects.toThrow('stop');
  });
});

describe('retry', () => {
  const noWait = { backoff: { initialMs: 0 } };

  it('retries failures until an attempt succeeds, passing the attempt number', async () => {
    const seen: number[] = [];
    const v = await retry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw new Error('flaky');
      return 'ok';
    }, noWait);
    expect([v, seen]).toEqual(['ok', [1, 2, 3]]);
  });

  it('throws the last failure after the allowed attempts', async () => {
    let n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new Error(`fail ${n}`);
        },
        { ...noWait, attempts: 3 },
      ),
    ).rejects.toThrow('fail 3');
    expect(n).toBe(3);
  });

  it('throws at once a failure retryIf rejects', async () => {
    let n = 0;
    const fatal = new Error('fatal');
    await expect(
      retry(
        async () => {
          n++;
          throw fatal;
        },
        { ...noWait, retryIf: (e) => e !== fatal },
      ),
    ).rejects.toBe(fatal);
    expect(n).toBe(1);
  });

  it('waits with the backoff policy on the given clock and reports each retry', async () => {
    const clock = new FakeClock();
    const retries: [number, number][] = [];
    let n = 0;
    const done = retry(
      async () => {
        n++;
        if (n < 3) throw new Error('x');
        return n;
      },
      {
        clock,
        random: () => 0,
        backoff: { initialMs: 100, factor: 3, maxMs: 1000, jitter: 0.5 },
        onRetry: (_e, attempt, delayMs) => retries.push([attempt, delayMs]),
      },
    );
    await eventuallyPending(clock);
    expect(clock.nextDelay()).toBe(100);
    clock.advance(100);
    await eventuallyPending(clock);
    expect(clock.nextDelay()).toBe(300);
    clock.advance(300);
    await expect(done).resolves.toBe(3);
    expect(retries).toEqual([
      [1, 100],
      [2, 300],
    ]);
  });

  it('stops waiting when the signal aborts and throws the failure', async () => {
    const ac = new AbortController();
    const err = new Error('down');
    const done = retry(
      async () => {
        ac.abort(new Error('stopped'));
        throw err;
      },
      { signal: ac.signal },
    );
    await expect(done).rejects.toBe(err);
  });
});

/** Lets the retry loop reach its next sleep: resolves once a timer is pending on `clock`. */
async function eventuallyPending(clock: FakeClock): Promise<void> {
  for (let i = 0; i < 100 && clock.pending === 0; i++) await Promise.resolve();
  expect(clock.pending).toBe(1);
}
