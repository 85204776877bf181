// OIDC ID tokens against the real Dex (hack/dex/dex.sh, built from Go modules), groundwork of the OIDC login
// (issue 9): the verifier (src/hub/auth/oidc.ts) turns tokens Dex issues by the password grant into distinct users,
// and refuses one for another audience, a tampered one, or any without the issuer's CA; a hub started with
// --oidc-* lets alice and bob log in with their ID tokens into workspaces of their own, where kcp (through the
// hub's TokenReview webhook) authenticates them, and neither reaches the other's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { oidcAuthenticator } from '../src/hub/auth/oidc.ts';
import { kedgeLogin, kubectl, run } from './harness/cli.ts';
import { loadTestEnv } from './harness/env.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const repo = new URL('../', import.meta.url).pathname;
const dexScript = join(repo, 'hack', 'dex', 'dex.sh');
const name = `verifier-${Math.random().toString(36).slice(2, 7)}`;
const env: Record<string, string> = {};

beforeAll(async () => {
  const up = await run('bash', [dexScript, 'up', name], { timeoutMs: 60_000 });
  if (up.code !== 0) throw new Error(`dex.sh up: ${up.stderr}`);
  const out = await run('bash', [dexScript, 'env', name]);
  for (const line of out.stdout.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
  }
}, 90_000);

afterAll(async () => {
  await run('bash', [dexScript, 'down', name]);
});

/** An ID token from Dex for `user` (password grant, public client kedge-cli). */
async function idToken(user: string): Promise<string> {
  const res = await fetch(`${env.KEDGE_DEX_ISSUER}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${env.KEDGE_DEX_CLI_CLIENT_ID}:`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      scope: 'openid email groups profile',
      username: user,
      password: env.KEDGE_DEX_PASSWORD ?? '',
    }),
    // Dex's CA is private: undici's fetch takes it through a dispatcher.
    dispatcher: new Agent({ connect: { ca: readFileSync(env.KEDGE_DEX_CA_FILE ?? '') } }),
  });
  const body = (await res.json()) as { id_token?: string; error?: string };
  if (!body.id_token) throw new Error(`no id_token from Dex: ${JSON.stringify(body)}`);
  return body.id_token;
}

describe('OIDC verifier against Dex', () => {
  it("makes alice and bob users with their own tenants, with Dex's groups prefixed", async () => {
    const authn = oidcAuthenticator({
      issuerURL: env.KEDGE_DEX_ISSUER ?? '',
      clientID: env.KEDGE_DEX_CLI_CLIENT_ID ?? '',
      ca: readFileSync(env.KEDGE_DEX_CA_FILE ?? ''),
    });
    const alice = await authn.authenticate(await idToken('alice@example.com'));
    const bob = await authn.authenticate(await idToken('bob@example.com'));
    expect(alice).toMatchObject({ username: 'kedge:oidc:alice@example.com', tenant: expect.stringMatching(/^alice-/) });
    expect(alice?.groups).toContain('kedge:oidc:acme');
    expect(bob).toMatchObject({ username: 'kedge:oidc:bob@example.com', tenant: expect.stringMatching(/^bob-/) });
    expect(bob?.tenant).not.toBe(alice?.tenant);
  });

  it('refuses a token for another audience, a tampered one, and any token without the issuer CA', async () => {
    const token = await idToken('alice@example.com');
    const ca = readFileSync(env.KEDGE_DEX_CA_FILE ?? '');
    const issuerURL = env.KEDGE_DEX_ISSUER ?? '';
    const otherAudience = oidcAuthenticator({ issuerURL, clientID: env.KEDGE_DEX_HUB_CLIENT_ID ?? '', ca });
    expect(await otherAudience.authenticate(token)).toBeUndefined();
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, email: 'admin@example.com' })).toString('base64url')}.${s}`;
    const authn = oidcAuthenticator({ issuerURL, clientID: env.KEDGE_DEX_CLI_CLIENT_ID ?? '', ca });
    expect(await authn.authenticate(token)).toBeDefined();
    expect(await authn.authenticate(forged)).toBeUndefined();
    const noCA = oidcAuthenticator({ issuerURL, clientID: env.KEDGE_DEX_CLI_CLIENT_ID ?? '' });
    expect(await noCA.authenticate(token)).toBeUndefined();
  });
});

describe('a hub with --oidc-*', () => {
  let hub: TestHub | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kedge-oidc-e2e-'));
  const testEnv = loadTestEnv();

  beforeAll(async () => {
    hub = await startTestHub([], {
      oidc: {
        issuerURL: env.KEDGE_DEX_ISSUER ?? '',
        clientID: env.KEDGE_DEX_CLI_CLIENT_ID ?? '',
        ca: readFileSync(env.KEDGE_DEX_CA_FILE ?? ''),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs alice and bob in with their ID tokens, each into a workspace of their own that only they reach', async () => {
    const kc = { alice: join(dir, 'alice.kubeconfig'), bob: join(dir, 'bob.kubeconfig') };
    const tokens = { alice: await idToken('alice@example.com'), bob: await idToken('bob@example.com') };
    await kedgeLogin(hub!.hubURL, tokens.alice, testEnv.hubCAFile, kc.alice);
    await kedgeLogin(hub!.hubURL, tokens.bob, testEnv.hubCAFile, kc.bob);
    const server = (file: string): string => /server: (\S+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    expect(server(kc.alice)).toMatch(/\/clusters\/root:kedge:tenants:alice-[0-9a-f]{10}$/);
    expect(server(kc.bob)).toMatch(/\/clusters\/root:kedge:tenants:bob-[0-9a-f]{10}$/);
    // kcp authenticates the ID token through the hub's TokenReview webhook: alice works in her workspace.
    const own = await kubectl(kc.alice, ['get', 'virtualworkloads', '-o', 'name']);
    expect([own.code, own.stderr]).toEqual([0, '']);
    // bob's token on alice's workspace: authenticated, not allowed.
    const foreign = await kubectl(kc.alice, ['--token', tokens.bob, 'get', 'virtualworkloads']);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/forbidden|Forbidden/);
    // A forged token (claims changed, signature kept) is no one.
    const [h, p, s] = tokens.alice.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, email: 'bob@example.com' })).toString('base64url')}.${s}`;
    const refused = await kubectl(kc.alice, ['--token', forged, 'get', 'virtualworkloads']);
    expect(refused.stderr).toMatch(/Unauthorized|must be logged in/);
  }, 120_000);
});
