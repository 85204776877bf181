// The OIDC half of `kedge login`: the issuer and client from the hub's discovery document, a login in the browser
// (authorization code + PKCE) or with a device code, and the cache entry `kedge get-token` renews from. The ID token
// then logs in at the hub like a static token (POST /auth/token-login), which provisions the workspace.
import { readFileSync } from 'node:fs';
import type { OidcLoginConfig } from '../../api/login-config.ts';
import { CLIError, CLIErrorCode } from '../errors.ts';
import { browserLogin, type Tokens } from './browser-login.ts';
import { deviceLogin } from './device-login.ts';
import { issuerConfiguration } from './issuer.ts';
import { jwtExpiry, type CachedLogin } from './token-cache.ts';

export interface OidcFlags {
  /** Device authorization grant instead of the browser. */
  device?: boolean;
  /** Print the authorization URL instead of opening a browser. */
  browser?: boolean;
  /** CA of the issuer's certificate; default the hub's discovery document's, then the system roots. */
  oidcCaFile?: string;
  /** Seconds to wait for the browser login. */
  timeout?: string;
}

export async function oidcLogin(
  hubURL: string,
  cfg: OidcLoginConfig,
  flags: OidcFlags,
  progress: (line: string) => void,
): Promise<CachedLogin> {
  let caPEM = cfg.caPEM;
  if (flags.oidcCaFile !== undefined) {
    try {
      caPEM = readFileSync(flags.oidcCaFile, 'utf8');
    } catch (err) {
      throw new CLIError(
        CLIErrorCode.FlagsInvalid,
        `--oidc-ca-file ${flags.oidcCaFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const timeoutMs = loginTimeoutMs(flags.timeout);
  const ref = { issuerURL: cfg.issuerURL, clientID: cfg.clientID, caPEM };
  const config = await issuerConfiguration(ref);
  progress(`Logging in at ${cfg.issuerURL} (the hub's OIDC issuer)…`);
  const tokens: Tokens = flags.device
    ? await deviceLogin(config, { scopes: cfg.scopes, progress })
    : await browserLogin(config, {
        scopes: cfg.scopes,
        noBrowser: flags.browser === false,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        progress,
      });
  const idToken = tokens.id_token;
  const exp = idToken ? jwtExpiry(idToken) : undefined;
  if (!idToken || exp === undefined)
    throw new CLIError(CLIErrorCode.OidcLoginFailed, 'the issuer answered without an ID token (is "openid" allowed?)');
  const email = tokens.claims()?.email;
  return {
    hubURL,
    issuerURL: cfg.issuerURL,
    clientID: cfg.clientID,
    scopes: cfg.scopes,
    ...(caPEM !== undefined ? { caPEM } : {}),
    idToken,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    expiry: new Date(exp * 1000).toISOString(),
    ...(typeof email === 'string' ? { email } : {}),
  };
}

function loginTimeoutMs(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0)
    throw new CLIError(
      CLIErrorCode.FlagsInvalid,
      `--timeout ${JSON.stringify(raw)}: give the seconds to wait, e.g. 300`,
    );
  return s * 1000;
}
