import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginToken, normaliseHubURL } from './login.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-login-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loginToken', () => {
  it('prefers --token, then the first line of --token-file, then KEDGE_TOKEN', () => {
    const file = join(dir, 'token');
    writeFileSync(file, '  from-file  \nsecond line\n', { mode: 0o600 });
    expect(loginToken({ token: 'flag', tokenFile: file }, { KEDGE_TOKEN: 'env' })).toBe('flag');
    expect(loginToken({ tokenFile: file }, { KEDGE_TOKEN: 'env' })).toBe('from-file');
    expect(loginToken({}, { KEDGE_TOKEN: ' env ' })).toBe('env');
  });

  it('names the problem: no token, a missing file, an empty file', () => {
    expect(() => loginToken({}, {})).toThrow(/--token-file FILE, KEDGE_TOKEN, or --token/);
    expect(() => loginToken({ tokenFile: join(dir, 'nope') }, {})).toThrow(/--token-file .*nope: ENOENT/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => loginToken({ tokenFile: empty }, {})).toThrow(/is empty/);
  });
});

describe('normaliseHubURL', () => {
  it('keeps scheme and host, refuses http and non-URLs', () => {
    expect(normaliseHubURL('https://hub.example:8443/some/path')).toBe('https://hub.example:8443');
    expect(() => normaliseHubURL('http://hub')).toThrow(/https/);
    expect(() => normaliseHubURL('hub')).toThrow(/not a URL/);
  });
});
