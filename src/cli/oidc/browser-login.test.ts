import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { poll } from '../../util/wait.ts';
import { browserLogin, openBrowser } from './browser-login.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-browser-login-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = new oidc.Configuration(
  {
    issuer: 'https://dex.example/dex',
    authorization_endpoint: 'https://dex.example/dex/auth',
    token_endpoint: 'https://dex.example/dex/token',
  },
  'kedge-cli',
  undefined,
  oidc.None(),
);

describe('browserLogin', () => {
  it('sends PKCE S256, state and nonce to a loopback redirect, ignores foreign callbacks, and times out clearly', async () => {
    const lines: string[] = [];
    const login = browserLogin(config, {
      scopes: ['openid', 'email'],
      noBrowser: true,
      timeoutMs: 1_500,
      progress: (l) => lines.push(l),
    });
    const failed = login.catch((e: unknown) => e as Error & { code?: string });
    const printed = await poll(async () => lines.find((l) => l.startsWith('  https://')), {
      what: 'the URL',
      timeoutMs: 2_000,
      intervalMs: 10,
    });
    const url = new URL(printed.trim());
    expect(url.origin + url.pathname).toBe('https://dex.example/dex/auth');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'kedge-cli',
      response_type: 'code',
      scope: 'openid email',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.stringMatching(/^[\w-]{20,}$/),
      nonce: expect.stringMatching(/^[\w-]{20,}$/),
      redirect_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/),
    });
    const redirect = url.searchParams.get('redirect_uri') ?? '';
    expect((await fetch(`${redirect}?code=c&state=wrong`)).status).toBe(400);
    expect((await fetch(`${redirect.replace('/callback', '/other')}`)).status).toBe(404);
    const err = await failed;
    expect([err.code, err.message]).toEqual([
      'KEDGE_CLI_TIMEOUT',
      expect.stringMatching(/no login completed within 2 s: run kedge login again/),
    ]);
    // The loopback server is gone with the login.
    await expect(fetch(redirect)).rejects.toThrow();
  });
});

describe('openBrowser', () => {
  it('runs $BROWSER with the URL, or with %s replaced', async () => {
    const script = join(dir, 'browser');
    const out = join(dir, 'args');
    writeFileSync(script, `#!/bin/sh\necho "$@" > '${out}'\n`);
    chmodSync(script, 0o755);
    expect(await openBrowser('https://x/auth?a=1', { BROWSER: script })).toBe(true);
    await poll(async () => readFileSync(out, 'utf8').trim() === 'https://x/auth?a=1', {
      what: 'the browser',
      timeoutMs: 5_000,
    });
    rmSync(out);
    expect(await openBrowser('https://y', { BROWSER: `${script} --new-window %s` })).toBe(true);
    await poll(async () => readFileSync(out, 'utf8').trim() === '--new-window https://y', {
      what: 'the browser',
      timeoutMs: 5_000,
    });
    expect(await openBrowser('https://y', { BROWSER: join(dir, 'missing') })).toBe(false);
  });
});
