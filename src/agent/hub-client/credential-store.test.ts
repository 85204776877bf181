import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentialPath,
  loadCredential,
  parseCredential,
  saveCredential,
  serializeCredential,
} from './credential-store.ts';

describe('credential store', () => {
  it('writes the credential 0600 in a 0700 directory and reads it back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kedge-cred-')), 'state');
    expect(loadCredential(dir, { cluster: 'c', edge: 'e' })).toBeUndefined();
    saveCredential(dir, { token: 't0k', cluster: 'c', edge: 'e', joinedAt: '2026-01-01T00:00:00Z' });
    expect(statSync(credentialPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadCredential(dir, { cluster: 'c', edge: 'e' })).toEqual({
      token: 't0k',
      cluster: 'c',
      edge: 'e',
      hubURL: undefined,
      joinedAt: '2026-01-01T00:00:00Z',
    });
  });

  it("refuses another edge's credential and a broken file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-cred-'));
    saveCredential(dir, { token: 't', cluster: 'c', edge: 'e', joinedAt: '' });
    expect(() => loadCredential(dir, { cluster: 'c', edge: 'other' })).toThrow(/belongs to edge e/);
    writeFileSync(credentialPath(dir), '{');
    expect(() => loadCredential(dir, { cluster: 'c', edge: 'e' })).toThrow(/unreadable/);
  });

  it('parses what it serialises and names the store and the fix in every refusal', () => {
    const owner = { cluster: 'c', edge: 'e' };
    const cred = { token: 't', cluster: 'c', edge: 'e', hubURL: 'https://h', joinedAt: 'now' };
    expect(parseCredential(serializeCredential(cred), owner, 'Secret ns/s', 'delete it')).toEqual(cred);
    expect(() => parseCredential('[]', owner, 'Secret ns/s', 'delete it')).toThrow(
      'Secret ns/s is incomplete; delete it',
    );
    expect(() => parseCredential('null', owner, 'Secret ns/s', 'delete it')).toThrow('is incomplete');
    expect(() => parseCredential('{"token":""}', owner, 'W', 'F')).toThrow('W is incomplete; F');
    expect(() => parseCredential(serializeCredential({ ...cred, cluster: 'x' }), owner, 'W', 'F')).toThrow(
      'W belongs to edge e in cluster x, not e in c; F',
    );
  });
});
