// `kedge login` in a browser: the authorization code flow with PKCE (S256) on a loopback redirect (RFC 8252 §7.3,
// RFC 7636). The code verifier, state and nonce are made here and never leave this process; the browser only
// carries the code challenge out and the one-time code back to http://127.0.0.1:<random port>/callback, and the
// tokens come from the issuer's token endpoint directly, never through a URL. A callback with the wrong state is
// answered and ignored (another local page cannot end or hijack the login); one with the right state ends it.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { CLIError, CLIErrorCode } from '../errors.ts';
import { describe } from './issuer.ts';

export const CALLBACK_PATH = '/callback';
export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;

export interface BrowserLoginOptions {
  scopes: string[];
  /** Print the URL instead of opening a browser. */
  noBrowser: boolean;
  timeoutMs?: number;
  /** Where instructions go (stderr). */
  progress: (line: string) => void;
  /** Opens the URL; default $BROWSER or xdg-open / open. Returns false when no browser could be started. */
  openBrowser?: (url: string) => Promise<boolean>;
}

export type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

export async function browserLogin(config: oidc.Configuration, o: BrowserLoginOptions): Promise<Tokens> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const timeoutMs = o.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;

  let settle!: { resolve: (t: Tokens) => void; reject: (e: Error) => void };
  const done = new Promise<Tokens>((resolve, reject) => (settle = { resolve, reject }));
  let finished = false;
  const server = createServer((req, res) => void onRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const redirectURI = `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', redirectURI);
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return page(res, 404, 'Not found.');
    if (finished) return page(res, 409, 'This login has already finished. Return to the terminal.');
    if (url.searchParams.get('state') !== state)
      return page(res, 400, 'This callback does not belong to the login running in your terminal; it was ignored.');
    finished = true;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      page(res, 200, 'You are logged in to Kedge. You can close this tab and return to the terminal.');
      settle.resolve(tokens);
    } catch (err) {
      page(res, 400, 'The login failed. Return to the terminal for details.');
      settle.reject(new CLIError(CLIErrorCode.OidcLoginFailed, `OIDC login failed: ${describe(err)}`, { cause: err }));
    }
  }

  const authURL = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI,
    scope: o.scopes.join(' '),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).href;
  if (o.noBrowser) {
    o.progress(`Open this URL in a browser to log in (it waits ${Math.round(timeoutMs / 1000)} s):`);
    o.progress(`  ${authURL}`);
  } else {
    o.progress('Opening a browser to log in; if none opens, visit:');
    o.progress(`  ${authURL}`);
    if (!(await (o.openBrowser ?? openBrowser)(authURL)))
      o.progress(
        '  (no browser could be started: open the URL yourself, or use kedge login --device on a headless host)',
      );
  }

  const timer = setTimeout(
    () =>
      settle.reject(
        new CLIError(
          CLIErrorCode.Timeout,
          `no login completed within ${Math.round(timeoutMs / 1000)} s: run kedge login again (--device on a host without a browser)`,
        ),
      ),
    timeoutMs,
  );
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}

function page(res: ServerResponse, code: number, message: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Kedge login</title></head><body><p>${message}</p></body></html>`;
  res.writeHead(code, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    Connection: 'close',
  });
  res.end(body);
}

/** $BROWSER (as xdg-utils reads it: a command, `%s` for the URL), else xdg-open (open on macOS). */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const browser = env.BROWSER?.split(':').find((b) => b.trim() !== '');
  const [cmd, args] = browser
    ? browser.includes('%s')
      ? (() => {
          const words = browser.trim().split(/\s+/);
          return [words[0] ?? '', words.slice(1).map((w) => w.replace('%s', url))] as const;
        })()
      : ([browser.trim(), [url]] as const)
    : ([process.platform === 'darwin' ? 'open' : 'xdg-open', [url]] as const);
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
