// GET /auth/config (src/api/login-config.ts): the unauthenticated discovery document that tells `kedge login
// --hub-url URL` which login methods this hub offers. It holds nothing secret — the issuer, the public client's ID,
// the scopes to ask for and the issuer's CA are what any user needs before they have a credential — so it is served
// without authentication and before bootstrap finished.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_VERSION } from '../../api/constants.ts';
import { LOGIN_CONFIG_KIND, LoginMethod, type LoginConfig } from '../../api/login-config.ts';
import { sendJSON, sendStatus } from '../server/status.ts';
import { checkOidcOptions, type OidcOptions } from './oidc.ts';

/**
 * The scopes the CLI asks the issuer for: `openid`, `profile`, `offline_access` (a refresh token, so `kedge
 * get-token` renews without a browser), plus the standard scope that carries each claim the hub maps when that claim
 * is a standard one (`email` → scope `email`, `groups` → scope `groups` as Dex names it). A custom claim comes with
 * whatever scope the issuer attaches it to, which the hub cannot know.
 */
export function oidcScopes(o: Pick<OidcOptions, 'usernameClaim' | 'groupsClaim'>): string[] {
  const scopes = new Set(['openid']);
  const claims = [o.usernameClaim ?? 'email', o.groupsClaim ?? 'groups'];
  if (claims.includes('email')) scopes.add('email');
  if (claims.includes('groups')) scopes.add('groups');
  scopes.add('profile');
  scopes.add('offline_access');
  return [...scopes];
}

/** The document for a hub with these login sources. */
export function loginConfig(opts: { staticTokens: boolean; oidc?: OidcOptions | undefined }): LoginConfig {
  const methods: LoginMethod[] = [];
  if (opts.staticTokens) methods.push(LoginMethod.Token);
  const doc: LoginConfig = { apiVersion: API_VERSION, kind: LOGIN_CONFIG_KIND, methods };
  if (opts.oidc) {
    const o = checkOidcOptions(opts.oidc);
    methods.push(LoginMethod.Oidc);
    doc.oidc = {
      issuerURL: o.issuerURL,
      clientID: o.clientID,
      scopes: oidcScopes(o),
      prefix: o.prefix,
      ...(o.ca !== undefined ? { caPEM: o.ca.toString() } : {}),
    };
  }
  return doc;
}

export function loginConfigHandler(doc: LoginConfig): (req: IncomingMessage, res: ServerResponse) => void {
  const body = JSON.parse(JSON.stringify(doc)) as LoginConfig;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendStatus(res, 405, 'use GET /auth/config', { headers: { Allow: 'GET, HEAD' } });
    sendJSON(res, 200, body);
  };
}
