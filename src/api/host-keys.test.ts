import { expect, test } from '@jest/globals';
import {
  checkHostKey,
  describeHostKey,
  knownHostsLines,
  normaliseHostKeys,
  parseHostKey,
  pinDecision,
  pinnedHostKeys,
} from './host-keys.ts';

// Generated with ssh-keygen; fingerprints as `ssh-keygen -l` printed them.
const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPGhIXosAJ4ZS7B0jAWvnnvN5msyPHRjxgVUfhMwCBH';
const ED_FP = 'SHA256:7yj6IIAkMZ2y+QJMBu7Z3Wd/9hDl90f0CR3p6aak+fo';
const EC =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEfVsh8cgkUfRGtC/ADtfp9/XiJuDAwlpIEeZuYs0KIZdIetlUJlPmB9s5xZ3jZ8XKD61mxMiS/Bl5EFMnu1DZU=';
const EC_FP = 'SHA256:F5rXZAClYktc0VBIQtUhg32I3pbkUaUIrhbSGLcBbh4';

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64');

test('parseHostKey: OpenSSH fingerprints; comments dropped; the type inside the blob must match', () => {
  expect(parseHostKey(`${ED} root@host`)).toEqual({
    type: 'ssh-ed25519',
    base64: ED.split(' ')[1],
    fingerprint: ED_FP,
  });
  expect(parseHostKey(EC)?.fingerprint).toBe(EC_FP);
  expect(describeHostKey(parseHostKey(EC)!)).toBe(`${EC_FP} (ECDSA)`);
  expect(describeHostKey(parseHostKey(ED)!)).toBe(`${ED_FP} (ED25519)`);
  expect(parseHostKey(`ssh-rsa ${ED.split(' ')[1]}`)).toBeUndefined(); // blob says ssh-ed25519
  expect(parseHostKey('ssh-ed25519 !!!')).toBeUndefined();
  expect(parseHostKey('ssh-ed25519')).toBeUndefined();
  expect(parseHostKey('rot13 AAAA')).toBeUndefined();
  expect(parseHostKey(`ssh-ed25519 ${Buffer.alloc(9000).toString('base64')}`)).toBeUndefined();
});

test('normaliseHostKeys: valid, unique, sorted by type', () => {
  expect(normaliseHostKeys([`${ED} c`, 'junk', EC, ED]).map((k) => k.fingerprint)).toEqual([EC_FP, ED_FP]);
});

test('pinDecision: first report pins; the same set matches; any difference is a change', () => {
  expect(pinDecision([], [ED, EC])).toEqual({ action: 'pin', keys: normaliseHostKeys([ED, EC]) });
  expect(pinDecision([ED, EC], [`${EC} x`, ED])).toEqual({ action: 'match' });
  expect(pinDecision([ED], [])).toEqual({ action: 'none' });
  expect(pinDecision([ED], ['garbage'])).toEqual({ action: 'none' });
  const changed = pinDecision([ED], [EC]);
  expect(changed).toEqual({ action: 'changed', added: [parseHostKey(EC)], removed: [parseHostKey(ED)] });
  expect(pinDecision([ED], [ED, EC])).toMatchObject({ action: 'changed', removed: [] });
});

test('checkHostKey: only a pinned key passes; nothing pinned never passes', () => {
  expect(checkHostKey([ED, EC], blob(EC))).toMatchObject({ ok: true, key: { fingerprint: EC_FP } });
  expect(checkHostKey([ED], blob(EC))).toMatchObject({
    ok: false,
    reason: 'mismatch',
    presented: { fingerprint: EC_FP },
  });
  expect(checkHostKey([], blob(ED))).toMatchObject({ ok: false, reason: 'nothing-pinned' });
  expect(checkHostKey([ED], Buffer.from('nonsense'))).toMatchObject({ ok: false, reason: 'invalid' });
});

test('pinnedHostKeys prefers the list and falls back to the Go-compatible single key', () => {
  expect(pinnedHostKeys({ sshHostKeys: [ED, EC], sshHostKey: ED })).toEqual([ED, EC]);
  expect(pinnedHostKeys({ sshHostKey: ED })).toEqual([ED]);
  expect(pinnedHostKeys(undefined)).toEqual([]);
});

test('knownHostsLines: one line per key under the alias', () => {
  expect(knownHostsLines('pi.kedge', [ED, EC])).toEqual([`pi.kedge ${EC}`, `pi.kedge ${ED}`]);
});
