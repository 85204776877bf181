import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKedgeError } from '../api/errors.ts';
import { CLIError, CLIErrorCode } from './errors.ts';
import { execCredential, getToken, isFresh } from './get-token.ts';
import { readTokenCache, tokenCachePath, writeTokenCache, type CachedLogin } from './oidc/token-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-get-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hubURL = 'https://hub.example:8443';
const inS = (s: number): string => new Date(Date.now() + s * 1000).toISOString();
const base: CachedLogin = {
  hubURL,
  issuerURL: 'https://dex.example/dex',
  clientID: 'kedge-cli',
  scopes: ['openid', 'offline_access'],
  idToken: 'old.id.token',
  refreshToken: 'r1',
  expiry: inS(3600),
};

function setup(name: string, c: CachedLogin | undefined): NodeJS.ProcessEnv {
  const env = { XDG_CACHE_HOME: join(dir, name) };
  if (c) writeTokenCache(tokenCachePath(hubURL, env), c);
  return env;
}

describe('get-token', () => {
  it('prints an ExecCredential with the expiry in whole seconds', () => {
    expect(execCredential({ idToken: 't', expiry: '2030-01-02T03:04:05.678Z' })).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 't', expirationTimestamp: '2030-01-02T03:04:05Z' },
    });
    expect(isFresh({ expiry: inS(60), idToken: 'opaque' })).toBe(true);
    expect(isFresh({ expiry: inS(20), idToken: 'opaque' })).toBe(false);
    // A 20 s token renews in its last 5 s, not on every call.
    const now = Math.floor(Date.now() / 1000);
    const short = `e30.${Buffer.from(JSON.stringify({ iat: now, exp: now + 20 })).toString('base64url')}.sig`;
    expect(isFresh({ expiry: inS(12), idToken: short })).toBe(true);
    expect(isFresh({ expiry: inS(4), idToken: short })).toBe(false);
  });

  it('answers from the cache while the ID token is fresh', async () => {
    const env = setup('fresh', base);
    let refreshed = 0;
    const cred = await getToken(
      { hubUrl: `${hubURL}/` },
      () => Promise.resolve({ ...base, idToken: `${++refreshed}` }),
      env,
    );
    expect([cred.status.token, refreshed]).toEqual(['old.id.token', 0]);
  });

  it('refreshes once for many parallel callers near expiry, and caches the new tokens', async () => {
    const env = setup('expired', { ...base, expiry: inS(10) });
    let refreshed = 0;
    const refresh = async (c: CachedLogin): Promise<CachedLogin> => {
      refreshed++;
      await new Promise((r) => setTimeout(r, 50));
      return { ...c, idToken: 'new.id.token', refreshToken: 'r2', expiry: inS(3600) };
    };
    const creds = await Promise.all(Array.from({ length: 6 }, () => getToken({ hubUrl: hubURL }, refresh, env)));
    expect(refreshed).toBe(1);
    expect(new Set(creds.map((c) => c.status.token))).toEqual(new Set(['new.id.token']));
    expect(readTokenCache(tokenCachePath(hubURL, env))).toMatchObject({ idToken: 'new.id.token', refreshToken: 'r2' });
  });

  it('says "run kedge login" when there is no login or no refresh token, without calling the issuer', async () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [setup('none', undefined), /^not logged in to https:\/\/hub\.example:8443 with OIDC/],
      [setup('norefresh', { ...base, expiry: inS(-5), refreshToken: undefined }), /has no refresh token/],
    ];
    for (const [env, why] of cases) {
      let called = false;
      const err = await getToken(
        { hubUrl: hubURL },
        () => {
          called = true;
          return Promise.resolve(base);
        },
        env,
      ).catch((e: unknown) => e);
      expect([isKedgeError(err) && err.code, called]).toEqual(['KEDGE_CLI_LOGIN_REQUIRED', false]);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toMatch(/: run kedge login --hub-url https:\/\/hub\.example:8443$/);
    }
  });

  it('passes a failed refresh on and leaves the cache as it was', async () => {
    const env = setup('revoked', { ...base, expiry: inS(-5) });
    const refusal = new CLIError(CLIErrorCode.LoginRequired, 'could not be renewed (invalid_grant): run kedge login');
    await expect(getToken({ hubUrl: hubURL }, () => Promise.reject(refusal), env)).rejects.toBe(refusal);
    expect(readTokenCache(tokenCachePath(hubURL, env))?.idToken).toBe('old.id.token');
  });
});
