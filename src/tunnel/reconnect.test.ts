// Reconnect policy with a fake clock: the backoff sequence, jitter, cap, reset after a healthy session, and stop().
import { describe, it, expect } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { TunnelError, TunnelErrorCode } from './errors.ts';
import { backoffDelay } from '../util/backoff.ts';
import { FakeClock as KubeFakeClock, type TimerHandle } from '../util/clock.ts';
import { Reconnector, defaultReconnectBackoff } from './reconnect.ts';
import type { ReconnectableSession } from './reconnect.ts';
import { testLogger } from './test-support.ts';

/** kube's FakeClock, recording every delay, with an `advance` that lets promise callbacks run between timers. */
class FakeClock extends KubeFakeClock {
  /** Every delay passed to setTimeout, in order. */
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
  /** Like `advance`, letting promise callbacks run before and after each timer. */
  async run(ms: number): Promise<void> {
    let left = ms;
    for (;;) {
      await flush();
      const next = this.nextDelay();
      if (next === undefined || next > left) break;
      super.advance(next);
      left -= next;
    }
    super.advance(left);
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

class FakeSession extends EventEmitter implements ReconnectableSession {
  closed = false;
  close(reason?: TunnelError): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', reason);
  }
}

/** A dial that fails while `failing` is true and otherwise returns a fresh FakeSession. */
function dialer(): {
  dial: (signal: AbortSignal) => Promise<FakeSession>;
  calls: number;
  failing: boolean;
  sessions: FakeSession[];
} {
  const d = {
    calls: 0,
    failing: true,
    sessions: [] as FakeSession[],
    dial: async (): Promise<FakeSession> => {
      d.calls++;
      if (d.failing) throw new Error('connection refused');
      const s = new FakeSession();
      d.sessions.push(s);
      return s;
    },
  };
  return d;
}

describe('backoffDelay', () => {
  it('doubles from 1 s and caps the base at 30 s, with up to 10 % jitter on top', () => {
    const seq = Array.from({ length: 8 }, (_, n) => backoffDelay(n + 1, defaultReconnectBackoff, () => 0));
    expect(seq).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(1, defaultReconnectBackoff, () => 0.999)).toBe(1100);
    expect(backoffDelay(11, defaultReconnectBackoff, () => 0.5)).toBe(31500);
  });
});

describe('Reconnector', () => {
  it('retries failed dials with the backoff sequence', async () => {
    const clock = new FakeClock();
    const d = dialer();
    const r = new Reconnector({ dial: d.dial, logger: testLogger, clock, random: () => 0 });
    const errors: number[] = [];
    r.on('dial-error', (_e, delay) => errors.push(delay));
    r.start();
    await clock.run(1000 + 2000 + 4000 + 8000 + 16000 + 30000 + 30000);
    expect(d.calls).toBe(8);
    expect(errors.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    await r.stop();
  });

  it('applies jitter from the injected random source', async () => {
    const clock = new FakeClock();
    const d = dialer();
    const r = new Reconnector({ dial: d.dial, logger: testLogger, clock, random: () => 0.5 });
    r.start();
    await clock.run(1050 + 2100);
    expect(clock.delays).toEqual([1050, 2100, 4200]);
    await r.stop();
  });

  it('keeps growing after short sessions and resets after a healthy one', async () => {
    const clock = new FakeClock();
    const d = dialer();
    const r = new Reconnector({ dial: d.dial, logger: testLogger, clock, random: () => 0 });
    const lost: number[] = [];
    r.on('disconnected', (_reason, delay) => lost.push(delay));
    r.start();
    await clock.run(1000 + 2000); // two failures: next would be 4 s
    d.failing = false;
    await clock.run(4000);
    expect(r.session).toBe(d.sessions[0]);
    await clock.run(5000); // short-lived session
    d.sessions[0]!.close(new TunnelError(TunnelErrorCode.KeepAliveTimeout, 'x'));
    expect(lost).toEqual([8000]);
    await clock.run(8000);
    expect(r.session).toBe(d.sessions[1]);
    await clock.run(30_000); // healthy
    d.sessions[1]!.close();
    expect(lost).toEqual([8000, 1000]);
    await r.stop();
  });

  it('stop() cancels a pending wait and closes the live session', async () => {
    const clock = new FakeClock();
    const d = dialer();
    const r = new Reconnector({ dial: d.dial, logger: testLogger, clock, random: () => 0 });
    r.start();
    await flush();
    expect(clock.pending).toBe(1);
    await r.stop();
    expect(clock.pending).toBe(0);
    await clock.run(60_000);
    expect(d.calls).toBe(1);

    d.failing = false;
    const r2 = new Reconnector({ dial: d.dial, logger: testLogger, clock, random: () => 0 });
    r2.start();
    await flush();
    const s = r2.session!;
    await r2.stop();
    expect(s.closed).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('stop() during a dial aborts it and closes a session that arrives late', async () => {
    const clock = new FakeClock();
    let release: (s: FakeSession) => void = () => {};
    let aborted = false;
    const late = new FakeSession();
    const r = new Reconnector({
      dial: (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise<FakeSession>((resolve) => (release = resolve));
      },
      logger: testLogger,
      clock,
    });
    r.start();
    await r.stop();
    expect(aborted).toBe(true);
    release(late);
    await flush();
    expect(late.closed).toBe(true);
    expect(r.session).toBeUndefined();
  });
});
