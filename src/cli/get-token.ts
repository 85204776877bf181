// `kedge get-token --hub-url URL`: kubectl's exec credential plugin for a hub logged in with OIDC (the "kedge"
// context `kedge login` writes). Prints an ExecCredential (client.authentication.k8s.io/v1) with the cached ID token
// and its expiry; within REFRESH_BEFORE_S of expiry it renews it with the refresh token first, once for all kubectl
// processes at the same time (the cache's lock, src/cli/oidc/token-cache.ts). It never opens a browser — it runs
// under a background kubectl — and when renewing fails it says to run `kedge login`.
import { CLIError, CLIErrorCode } from './errors.ts';
import { normaliseHubURL } from './login.ts';
import {
  jwtExpiry,
  jwtTimes,
  readTokenCache,
  tokenCachePath,
  withCacheLock,
  writeTokenCache,
  type CachedLogin,
} from './oidc/token-cache.ts';

/**
 * Renew this long before `exp`: the token must still be valid when the request reaches kcp's webhook. Short-lived
 * tokens (an issuer set to minutes or less) renew at the last quarter of their lifetime instead, so not every call
 * refreshes.
 */
export const REFRESH_BEFORE_S = 30;

export interface ExecCredential {
  apiVersion: 'client.authentication.k8s.io/v1';
  kind: 'ExecCredential';
  status: { token: string; expirationTimestamp: string };
}

export function execCredential(c: Pick<CachedLogin, 'idToken' | 'expiry'>): ExecCredential {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    // RFC 3339 in whole seconds, as Kubernetes writes metav1.Time.
    status: { token: c.idToken, expirationTimestamp: new Date(c.expiry).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

export function isFresh(c: Pick<CachedLogin, 'expiry' | 'idToken'>, nowMs = Date.now()): boolean {
  const { exp, iat } = jwtTimes(c.idToken);
  const margin =
    exp !== undefined && iat !== undefined ? Math.min(REFRESH_BEFORE_S, (exp - iat) / 4) : REFRESH_BEFORE_S;
  return Date.parse(c.expiry) - nowMs > margin * 1000;
}

function loginAgain(hubURL: string, why: string): CLIError {
  return new CLIError(CLIErrorCode.LoginRequired, `${why}: run kedge login --hub-url ${hubURL}`);
}

/** The credential for the hub, renewed when needed. `refresh` is the issuer call (a seam for tests). */
export async function getToken(
  flags: { hubUrl: string },
  refresh: (c: CachedLogin) => Promise<CachedLogin> = refreshAtIssuer,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExecCredential> {
  const hubURL = normaliseHubURL(flags.hubUrl);
  const path = tokenCachePath(hubURL, env);
  const cached = readTokenCache(path);
  if (!cached) throw loginAgain(hubURL, `not logged in to ${hubURL} with OIDC`);
  if (isFresh(cached)) return execCredential(cached);
  return withCacheLock(path, async () => {
    // Another kubectl may have renewed it while this one waited for the lock.
    const now = readTokenCache(path);
    if (!now) throw loginAgain(hubURL, `not logged in to ${hubURL} with OIDC`);
    if (isFresh(now)) return execCredential(now);
    if (!now.refreshToken) throw loginAgain(hubURL, `your login at ${hubURL} expired and has no refresh token`);
    const renewed = await refresh(now);
    writeTokenCache(path, renewed);
    return execCredential(renewed);
  });
}

/** The refresh token grant at the issuer (openid-client, loaded only when a refresh is due). */
export async function refreshAtIssuer(c: CachedLogin): Promise<CachedLogin> {
  const hubURL = c.hubURL;
  const { issuerConfiguration, describe } = await import('./oidc/issuer.ts');
  const oidc = await import('openid-client');
  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    const config = await issuerConfiguration(c);
    tokens = await oidc.refreshTokenGrant(config, c.refreshToken ?? '', { scope: c.scopes.join(' ') });
  } catch (err) {
    throw loginAgain(hubURL, `your login at ${hubURL} expired and could not be renewed (${describe(err)})`);
  }
  const idToken = tokens.id_token;
  const exp = idToken ? jwtExpiry(idToken) : undefined;
  if (!idToken || exp === undefined)
    throw loginAgain(hubURL, `the issuer renewed your login at ${hubURL} without an ID token`);
  return {
    ...c,
    idToken,
    // Issuers that rotate refresh tokens (Dex) send a new one; others keep the old one valid.
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    expiry: new Date(exp * 1000).toISOString(),
  };
}
