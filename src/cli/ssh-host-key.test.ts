import { describe, expect, test } from '@jest/globals';
import { checkHostKey, hostKeyLine } from '../api/host-keys.ts';
import { hostKeyAlgorithms, hostKeyError } from './ssh-host-key.ts';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
}
const ed = blob('ssh-ed25519', 'a'.repeat(36));
const ed2 = blob('ssh-ed25519', 'b'.repeat(36));
const rsa = blob('ssh-rsa', 'c'.repeat(200));
const ecdsa = blob('ecdsa-sha2-nistp256', 'd'.repeat(80));
const line = (b: Buffer): string => hostKeyLine(b) ?? '';

describe('host-key algorithms offered', () => {
  test.each([
    [[line(ed)], ['ssh-ed25519']],
    [[line(rsa)], ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
    [
      [line(rsa), line(ecdsa), line(ed)],
      ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ],
    [['garbage'], []],
    [[], []],
  ])('%j → %j', (pinned, want) => {
    expect(hostKeyAlgorithms(pinned)).toEqual(want);
  });
});

describe('host-key refusal', () => {
  test('a mismatch names both fingerprints and the deliberate fix', () => {
    const check = checkHostKey([line(ed)], ed2);
    if (check.ok) throw new Error('expected a mismatch');
    const err = hostKeyError('pi', check);
    expect(err.code).toBe('KEDGE_CLI_HOST_KEY_MISMATCH');
    expect(err.message).toContain(`presented: ${check.presented?.fingerprint} (ED25519)`);
    expect(err.message).toContain(`pinned:    ${check.pinned[0]?.fingerprint} (ED25519)`);
    expect(err.message).toContain('kedge edge trust-host-key pi');
    expect(err.message).toContain('refused before authenticating');
  });

  test('nothing pinned is its own error', () => {
    const check = checkHostKey([], ed);
    if (check.ok) throw new Error('expected a refusal');
    expect(hostKeyError('pi', check).code).toBe('KEDGE_CLI_HOST_KEY_NOT_PINNED');
  });
});
