// The OIDC verifier against an in-process HTTPS issuer (discovery + JWKS) with keys made by jose: which tokens make a
// user and which do not. The real Dex runs in the e2e suites of the OIDC login.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompactSign,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { ensureDevPki } from '../tls.ts';
import { checkOidcOptions, oidcAuthenticator, oidcTenant, userFromClaims } from './oidc.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-oidc-'));
let server: Server;
let issuer = '';
let ca: Buffer;
let jwks: JWK[] = [];
let key1: { privateKey: CryptoKey; kid: string; publicKey: CryptoKey; jwk: JWK };
let jwksFetches = 0;

async function newKey(kid: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicKey, kid, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

beforeAll(async () => {
  const pki = ensureDevPki(join(dir, 'pki'), ['127.0.0.1']);
  ca = readFileSync(pki.caFile);
  server = createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/dex/.well-known/openid-configuration')
      return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
    // An issuer whose discovery names a JWKS over plain http: its keys could be swapped on the way.
    if (req.url === '/plain/.well-known/openid-configuration')
      return res.end(JSON.stringify({ issuer: plainIssuer(), jwks_uri: plainJwksURL }));
    if (req.url === '/dex/keys') {
      jwksFetches++;
      return res.end(JSON.stringify({ keys: jwks }));
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}/dex`;
  const k = await newKey('k1');
  jwks = [k.jwk];
  key1 = k;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

let plainJwksURL = '';
const plainIssuer = (): string => issuer.replace(/\/dex$/, '/plain');

const claims = () => ({ email: 'alice@example.com', email_verified: true, groups: ['admins'], sub: 'CiQwOGE4' });

function sign(
  key: { privateKey: CryptoKey; kid: string },
  over: { aud?: string; iss?: string; exp?: number; nbf?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(over.claims ?? claims())
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(over.iss ?? issuer)
    .setAudience(over.aud ?? 'kedge')
    .setIssuedAt(now)
    .setExpirationTime(over.exp ?? now + 300);
  if (over.nbf !== undefined) jwt = jwt.setNotBefore(over.nbf);
  return jwt.sign(key.privateKey);
}

const authn = () => oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', ca, jwksCooldownMs: 0 });

describe('oidcAuthenticator', () => {
  test('a valid ID token is a prefixed user with a tenant of their own', async () => {
    const u = await authn().authenticate(await sign(key1));
    expect(u).toEqual({
      username: 'kedge:oidc:alice@example.com',
      uid: expect.stringMatching(/^oidc-[0-9a-f]{32}$/),
      groups: ['kedge:users', `kedge:tenant:${u?.tenant}`, 'kedge:oidc:admins'],
      tenant: expect.stringMatching(/^alice-[0-9a-f]{10}$/),
    });
  });

  test('expired, not yet valid, wrong audience, wrong issuer, alg none, another key, garbage: no user', async () => {
    const a = authn();
    const now = Math.floor(Date.now() / 1000);
    const stranger = await newKey('k1'); // same kid, other key: the signature fails
    const tokens = {
      expired: await sign(key1, { exp: now - 120 }),
      notYetValid: await sign(key1, { nbf: now + 600 }),
      wrongAudience: await sign(key1, { aud: 'someone-else' }),
      wrongIssuer: await sign(key1, { iss: `${issuer}x` }),
      algNone: new UnsecuredJWT(claims())
        .setIssuer(issuer)
        .setAudience('kedge')
        .setIssuedAt()
        .setExpirationTime('5m')
        .encode(),
      otherKey: await sign(stranger),
      unverifiedEmail: await sign(key1, { claims: { ...claims(), email_verified: false } }),
      garbage: 'a.b.c',
      notAJWT: 'static-token-value-1234567890',
    };
    const results = Object.fromEntries(
      await Promise.all(Object.entries(tokens).map(async ([k, t]) => [k, await a.authenticate(t)] as const)),
    );
    expect(results).toEqual(Object.fromEntries(Object.keys(tokens).map((k) => [k, undefined])));
    // Within the clock skew an expired token still passes (clocks differ a little).
    expect(await a.authenticate(await sign(key1, { exp: now - 5 }))).toBeDefined();
  });

  test('a key rotation at the issuer is picked up without a restart (unknown kid → JWKS fetched again)', async () => {
    const a = authn();
    expect(await a.authenticate(await sign(key1))).toBeDefined();
    const before = jwksFetches;
    const k2 = await newKey('k2');
    jwks = [k2.jwk];
    expect(await a.authenticate(await sign(k2))).toBeDefined();
    expect(jwksFetches).toBeGreaterThan(before);
    expect(await a.authenticate(await sign(key1))).toBeUndefined(); // the retired key no longer verifies
    jwks = [key1.jwk]; // back to the first key for the tests below
  });

  test('alg none with a signature part, and HS256 keyed with the public key (alg confusion): no user', async () => {
    const a = authn();
    const valid = await sign(key1);
    const [, payload, signature] = valid.split('.');
    const header = (h: object): string => Buffer.from(JSON.stringify(h)).toString('base64url');
    // `h.p.` is caught by the shape check; with a signature part the token reaches jose, whose allow-list refuses it.
    const noneSigned = `${header({ alg: 'none', kid: key1.kid })}.${payload}.${signature}`;
    const spki = new TextEncoder().encode(await exportSPKI(key1.publicKey));
    const hmac = await new CompactSign(Buffer.from(payload ?? '', 'base64url'))
      .setProtectedHeader({ alg: 'HS256', kid: key1.kid })
      .sign(spki);
    expect(await a.authenticate(valid)).toBeDefined(); // the same payload, properly signed, is a user
    expect(await a.authenticate(noneSigned)).toBeUndefined();
    expect(await a.authenticate(hmac)).toBeUndefined();
  });

  test('the clock skew is the configured one, for nbf and exp alike', async () => {
    const now = Math.floor(Date.now() / 1000);
    const soon = await sign(key1, { nbf: now + 10 });
    const justExpired = await sign(key1, { exp: now - 10 });
    const lenient = oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', ca, clockToleranceSec: 30 });
    const strict = oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', ca, clockToleranceSec: 2 });
    expect(await lenient.authenticate(soon)).toBeDefined();
    expect(await lenient.authenticate(justExpired)).toBeDefined();
    expect(await strict.authenticate(soon)).toBeUndefined();
    expect(await strict.authenticate(justExpired)).toBeUndefined();
    expect(await strict.authenticate(await sign(key1))).toBeDefined(); // strict, not broken
  });

  test('unknown kids fetch the JWKS again at most once per cooldown', async () => {
    const a = oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', ca, jwksCooldownMs: 60_000 });
    expect(await a.authenticate(await sign(key1))).toBeDefined();
    const before = jwksFetches;
    for (let i = 0; i < 5; i++) expect(await a.authenticate(await sign(await newKey(`made-up-${i}`)))).toBeUndefined();
    expect(jwksFetches).toBe(before); // within the cooldown: refused without asking the issuer
    expect(await a.authenticate(await sign(key1))).toBeDefined();
  });

  test('a JWKS over plain http is not trusted', async () => {
    const http = createHttpServer((_req, res) => res.end(JSON.stringify({ keys: jwks })));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    plainJwksURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}/keys`;
    try {
      const a = oidcAuthenticator({ issuerURL: plainIssuer(), clientID: 'kedge', ca, jwksCooldownMs: 0 });
      expect(await a.authenticate(await sign(key1, { iss: plainIssuer() }))).toBeUndefined();
    } finally {
      await new Promise<void>((r) => http.close(() => r()));
    }
  });

  test('an issuer whose certificate is not trusted makes no user', async () => {
    const untrusting = oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', jwksCooldownMs: 0 });
    expect(await untrusting.authenticate(await sign(key1))).toBeUndefined();
  });
  test('an issuer that cannot be reached is reported through onIssuerError; a bad token is not', async () => {
    const reported: unknown[] = [];
    const onIssuerError = (err: unknown): void => void reported.push(err);
    // A port nothing listens on: discovery fails, which is the issuer's failure, not the token's.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = oidcAuthenticator({
      issuerURL: `https://127.0.0.1:${port}/dex`,
      clientID: 'kedge',
      ca,
      onIssuerError,
    });
    expect(await down.authenticate(await sign(key1))).toBeUndefined();
    expect(reported).toHaveLength(1);
    const up = oidcAuthenticator({ issuerURL: issuer, clientID: 'kedge', ca, jwksCooldownMs: 0, onIssuerError });
    expect(await up.authenticate(await sign(key1, { aud: 'someone-else' }))).toBeUndefined();
    expect(await up.authenticate(await sign(await newKey('k9')))).toBeUndefined(); // unknown kid
    expect(reported).toHaveLength(1);
  });
});

describe('claims and options', () => {
  test('tenants: readable, DNS labels, distinct per subject', () => {
    const t = oidcTenant('https://i', 'sub-1', 'Alice.Smith+x@example.com');
    expect(t).toMatch(/^alice-smith-x-[0-9a-f]{10}$/);
    expect(oidcTenant('https://i', 'sub-2', 'alice.smith+x@example.com')).not.toBe(t);
    expect(oidcTenant('https://i', 's', '@@@')).toMatch(/^u-[0-9a-f]{10}$/);
    expect(oidcTenant('https://i', 's', `${'a'.repeat(100)}@x`).length).toBeLessThanOrEqual(63);
  });

  test('a user needs the username claim, sub and iss; groups are prefixed and non-strings dropped', () => {
    const o = { usernameClaim: 'preferred_username', groupsClaim: 'groups', prefix: 'p:' };
    expect(userFromClaims({ sub: 's', iss: 'i', groups: ['a'] }, o)).toBeUndefined();
    const u = userFromClaims({ sub: 's', iss: 'i', preferred_username: 'bob', groups: ['a', 5, ''] }, o);
    expect(u?.username).toBe('p:bob');
    expect(u?.groups.slice(2)).toEqual(['p:a']);
  });

  test('bad options are refused, each named', () => {
    expect(() => checkOidcOptions({ issuerURL: 'http://dex', clientID: '' })).toThrow(
      /must be https.*client ID is empty/,
    );
    expect(() => checkOidcOptions({ issuerURL: 'https://dex', clientID: 'k', prefix: 'system:' })).toThrow(/prefix/);
    expect(() => checkOidcOptions({ issuerURL: 'https://dex', clientID: 'k', clockToleranceSec: 301 })).toThrow(
      /clock skew must be 0 to 300 s/,
    );
    expect(() => checkOidcOptions({ issuerURL: 'https://dex', clientID: 'k', clockToleranceSec: -1 })).toThrow(/skew/);
    expect(checkOidcOptions({ issuerURL: 'https://dex', clientID: 'k' })).toMatchObject({
      clockToleranceSec: 30,
      jwksCooldownMs: 10_000,
    });
  });
});
