import { describe, expect, test } from '@jest/globals';
import { parseHostKey } from '../api/host-keys.ts';
import { fakeHostKeyLine } from './test-host-keys.ts';
import type { EdgeObject } from './edge-crud.ts';
import { trustDecision, trustPatch } from './edge-host-key.ts';

const ed1 = fakeHostKeyLine('ssh-ed25519', 'a'.repeat(36));
const ed2 = fakeHostKeyLine('ssh-ed25519', 'b'.repeat(36));
const rsa = fakeHostKeyLine('ssh-rsa', 'c'.repeat(200));
const edge = (status: EdgeObject['status'], type: 'server' | 'kubernetes' = 'server'): EdgeObject => ({
  metadata: { name: 'pi', resourceVersion: '42' },
  spec: { type },
  status,
});
const key = (l: string) => parseHostKey(l);

describe('trust-host-key decision', () => {
  test('observed equal to pinned (any order, with comments): nothing to change', () => {
    expect(trustDecision(edge({ sshHostKeys: [rsa, ed1], observedSSHHostKeys: [`${ed1} root@pi`, rsa] }))).toEqual({
      action: 'same',
      pinned: [key(ed1), key(rsa)],
    });
  });

  test('a changed key: re-pin to the observed set', () => {
    expect(trustDecision(edge({ sshHostKeys: [ed1, rsa], observedSSHHostKeys: [ed2, rsa] }))).toEqual({
      action: 'repin',
      pinned: [key(ed1), key(rsa)],
      observed: [key(ed2), key(rsa)],
    });
  });

  test('the legacy single sshHostKey counts as pinned', () => {
    expect(trustDecision(edge({ sshHostKey: ed1, observedSSHHostKeys: [ed1] })).action).toBe('same');
  });

  test('nothing pinned yet but keys observed: pin them', () => {
    expect(trustDecision(edge({ observedSSHHostKeys: [ed1] }))).toEqual({
      action: 'repin',
      pinned: [],
      observed: [key(ed1)],
    });
  });

  test.each([
    [edge({ sshHostKeys: [ed1] }), 'KEDGE_CLI_HOST_KEY_NOT_PINNED'],
    [edge({ sshHostKeys: [ed1], observedSSHHostKeys: ['garbage'] }), 'KEDGE_CLI_HOST_KEY_NOT_PINNED'],
    [edge({}, 'kubernetes'), 'KEDGE_CLI_NOT_APPLICABLE'],
  ])('refused: %#', (e, code) => {
    expect(() => trustDecision(e)).toThrow(expect.objectContaining({ code }));
  });

  test('the patch pins the observed keys with a resourceVersion precondition', () => {
    const observed = [key(ed2), key(rsa)].filter((k) => k !== undefined);
    expect(trustPatch('42', observed)).toEqual({
      metadata: { resourceVersion: '42' },
      status: { sshHostKeys: [ed2, rsa], sshHostKey: ed2 },
    });
  });
});
