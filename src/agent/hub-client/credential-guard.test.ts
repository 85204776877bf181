import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ApiError } from '../../kube/api-error.ts';
import { CredentialGuard } from './credential-guard.ts';

const log = pino({ level: 'silent' });
const e401 = new ApiError({ code: 401, reason: 'Unauthorized' });
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('CredentialGuard', () => {
  it('declares the credential revoked only when the verification also gets 401', async () => {
    let revoked = 0;
    const g = new CredentialGuard({ logger: log, delayMs: 1, verify: () => Promise.reject(e401), onRevoked: () => revoked++ });
    g.observe('heartbeat', new Error('ECONNREFUSED'));
    await tick();
    expect(revoked).toBe(0);
    g.observe('heartbeat', e401);
    g.unauthorized('tunnel');
    await tick();
    expect(revoked).toBe(1);
    expect(g.revoked).toBe(true);
  });

  it('keeps going when the verification succeeds (a hub starting up)', async () => {
    let revoked = 0;
    let verifies = 0;
    const g = new CredentialGuard({ logger: log, delayMs: 1, verify: async () => void verifies++, onRevoked: () => revoked++ });
    g.unauthorized('tunnel');
    await tick();
    g.unauthorized('tunnel');
    await tick();
    expect([revoked, verifies]).toEqual([0, 2]);
  });
});
