// The OIDC token matrix (issue 9) against the real Dex, a real hub and the run's real kcp. Every token is tried on the
// three doors an ID token meets: the hub itself (kubectl traffic to /clusters/<own workspace>/… and POST
// /auth/token-login, both 401 Status JSON when refused, and no workspace provisioned), the hub's TokenReview webhook
// as kcp calls it (kcp's own bearer secret, authenticated: false), and kcp directly (401: kcp asks that webhook).
// A valid token passes all three first, so each case can fail. Cases Dex cannot sign (nbf in the future, a wrong iss
// under the right key) are in src/hub/auth/oidc.test.ts. docs/oidc.md lists the checks.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, exportSPKI, generateKeyPair, importJWK } from 'jose';
import { oidcAuthenticator, oidcTenant } from '../src/hub/auth/oidc.ts';
import {
  b64json,
  DEX_UP_TIMEOUT_MS,
  dexDown,
  dexIdToken,
  dexKeys,
  dexRestart,
  dexUp,
  jwtParts,
  type Dex,
} from './harness/dex.ts';
import { loadTestEnv } from './harness/env.ts';
import { eventually, hubRequest, type Reply } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const testEnv = loadTestEnv();
const suffix = Math.random().toString(36).slice(2, 7);
const names = { main: `tokens-${suffix}`, short: `tokens-short-${suffix}` };
/** The short-lived Dex's ID tokens live this long; the hub that trusts it tolerates SHORT_SKEW_SEC of skew. */
const SHORT_EXPIRY_SEC = 5;
const SHORT_SKEW_SEC = 1;
/** The hub's JWKS cooldown (src/hub/auth/oidc.ts): a rotation is picked up within it. */
const JWKS_COOLDOWN_MS = 10_000;
// kcp caches webhook answers for 10 s (src/hub/kcp/process.ts): a token kcp accepted stays accepted by kcp itself that
// long; through the hub, which checks every request, it does not. Tokens that go bad are kept from kcp before.
const VW_PATH = 'apis/kedge.faros.sh/v1alpha1/virtualworkloads';
const TENANTS = '/clusters/root:kedge:tenants/apis/tenancy.kcp.io/v1alpha1/workspaces';

// kcp presents this secret to the webhook (global setup wrote it into kcp's webhook kubeconfig; the test hub shares
// the data dir); the admin token lists tenant workspaces.
const secrets = JSON.parse(readFileSync(join(testEnv.hubDataDir, 'secrets.json'), 'utf8')) as {
  webhookToken: string;
  kcpAdminToken: string;
};

let main: Dex;
/** Started beside the first hub and needed only later (the wrong issuer, then the expiry case). */
let shortUp: Promise<Dex>;
let hub: TestHub | undefined;

beforeAll(async () => {
  shortUp = dexUp(names.short, { KEDGE_DEX_ID_TOKEN_EXPIRY: `${SHORT_EXPIRY_SEC}s` });
  shortUp.catch(() => {}); // awaited where used; an early failure must not be an unhandled rejection
  main = await dexUp(names.main);
}, DEX_UP_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await hub?.stop();
  await Promise.allSettled([shortUp]);
  await Promise.all([dexDown(names.main), dexDown(names.short)]);
});

async function startHubFor(dex: Dex, clockToleranceSec?: number): Promise<void> {
  await hub?.stop();
  hub = undefined;
  hub = await startTestHub([], {
    controllers: { enabled: false },
    oidc: {
      issuerURL: dex.issuer,
      clientID: dex.cliClientID,
      ca: dex.ca,
      ...(clockToleranceSec !== undefined ? { clockToleranceSec } : {}),
    },
  });
}

const hubReq = (method: string, path: string, token: string): Promise<Reply> =>
  hubRequest(hub!.hubURL, hub!.caFile, method, path, { token });
const clusters = (token: string, ws: string): Promise<Reply> => hubReq('GET', `/clusters/${ws}/${VW_PATH}`, token);
const tokenLogin = (token: string): Promise<Reply> => hubReq('POST', '/auth/token-login', token);
const kcpDirect = (token: string, ws: string): Promise<Reply> =>
  hubRequest(testEnv.kcpURL, testEnv.kcpCAFile, 'GET', `/clusters/${ws}/${VW_PATH}`, { token });

/** The TokenReview as kcp sends it (its bearer secret, authentication.k8s.io/v1): the user, or undefined. */
async function reviewUser(token: string): Promise<{ username: string; groups?: string[] } | undefined> {
  const res = await hubRequest(hub!.hubURL, hub!.caFile, 'POST', '/authn/tokenreview', {
    token: secrets.webhookToken,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
  });
  expect(res.status).toBe(200);
  const status = res.json<{ status: { authenticated: boolean; user?: { username: string; groups?: string[] } } }>()
    .status;
  return status.authenticated ? status.user : undefined;
}

const review = async (token: string): Promise<string | undefined> => (await reviewUser(token))?.username;

async function tenantWorkspaces(): Promise<string[]> {
  const res = await hubRequest(testEnv.kcpURL, testEnv.kcpCAFile, 'GET', TENANTS, { token: secrets.kcpAdminToken });
  expect(res.status).toBe(200);
  return res
    .json<{ items: { metadata: { name: string } }[] }>()
    .items.map((w) => w.metadata.name)
    .sort();
}

function expect401Status(res: Reply, where: string): void {
  expect({ where, status: res.status, kind: res.json().kind, code: res.json().code }).toEqual({
    where,
    status: 401,
    kind: 'Status',
    code: 401,
  });
}

/**
 * Accepted at every door: the hub (login, kubectl traffic), the webhook, kcp. Returns the workspace path. With
 * `viaKcp: false` only the doors that do not show the token to kcp (login, webhook), so kcp has no cached answer and
 * must refuse at once when the token goes bad.
 */
async function expectAccepted(token: string, username: string, viaKcp = true): Promise<string> {
  const login = await tokenLogin(token);
  expect(login.status).toBe(200);
  const ws = login.json<{ workspace: string }>().workspace;
  expect(await review(token)).toBe(username);
  if (viaKcp) {
    expect((await clusters(token, ws)).status).toBe(200); // the hub forwards the token: kcp reviews it too
    expect((await kcpDirect(token, ws)).status).toBe(200);
  }
  return ws;
}

/**
 * Refused at every door, at once: the hub checks each request itself, and kcp asks the webhook (its cache, kept
 * 10 s, holds no earlier answer for these tokens: see expectAccepted).
 */
async function expectRefused(token: string, ws: string, what: string): Promise<void> {
  expect401Status(await clusters(token, ws), `${what}: hub /clusters`);
  expect401Status(await tokenLogin(token), `${what}: hub token-login`);
  expect({ what, user: await review(token) }).toEqual({ what, user: undefined });
  expect({ what, kcp: (await kcpDirect(token, ws)).status }).toEqual({ what, kcp: 401 });
}

describe('a hub trusting Dex', () => {
  let aliceWS = '';

  beforeAll(async () => {
    await startHubFor(main);
  }, 60_000);

  it('accepts a valid ID token at the hub, the webhook and kcp (the baseline every case below departs from)', async () => {
    const token = await dexIdToken(main, 'alice@example.com');
    aliceWS = await expectAccepted(token, 'kedge:oidc:alice@example.com');
    expect(aliceWS).toMatch(/^root:kedge:tenants:alice-[0-9a-f]{10}$/);
    // What kcp is told: her tenant's group and Dex's groups claim (alice is in "acme"), prefixed.
    expect((await reviewUser(token))?.groups).toEqual([
      'kedge:users',
      `kedge:tenant:${aliceWS.split(':').at(-1)}`,
      'kedge:oidc:acme',
    ]);
  });

  it("picks up Dex's rotated signing keys without a restart and then refuses tokens of the retired key", async () => {
    const old = await dexIdToken(main, 'alice@example.com');
    expect(await expectAccepted(old, 'kedge:oidc:alice@example.com', false)).toBe(aliceWS);
    await dexRestart(main); // memory storage: new signing keys, the old ones gone from the JWKS
    const fresh = await dexIdToken(main, 'alice@example.com');
    expect(jwtParts(fresh).header.kid).not.toBe(jwtParts(old).header.kid);
    // The first tries may fall in the cooldown after the hub's last JWKS fetch; then the unknown kid refetches.
    await eventually(async () => expect((await clusters(fresh, aliceWS)).status).toBe(200), {
      what: 'the hub accepts a token signed with the new key',
      timeoutMs: JWKS_COOLDOWN_MS + 5_000,
    });
    await expectAccepted(fresh, 'kedge:oidc:alice@example.com');
    await expectRefused(old, aliceWS, 'a token of the retired key');
  });

  it('refuses wrong audience, wrong issuer, alg none, another key, HS256, tampered and garbage tokens; provisions nothing', async () => {
    const before = await tenantWorkspaces();
    const carol = await dexIdToken(main, 'carol@example.com');
    const { header, claims, raw } = jwtParts(carol);
    const [h, p, s] = raw;
    const mainKeys = await dexKeys(main);
    expect(mainKeys.map((k) => k.kid)).toContain(header.kid);
    const tokens: Record<string, string> = {};
    // A token the hub's verifier would take if its aud were kedge-hub: the audience is the only defect.
    tokens.wrongAudience = await dexIdToken(main, 'carol@example.com', 'hub');
    expect(jwtParts(tokens.wrongAudience).claims.aud).toBe(main.hubClientID);
    const forHubClient = oidcAuthenticator({ issuerURL: main.issuer, clientID: main.hubClientID, ca: main.ca });
    expect(await forHubClient.authenticate(tokens.wrongAudience)).toBeDefined();
    // Another Dex: valid there, not here (its iss and its key are not the hub's).
    const short = await shortUp;
    tokens.wrongIssuer = await dexIdToken(short, 'carol@example.com');
    const atShort = oidcAuthenticator({ issuerURL: short.issuer, clientID: short.cliClientID, ca: short.ca });
    expect(await atShort.authenticate(tokens.wrongIssuer)).toBeDefined();
    // Dex's claims with {alg: none}: without a signature, and with Dex's own signature left on.
    tokens.algNone = `${b64json({ alg: 'none' })}.${p}.`;
    tokens.algNoneSigned = `${b64json({ alg: 'none', kid: header.kid })}.${p}.${s}`;
    // Dex's claims byte for byte, Dex's kid in the header, signed by a key Dex never had.
    const { privateKey } = await generateKeyPair('RS256');
    tokens.otherKey = await new CompactSign(Buffer.from(p, 'base64url'))
      .setProtectedHeader({ ...header, alg: 'RS256' })
      .sign(privateKey);
    // Algorithm confusion: HMAC keyed with Dex's public key (which anyone can fetch).
    const jwk = mainKeys.find((k) => k.kid === header.kid);
    const spki = await exportSPKI((await importJWK({ ...jwk, alg: 'RS256' }, 'RS256', { extractable: true })) as never);
    tokens.hs256PublicKey = await new CompactSign(Buffer.from(p, 'base64url'))
      .setProtectedHeader({ alg: 'HS256', kid: header.kid as string })
      .sign(new TextEncoder().encode(spki));
    // Dex's signature over claims changed to another user.
    tokens.tampered = `${h}.${b64json({ ...claims, email: 'admin@example.com', sub: 'admin' })}.${s}`;
    tokens.emptyIsh = '.';
    tokens.notAJWT = 'not-a-jwt';
    tokens.twoDots = '..';
    tokens.threeDots = '...';
    tokens.threeParts = 'a.b.c';
    tokens.huge = ['x', 'y', 'z'].map((c) => c.repeat(4_000)).join('.'); // 12 KB: under every header limit
    // The unaltered token is accepted (so each refusal above is the alteration's).
    expect(await review(carol)).toBe('kedge:oidc:carol@example.com');

    for (const [what, token] of Object.entries(tokens)) await expectRefused(token, aliceWS, what);
    // An empty bearer: the hub and the webhook refuse it (kcp would treat the request as anonymous).
    expect401Status(await hubReq('GET', `/clusters/${aliceWS}/${VW_PATH}`, ''), 'empty bearer');
    expect(await review('')).toBeUndefined();

    // Nothing provisioned: no new tenant workspace at all, in particular none of carol's.
    const after = await tenantWorkspaces();
    expect(after).toEqual(before);
    const carolTenants = [main, short].map((d) => oidcTenant(d.issuer, claims.sub as string, 'carol@example.com'));
    for (const t of carolTenants) expect(after).not.toContain(t);
  });
});

describe('a hub trusting a Dex whose ID tokens live 5 s, with 1 s of clock skew', () => {
  let short: Dex;

  beforeAll(async () => {
    short = await shortUp;
    await startHubFor(short, SHORT_SKEW_SEC);
    // bob's workspace first, so the token below spends its few seconds on the checks, not on provisioning.
    expect((await tokenLogin(await dexIdToken(short, 'bob@example.com'))).status).toBe(200);
  }, 60_000);

  it('accepts a token until it expires, and refuses it from exp + skew on', async () => {
    const token = await dexIdToken(short, 'bob@example.com');
    const { exp } = jwtParts(token).claims as { exp: number };
    const ws = await expectAccepted(token, 'kedge:oidc:bob@example.com', false);
    expect(Date.now() / 1000).toBeLessThan(exp); // the acceptance above was within the token's life
    // Polled at the webhook, which shows the token to no one else (kcp would cache an acceptance).
    await eventually(async () => expect(await review(token)).toBeUndefined(), {
      what: 'the hub refuses the expired token',
      timeoutMs: (SHORT_EXPIRY_SEC + SHORT_SKEW_SEC + 10) * 1000,
      intervalMs: 200,
    });
    const refusedAt = Date.now() / 1000;
    // Not before exp + skew (the skew is honoured), and not much later (it is the configured 1 s, not the default 30 s).
    expect(refusedAt).toBeGreaterThanOrEqual(exp + SHORT_SKEW_SEC);
    expect(refusedAt).toBeLessThan(exp + SHORT_SKEW_SEC + 3);
    await expectRefused(token, ws, 'an expired token');
  });
});
