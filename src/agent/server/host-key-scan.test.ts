import { describe, expect, it } from '@jest/globals';
import { combineProbes, KEY_FAMILIES, remainingFamilies } from './host-key-scan.ts';

// Real blobs are not needed for the decisions here, but combineProbes normalises: use valid authorized_keys lines.
const blob = (type: string, body: string): string => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return `${type} ${Buffer.concat([len, t, Buffer.from(body)]).toString('base64')}`;
};
const ED = blob('ssh-ed25519', 'ed-key-bytes');
const RSA = blob('ssh-rsa', 'rsa-key-bytes');

describe('combineProbes', () => {
  it('collects the keys, normalised and sorted by type; not-offered types are simply absent', () => {
    expect(
      combineProbes([{ kind: 'key', line: `${RSA} root@host` }, { kind: 'not-offered' }, { kind: 'key', line: ED }]),
    ).toEqual({ ok: true, keys: [ED, RSA] });
    expect(combineProbes([{ kind: 'not-offered' }])).toEqual({ ok: true, keys: [] });
  });

  it('one failed probe fails the scan: a partial list would look like a removed key', () => {
    expect(
      combineProbes([
        { kind: 'key', line: ED },
        { kind: 'failed', code: 'ETIMEDOUT' },
      ]),
    ).toEqual({
      ok: false,
      code: 'ETIMEDOUT',
    });
  });
});

describe('remainingFamilies', () => {
  it('skips the family already found and the ones sshd does not offer', () => {
    const offered = ['rsa-sha2-512', 'rsa-sha2-256', 'ecdsa-sha2-nistp256', 'ssh-ed25519'];
    expect(remainingFamilies({ kind: 'key', line: ED, offered })).toEqual([
      ['ecdsa-sha2-nistp256'],
      ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ]);
    // An RSA key (negotiated as rsa-sha2-512, the blob says ssh-rsa) covers the whole RSA family.
    expect(remainingFamilies({ kind: 'key', line: RSA, offered: ['rsa-sha2-512'] })).toEqual([]);
    // An old sshd offering only ssh-rsa still gets its RSA key probed.
    expect(remainingFamilies({ kind: 'not-offered', offered: ['ssh-rsa'] })).toEqual([
      ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
    ]);
  });

  it('probes every other family when sshd did not say what it offers', () => {
    expect(remainingFamilies({ kind: 'key', line: ED })).toEqual(KEY_FAMILIES.slice(1));
  });
});
