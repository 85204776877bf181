// `kedge login` with OIDC as a user runs it (issue 9): the real Dex (hack/dex/dex.sh, ID tokens living 10 s, so the waits for expiry stay short), a hub
// with --oidc-*, Debian's Chromium driven by playwright-core on Dex's real login pages, real kubectl through the
// exec plugin `kedge get-token`. alice logs in in the browser (--no-browser prints the URL, as on a host whose
// browser the CLI cannot open), bob with a device code; both reach their workspaces with no token in the kubeconfig.
// Past the ID token's expiry kubectl keeps working (parallel get-token calls renew once); once Dex restarted (its
// memory storage loses every refresh token) kubectl fails with "run kedge login" and no browser is started. `kedge ssh`
// to a host logs in as the local part of alice's email (sshd's log names the login it was asked for).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { LOGIN_CONFIG_PATH } from '../src/api/login-config.ts';
import { tokenCachePath, type CachedLogin } from '../src/cli/oidc/token-cache.ts';
import { run, type RunResult } from './harness/cli.ts';
import { DEX_UP_TIMEOUT_MS, dexDown, dexRestart, dexUp, type Dex } from './harness/dex.ts';
import { loadTestEnv, toolsBin } from './harness/env.ts';
import { eventually } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { joinServerEdge, spawnKedge, kedgeCapture, type RunningKedge } from './harness/ssh.ts';
import { startSshd } from './harness/sshd.ts';

const repo = new URL('../', import.meta.url).pathname;
const dexName = `login-${Math.random().toString(36).slice(2, 7)}`;
let dex: Dex;
const testEnv = loadTestEnv();
const root = mkdtempSync(join(tmpdir(), 'kedge-oidc-login-'));
/** $BROWSER for every command here: records that something tried to open a browser. */
const browserMarker = join(root, 'browser-was-opened');
const fakeBrowser = join(root, 'fake-browser');
let hub: TestHub | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  dex = await dexUp(dexName, { KEDGE_DEX_ID_TOKEN_EXPIRY: '10s' });
  writeFileSync(fakeBrowser, `#!/bin/sh\necho "$@" >> '${browserMarker}'\n`);
  chmodSync(fakeBrowser, 0o755);
  [hub, browser] = await Promise.all([
    startTestHub([], { oidc: { issuerURL: dex.issuer, clientID: dex.cliClientID, ca: dex.ca } }),
    chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] }),
  ]);
}, DEX_UP_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await dexDown(dexName);
  rmSync(root, { recursive: true, force: true });
});

interface User {
  env: Record<string, string>;
  kubeconfig: string;
}

/** A user of their own: HOME, kubeconfig and token cache in a fresh directory; the launcher as exec command. */
function newUser(name: string): User {
  const home = join(root, name);
  mkdirSync(home);
  const kubeconfig = join(home, 'kubeconfig');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    HOME: home,
    KUBECONFIG: kubeconfig,
    XDG_CACHE_HOME: join(home, 'cache'),
    BROWSER: fakeBrowser,
    KEDGE_CLI_PATH: join(repo, 'bin', 'kedge'),
    PATH: `${toolsBin()}:${process.env.PATH ?? ''}`,
  });
  return { env, kubeconfig };
}

function cached(u: User): CachedLogin {
  return JSON.parse(readFileSync(tokenCachePath(hub!.hubURL, u.env), 'utf8')) as CachedLogin;
}

const kubectl = (u: User, args: string[]): Promise<RunResult> => run(join(toolsBin(), 'kubectl'), args, { env: u.env });

function login(u: User, extra: string[]): RunningKedge {
  return spawnKedge(['login', '--hub-url', hub!.hubURL, '--certificate-authority', testEnv.hubCAFile, ...extra], u.env);
}

/** Waits for `re` in what the login printed on stderr; returns the first group. */
function printed(k: RunningKedge, re: RegExp, what: string): Promise<string> {
  return eventually(
    async () => {
      const m = re.exec(k.stderr());
      if (!m?.[1]) throw new Error(`not yet; stderr so far: ${k.stderr()}`);
      return m[1];
    },
    { what, timeoutMs: 15_000, intervalMs: 100 },
  );
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', email);
  await page.fill('input[name=password]', dex.password);
  await page.click('button[type=submit]');
}

const alice = newUser('alice');
const bob = newUser('bob');

describe('kedge login with OIDC', () => {
  it('discovers the login at the hub: GET /auth/config needs no credentials, other methods get 405', async () => {
    const dispatcher = new Agent({ connect: { ca: readFileSync(testEnv.hubCAFile) } });
    const res = await undiciFetch(`${hub!.hubURL}${LOGIN_CONFIG_PATH}`, { dispatcher });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      apiVersion: 'kedge.faros.sh/v1alpha1',
      kind: 'LoginConfig',
      methods: ['oidc'],
      oidc: {
        issuerURL: dex.issuer,
        clientID: dex.cliClientID,
        scopes: ['openid', 'email', 'groups', 'profile', 'offline_access'],
        prefix: 'kedge:oidc:',
        caPEM: dex.ca.toString('utf8'),
      },
    });
    const post = await undiciFetch(`${hub!.hubURL}${LOGIN_CONFIG_PATH}`, { method: 'POST', dispatcher });
    expect(post.status).toBe(405);
    await dispatcher.close();
  });

  it('logs alice in through the browser (PKCE, loopback redirect) into her workspace; kubectl runs get-token', async () => {
    const k = login(alice, ['--no-browser']);
    const url = new URL(await printed(k, /^\s+(https:\/\/127\.0\.0\.1:\d+\/dex\/auth\?\S+)$/m, 'the login URL'));
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('code_verifier')).toBeNull();
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
    expect(`${redirect.protocol}//${redirect.hostname}${redirect.pathname}`).toBe('http://127.0.0.1/callback');
    // A callback that does not carry this login's state is refused and does not end the login.
    const forged = await fetch(`${redirect.href}?code=stolen&state=not-the-one`);
    expect(forged.status).toBe(400);

    const ctx = await browser!.newContext({ ignoreHTTPSErrors: true }); // Dex's CA is the test's own
    const page = await ctx.newPage();
    await page.goto(url.href);
    await signIn(page, 'alice@example.com');
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    expect(await page.textContent('body')).toMatch(/return to the terminal/);
    await ctx.close();

    const done = await k.exited;
    expect([done.code, done.stderr]).toEqual([0, expect.any(String)]);
    expect(done.stdout.toString()).toMatch(
      /Logged in as kedge:oidc:alice@example\.com; workspace root:kedge:tenants:alice-/,
    );
    const kc = readFileSync(alice.kubeconfig, 'utf8');
    expect(kc).not.toMatch(/\btoken:/);
    expect(kc).not.toContain(cached(alice).idToken.slice(0, 40));
    expect(kc).toMatch(/command: \S+\/bin\/kedge/);
    expect(kc).toMatch(/- get-token\n\s+- --hub-url\n\s+- https:\/\/127\.0\.0\.1:\d+/);
    const path = tokenCachePath(hub!.hubURL, alice.env);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(cached(alice)).toMatchObject({ email: 'alice@example.com', refreshToken: expect.any(String) });

    const get = await kubectl(alice, ['get', 'virtualworkloads', '-o', 'name']);
    expect([get.code, get.stderr]).toEqual([0, '']);
    const who = await kubectl(alice, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who.stdout).toBe('kedge:oidc:alice@example.com');
  }, 60_000);

  it('logs bob in with a device code entered on another device', async () => {
    const k = login(bob, ['--device']);
    const uri = await printed(k, /open (https:\/\/\S+\/device) in a browser/, 'the verification URI');
    const code = await printed(k, /enter the code:\n\s+(\S+)/, 'the user code');
    const ctx = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(uri);
    await page.fill('input[name=user_code]', code);
    await page.click('button[type=submit]');
    await signIn(page, 'bob@example.com');
    await page.waitForURL(/\/device\/callback/);
    await ctx.close();
    const done = await k.exited;
    expect([done.code, done.stdout.toString()]).toEqual([
      0,
      expect.stringMatching(/Logged in as kedge:oidc:bob@example\.com; workspace root:kedge:tenants:bob-/),
    ]);
    const who = await kubectl(bob, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect([who.code, who.stdout]).toEqual([0, 'kedge:oidc:bob@example.com']);
  }, 60_000);

  it("kedge ssh logs in to a host as the local part of alice's email, unless told another name", async () => {
    const sshd = await startSshd();
    // The harness's kedge/kubectl calls take the process environment: point get-token at alice's token cache.
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = alice.env.XDG_CACHE_HOME;
    let edge: Awaited<ReturnType<typeof joinServerEdge>> | undefined;
    try {
      edge = await joinServerEdge({
        kc: alice.kubeconfig,
        hubURL: hub!.hubURL,
        hubCAFile: testEnv.hubCAFile,
        name: 'h1',
        sshPort: sshd.port,
        hostKeyLines: sshd.hostKeyLines,
      });
      const ssh = (target: string) => kedgeCapture(['ssh', '-i', sshd.userKeyPath, target, '--', 'true'], alice.env);
      // No such user on this host: sshd names the login it was asked for, and refuses it.
      const asAlice = await ssh('h1');
      expect(asAlice.code).not.toBe(0);
      expect(sshd.log()).toMatch(/Invalid user alice from 127\.0\.0\.1/);
      // user@ wins over the identity: the key is authorised for sshd.user, so this one logs in.
      const asRoot = await ssh(`${sshd.user}@h1`);
      expect([asRoot.code, asRoot.stderr.toString()]).toEqual([0, '']);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      await edge?.agent.kill();
      await sshd.stop();
    }
  }, 90_000);

  it('keeps kubectl working past the ID token expiry: parallel get-token calls renew it once', async () => {
    const before = cached(alice);
    await eventually(
      async () => {
        if (Date.now() <= Date.parse(cached(alice).expiry)) throw new Error('not expired yet');
      },
      { what: "alice's ID token to expire", timeoutMs: 20_000, intervalMs: 250 },
    );
    const outs = await Promise.all(
      Array.from({ length: 5 }, () => kedgeCapture(['get-token', '--hub-url', hub!.hubURL], alice.env)),
    );
    for (const o of outs) expect([o.code, o.stderr]).toEqual([0, '']);
    const tokens = new Set(
      outs.map((o) => (JSON.parse(o.stdout.toString()) as { status: { token: string } }).status.token),
    );
    // One renewal: every caller got the same new token (Dex mints a different one on each refresh).
    expect(tokens.size).toBe(1);
    const after = cached(alice);
    expect(tokens).toEqual(new Set([after.idToken]));
    expect(after.idToken).not.toBe(before.idToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    const get = await kubectl(alice, ['get', 'virtualworkloads', '-o', 'name']);
    expect([get.code, get.stderr]).toEqual([0, '']);
  }, 60_000);

  it('fails with "run kedge login" once the refresh token is revoked, and opens no browser', async () => {
    await dexRestart(dex);
    await eventually(
      async () => {
        if (Date.now() <= Date.parse(cached(alice).expiry)) throw new Error('not expired yet');
      },
      { what: "alice's ID token to expire", timeoutMs: 20_000, intervalMs: 250 },
    );
    const get = await kubectl(alice, ['get', 'virtualworkloads']);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain(`run kedge login --hub-url ${hub!.hubURL}`);
    const direct = await kedgeCapture(['get-token', '--hub-url', hub!.hubURL], alice.env);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(/could not be renewed .*run kedge login --hub-url \S+ \[KEDGE_CLI_LOGIN_REQUIRED\]/);
    expect(existsSync(browserMarker)).toBe(false);
  }, 60_000);
});
