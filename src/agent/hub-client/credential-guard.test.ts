// CredentialGuard on a fake clock: a 401 schedules one verification after the delay, and only a 401 there revokes.
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ApiError } from '../../kube/api-error.ts';
import { FakeClock } from '../../util/clock.ts';
import { CredentialGuard } from './credential-guard.ts';

const log = pino({ level: 'silent' });
const e401 = new ApiError({ code: 401, reason: 'Unauthorized' });
const DELAY = 2_000;

/** Lets the verification's settled promise run its continuations (no timers involved: the clock is fake). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CredentialGuard', () => {
  it('declares the credential revoked only when the verification also gets 401', async () => {
    const clock = new FakeClock();
    let revoked = 0;
    let verifies = 0;
    const g = new CredentialGuard({
      logger: log,
      clock,
      delayMs: DELAY,
      verify: () => (verifies++, Promise.reject(e401)),
      onRevoked: () => revoked++,
    });
    g.observe('heartbeat', new Error('ECONNREFUSED'));
    expect(clock.pending).toBe(0); // not a 401: no verification scheduled
    g.observe('heartbeat', e401);
    g.unauthorized('tunnel'); // a check is already scheduled: not a second one
    expect(clock.pending).toBe(1);
    clock.advance(DELAY - 1);
    expect(verifies).toBe(0); // waits the delay first
    clock.advance(1);
    expect(verifies).toBe(1);
    await settle();
    expect(revoked).toBe(1);
    expect(g.revoked).toBe(true);
    g.unauthorized('tunnel'); // revoked is final: nothing more is scheduled
    expect(clock.pending).toBe(0);
  });

  it('keeps going when the verification succeeds (a hub starting up), and checks again on the next 401', async () => {
    const clock = new FakeClock();
    let revoked = 0;
    let verifies = 0;
    const g = new CredentialGuard({
      logger: log,
      clock,
      delayMs: DELAY,
      verify: async () => void verifies++,
      onRevoked: () => revoked++,
    });
    g.unauthorized('tunnel');
    clock.advance(DELAY);
    await settle();
    g.unauthorized('tunnel');
    expect(clock.pending).toBe(1);
    clock.advance(DELAY);
    await settle();
    expect([revoked, verifies]).toEqual([0, 2]);
    expect(g.revoked).toBe(false);
  });

  it('stop() cancels a scheduled verification', () => {
    const clock = new FakeClock();
    let verifies = 0;
    const g = new CredentialGuard({
      logger: log,
      clock,
      delayMs: DELAY,
      verify: async () => void verifies++,
      onRevoked: () => {},
    });
    g.unauthorized('tunnel');
    g.stop();
    expect(clock.pending).toBe(0);
    clock.advance(DELAY);
    expect(verifies).toBe(0);
  });
});
