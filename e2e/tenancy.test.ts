// Static-token login and tenant isolation through the hub, against a real kcp: each token gets its own
// workspace; requests are forwarded under the user's own identity; other workspaces are 403 (the hub's outside
// root:kedge:tenants, kcp's inside it: a workspace can be shared); bad tokens 401.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Agent, request } from 'undici';
import { loadTestEnv } from './harness/env.ts';
import { hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const env = loadTestEnv();
const suffix = randomBytes(3).toString('hex');
const [tenantA, tenantB] = [`alpha-${suffix}`, `beta-${suffix}`];
const [tokenA, tokenB] = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
const wsA = `root:kedge:tenants:${tenantA}`;
const wsB = `root:kedge:tenants:${tenantB}`;
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub([`${tenantA}=${tokenA}`, `${tenantB}=${tokenB}`]);
});
afterAll(async () => {
  await hub?.stop();
});

const get = (path: string, token?: string) =>
  hubRequest(hub.hubURL, hub.caFile, 'GET', path, token === undefined ? {} : { token });
const login = (token?: string) =>
  hubRequest(hub.hubURL, hub.caFile, 'POST', '/auth/token-login', token === undefined ? {} : { token });

/** A Kubernetes Status with the HTTP code and the hub's error code (docs/errors.md) as its first cause. */
function expectStatus(reply: { status: number; json(): Record<string, unknown> }, code: number): void {
  expect(reply.status).toBe(code);
  expect(reply.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  const causes = (reply.json().details as { causes?: { type?: string }[] } | undefined)?.causes;
  expect(causes?.[0]?.type).toMatch(/^KEDGE_HUB_[A-Z_]+$/);
}

describe('token login', () => {
  it('gives each token its own tenant workspace and a kubeconfig pointing at it through the hub', async () => {
    const a = await login(tokenA);
    expect(a.status).toBe(200);
    const body = a.json<{ kubeconfig: string; workspace: string; userId: string }>();
    expect(body.workspace).toBe(wsA);
    expect(body.userId).toBe(`kedge:static:${tenantA}`);
    const kc = parse(Buffer.from(body.kubeconfig, 'base64').toString()) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: { token: string } }[];
    };
    expect(kc.clusters[0]?.cluster.server).toBe(`${hub.hubURL}/clusters/${wsA}`);
    expect(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString()).toBe(
      readFileSync(hub.caFile, 'utf8'),
    );
    expect(kc.users[0]?.user.token).toBe(tokenA);

    const b = await login(tokenB);
    expect(b.status).toBe(200);
    expect(b.json<{ workspace: string }>().workspace).toBe(wsB);
  });

  it('is idempotent: a second login returns the same workspace', async () => {
    const again = await login(tokenA);
    expect(again.status).toBe(200);
    expect(again.json<{ workspace: string }>().workspace).toBe(wsA);
  });

  it('binds the kedge.faros.sh export in the tenant workspace before answering', async () => {
    const res = await get(`/clusters/${wsA}/apis/apis.kcp.io/v1alpha2/apibindings/kedge.faros.sh`, tokenA);
    expect(res.status).toBe(200);
    expect(res.json<{ status: { phase: string } }>().status.phase).toBe('Bound');
    const vws = await get(`/clusters/${wsA}/apis/kedge.faros.sh/v1alpha1/namespaces/default/virtualworkloads`, tokenA);
    expect(vws.status).toBe(200);
  });

  it.each([
    ['no token', undefined],
    ['a garbage token', 'garbage-token-that-is-long-enough'],
    [
      'an unsigned JWT',
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"${tenantA}","iss":"kedge"}`).toString('base64url')}.`,
    ],
  ])('answers 401 Status JSON to %s', async (_what, token) => {
    expectStatus(await login(token), 401);
    expectStatus(await get(`/clusters/${wsA}/api/v1/namespaces`, token), 401);
  });

  it('rejects GET on /auth/token-login with 405, not a pass-through to kcp', async () => {
    expect((await get('/auth/token-login', tokenA)).status).toBe(405);
  });
});

describe('TokenReview webhook (only kcp may call it)', () => {
  const review = (token: string) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  const secret = (JSON.parse(readFileSync(join(env.hubDataDir, 'secrets.json'), 'utf8')) as { webhookToken: string })
    .webhookToken;

  it.each([
    ['no token', undefined],
    ['a user token', tokenA],
    ['a garbage token', 'x'.repeat(40)],
  ])('answers 401 to %s', async (_what, token) => {
    const res = await hubRequest(hub.hubURL, hub.caFile, 'POST', '/authn/tokenreview', {
      ...(token ? { token } : {}),
      body: review(tokenA),
    });
    expectStatus(res, 401);
    expect(res.body).not.toContain(tenantA);
  });

  it('maps a known token to its kedge user and an unknown one to unauthenticated', async () => {
    const ok = await hubRequest(hub.hubURL, hub.caFile, 'POST', '/authn/tokenreview', {
      token: secret,
      body: review(tokenA),
    });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({
      kind: 'TokenReview',
      status: {
        authenticated: true,
        user: { username: `kedge:static:${tenantA}`, groups: ['kedge:users', `kedge:tenant:${tenantA}`] },
      },
    });
    const bad = await hubRequest(hub.hubURL, hub.caFile, 'POST', '/authn/tokenreview', {
      token: secret,
      body: review('unknown-token-unknown-token'),
    });
    expect(bad.json()).toMatchObject({ status: { authenticated: false } });
    const malformed = await hubRequest(hub.hubURL, hub.caFile, 'POST', '/authn/tokenreview', {
      token: secret,
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
  });
});

describe('hub endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics, and 404 Status JSON elsewhere', async () => {
    expect((await get('/healthz')).body).toBe('ok');
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/kedge_hub_http_requests_total\{route="token-login",code="200"\} \d+/);
    expectStatus(await get('/no/such/path', tokenA), 404);
  });
});

describe('forwarding to kcp under the user identity', () => {
  it('lets a user work in their own workspace', async () => {
    const res = await hubRequest(
      hub.hubURL,
      hub.caFile,
      'POST',
      `/clusters/${wsA}/api/v1/namespaces/default/configmaps`,
      {
        token: tokenA,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello' }, data: { a: '1' } },
      },
    );
    expect([201, 409]).toContain(res.status);
    const whoami = await hubRequest(
      hub.hubURL,
      hub.caFile,
      'POST',
      `/clusters/${wsA}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
      {
        token: tokenA,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      },
    );
    expect(whoami.status).toBe(201);
    // kcp saw the user themself, not an admin identity.
    expect(
      whoami.json<{ status: { userInfo: { username: string; groups: string[] } } }>().status.userInfo,
    ).toMatchObject({
      username: `kedge:static:${tenantA}`,
    });
    expect(whoami.json<{ status: { userInfo: { groups: string[] } } }>().status.userInfo.groups).not.toContain(
      'system:kcp:admin',
    );
  });

  it('answers 403 for the parent, root and other kedge workspaces (the hub refuses them)', async () => {
    for (const path of [
      '/clusters/root:kedge:tenants/api/v1/namespaces',
      '/clusters/root/api/v1/namespaces',
      '/clusters/root:kedge:providers/apis',
      '/clusters/root:kedge:tenantsx:a/api/v1/namespaces',
    ]) {
      const res = await get(path, tokenA);
      expectStatus(res, 403);
      expect(res.json<{ message: string }>().message).toMatch(/is not accessible/);
    }
  });

  it("forwards other tenants' workspaces (they can be shared): kcp answers 403, or 404 for none", async () => {
    const other = await get(`/clusters/${wsB}/api/v1/namespaces`, tokenA);
    expect(other.status).toBe(403);
    expect(other.json<{ message: string }>().message).not.toMatch(/is not accessible/);
    const missing = await get(`/clusters/${wsA}x/api/v1/namespaces`, tokenA);
    expect(missing.status).toBe(404);
    expect(missing.json<{ details?: { kind?: string } }>().details?.kind).toBe('workspaces');
  });

  it('is also refused by kcp itself when a user token is sent straight to kcp for another workspace', async () => {
    const dispatcher = new Agent({ connect: { ca: readFileSync(env.kcpCAFile) } });
    const direct = async (ws: string, token: string) => {
      const r = await request(`${env.kcpURL}/clusters/${ws}/api/v1/namespaces`, {
        dispatcher,
        headers: { authorization: `Bearer ${token}` },
      });
      await r.body.text();
      return r.statusCode;
    };
    expect(await direct(wsA, tokenA)).toBe(200);
    // kcp hides workspaces a user may not access (404) or forbids them (403): either way, nothing leaks.
    expect([403, 404]).toContain(await direct(wsB, tokenA));
    await dispatcher.close();
  });

  it.each([
    [`/clusters/${wsA}/../${tenantB}/api/v1/namespaces`],
    [`/clusters/${wsA}/%2e%2e/%2e%2e/api/v1/namespaces`],
    [`/clusters/${wsA}%2f..%2f${tenantB}/api/v1/namespaces`],
    [`/clusters/${wsA}%3a..%3a${tenantB}/api/v1/namespaces`],
    [`/clusters/${wsA}//api/v1/namespaces`],
    [`/clusters/${wsA}\\..\\${tenantB}/api`],
  ])('cannot escape the workspace with %s', async (path) => {
    const res = await get(path, tokenA);
    expect([400, 403]).toContain(res.status);
    expect(res.body).not.toContain(tenantB + '"');
  });

  it('strips impersonation headers a client sends', async () => {
    const res = await hubRequest(hub.hubURL, hub.caFile, 'GET', `/clusters/${wsB}/api/v1/namespaces`, {
      token: tokenA,
      headers: { 'Impersonate-User': `kedge:static:${tenantB}`, 'Impersonate-Group': 'system:masters' },
    });
    expect(res.status).toBe(403);
    const own = await hubRequest(hub.hubURL, hub.caFile, 'GET', `/clusters/${wsA}/api/v1/namespaces`, {
      token: tokenA,
      headers: { 'Impersonate-Group': 'system:masters' },
    });
    expect(own.status).toBe(200);
  });
});
