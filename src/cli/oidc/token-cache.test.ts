import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  jwtExpiry,
  readTokenCache,
  tokenCacheDir,
  tokenCachePath,
  withCacheLock,
  writeTokenCache,
  type CachedLogin,
} from './token-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-token-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry: CachedLogin = {
  hubURL: 'https://hub.example:8443',
  issuerURL: 'https://dex.example/dex',
  clientID: 'kedge-cli',
  scopes: ['openid'],
  idToken: 'a.b.c',
  refreshToken: 'r',
  expiry: new Date(0).toISOString(),
};

describe('token cache', () => {
  it('keeps one file per hub under $XDG_CACHE_HOME/kedge/tokens, else ~/.cache', () => {
    const env = { XDG_CACHE_HOME: dir };
    expect(tokenCacheDir(env)).toBe(join(dir, 'kedge', 'tokens'));
    expect(tokenCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/kedge\/tokens$/);
    const a = tokenCachePath('https://a:1', env);
    expect(a).toMatch(/\/kedge\/tokens\/[0-9a-f]{32}\.json$/);
    expect(tokenCachePath('https://b:1', env)).not.toBe(a);
    expect(tokenCachePath('https://a:1', env)).toBe(a);
  });

  it('writes 0600 in a 0700 directory, atomically, and reads it back', () => {
    const path = tokenCachePath(entry.hubURL, { XDG_CACHE_HOME: join(dir, 'w') });
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
    writeTokenCache(path, entry);
    writeTokenCache(path, { ...entry, idToken: 'x.y.z' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(path, '..'))).toEqual([path.split('/').pop()]);
    expect(readTokenCache(path)).toEqual({ ...entry, idToken: 'x.y.z' });
  });

  it('treats a missing or malformed file as no login', () => {
    expect(readTokenCache(join(dir, 'none.json'))).toBeUndefined();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{not json');
    expect(readTokenCache(bad)).toBeUndefined();
    writeFileSync(bad, '{"idToken": 1}');
    expect(readTokenCache(bad)).toBeUndefined();
  });

  it("reads a JWT's exp without verifying it", () => {
    const jwt = (p: object): string => `e30.${Buffer.from(JSON.stringify(p)).toString('base64url')}.sig`;
    expect(jwtExpiry(jwt({ exp: 1234 }))).toBe(1234);
    expect(jwtExpiry(jwt({}))).toBeUndefined();
    expect(jwtExpiry('garbage')).toBeUndefined();
  });
});

describe('withCacheLock', () => {
  it('lets one holder in at a time and releases on error', async () => {
    const path = join(dir, 'lock', 'x.json');
    let inside = 0;
    let most = 0;
    const work = (): Promise<void> =>
      withCacheLock(path, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
      });
    await Promise.all([work(), work(), work(), work()]);
    expect(most).toBe(1);
    await expect(withCacheLock(path, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('breaks a lock whose holder is gone', async () => {
    const path = join(dir, 'stale', 'x.json');
    mkdirSync(join(path, '..'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(`${path}.lock`, `${dead}\n`);
    await expect(withCacheLock(path, () => Promise.resolve('got it'))).resolves.toBe('got it');
  });
});
