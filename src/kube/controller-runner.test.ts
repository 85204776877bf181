import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { FakeClock } from '../util/clock.ts';
import { runWorkers } from './controller-runner.ts';
import { WorkQueue } from './work-queue.ts';

function captureLogger() {
  const lines: { level: number; msg: string; key?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** Lets pending promise callbacks (workers) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('runWorkers', () => {
  it('retries a failing key with growing backoff, logs it once at warn, and forgets it on success', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const { logger, lines } = captureLogger();
    let calls = 0;
    const done = runWorkers(
      q,
      2,
      async () => {
        calls++;
        if (calls <= 3) throw new Error('boom');
      },
      logger,
    );
    q.add('root:a|ns/x');
    await flush();
    expect(calls).toBe(1);
    expect(clock.nextDelay()).toBe(5);
    clock.advance(5);
    await flush();
    expect(calls).toBe(2);
    expect(clock.nextDelay()).toBe(10);
    clock.advance(10);
    await flush();
    expect(calls).toBe(3);
    expect(clock.nextDelay()).toBe(20);
    clock.advance(20);
    await flush();
    expect(calls).toBe(4);
    expect(q.numRequeues('root:a|ns/x')).toBe(0);
    expect(clock.pending).toBe(0);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines.filter((l) => l.level === 40)[0]?.key).toBe('root:a|ns/x');
    q.shutDown();
    await done;
  });

  it('never runs one key on two workers at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const { logger } = captureLogger();
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const release: (() => void)[] = [];
    const done = runWorkers(
      q,
      4,
      async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((r) => release.push(r));
        running--;
      },
      logger,
    );
    q.add('k');
    await flush();
    q.add('k');
    q.add('k');
    await flush();
    expect(calls).toBe(1);
    release.shift()?.();
    await flush();
    expect(calls).toBe(2); // the two adds while processing collapsed into one more run
    release.shift()?.();
    await flush();
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
    q.shutDown();
    await done;
  });

  it('honours requeueAfterMs and drops a key after maxRetries', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const { logger, lines } = captureLogger();
    const seen: string[] = [];
    const done = runWorkers(
      q,
      1,
      async (key) => {
        seen.push(key);
        if (key === 'bad') throw new Error('always');
        return seen.filter((k) => k === 'ok').length === 1 ? { requeueAfterMs: 1000 } : undefined;
      },
      logger,
      { maxRetries: 2 },
    );
    q.add('ok');
    q.add('bad');
    await flush();
    clock.advance(5);
    await flush();
    clock.advance(10);
    await flush();
    clock.advance(1000);
    await flush();
    clock.advance(100_000);
    await flush();
    expect(seen.filter((k) => k === 'ok')).toHaveLength(2);
    expect(seen.filter((k) => k === 'bad')).toHaveLength(3);
    expect(lines.some((l) => l.level === 50 && l.key === 'bad')).toBe(true);
    q.shutDown();
    await done;
  });
});
