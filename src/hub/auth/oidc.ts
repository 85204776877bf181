// OIDC ID tokens as hub credentials (issue 9; docs/oidc.md): the hub is a resource server that verifies tokens its
// users got from the issuer (Dex, Keycloak, …) and maps their claims to a Kedge user. Verification is jose's:
// discovery once, the JWKS cached and fetched again on an unknown `kid` (so a key rotation at the issuer needs no hub
// restart), `iss` and `aud` exact, `exp`/`nbf` with a small clock skew, and only asymmetric algorithms (never
// `none`, never HMAC with a public key). Wired to the hub's --oidc-* flags (src/hub/main.ts).
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { HubError, HubErrorCode } from '../errors.ts';
import { USERS_GROUP, type Authenticator, type UserInfo } from './identity.ts';

export interface OidcOptions {
  /** Exactly the `iss` the issuer puts in its tokens (https, no trailing slash needed). */
  issuerURL: string;
  /** The `aud` tokens must carry: the client ID the CLI logs in with. */
  clientID: string;
  /** PEM of the CA that signed the issuer's certificate (self-signed IdPs); the system roots otherwise. */
  ca?: string | Buffer;
  /** Claim that names the user (default `email`, which must then come with `email_verified: true`). */
  usernameClaim?: string;
  /** Claim with the user's groups (default `groups`; absent claim = no groups). */
  groupsClaim?: string;
  /** Prefix of user and group names (default `kedge:oidc:`), so they never collide with kcp's or static users. */
  prefix?: string;
  /** Accepted clock difference for `exp` and `nbf`, 0 to 300 s (default 30 s; --oidc-clock-skew). */
  clockToleranceSec?: number;
  /** After fetching the JWKS, an unknown `kid` fetches it again only after this long (default 10 s, see below). */
  jwksCooldownMs?: number;
  /**
   * Called when the issuer itself failed (discovery or JWKS unreachable, refused, timed out) rather than the token:
   * the hub logs it, else every OIDC user would just see 401s with nothing in the log saying why.
   */
  onIssuerError?: (err: unknown) => void;
}

/** jose's codes for a token that is bad in itself; any other failure is the issuer's (or the network's). */
const TOKEN_ERROR = /^ERR_(JWT|JWS|JWE|JOSE_ALG_NOT_ALLOWED|JOSE_NOT_SUPPORTED|JWKS_NO_MATCHING_KEY|JWKS_MULTIPLE)/;

/** True when `err` says something about the issuer, not about the token (see onIssuerError). */
export function isIssuerError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && TOKEN_ERROR.test(code));
}

/** Asymmetric signatures only: an HMAC token "signed" with the issuer's public key is refused. */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** The most clock skew the hub accepts: more would keep expired tokens alive for long. */
export const OIDC_MAX_CLOCK_SKEW_SEC = 300;

/** Bounds every request to the issuer (discovery, JWKS): a hanging issuer must not hang authentication. */
const ISSUER_TIMEOUT_MS = 5_000;

const DEFAULTS = {
  usernameClaim: 'email',
  groupsClaim: 'groups',
  prefix: 'kedge:oidc:',
  clockToleranceSec: 30,
  // A token whose `kid` is not in the cached JWKS (the issuer rotated its keys) fetches the JWKS again at once unless
  // the last fetch was less than this long ago; meanwhile such tokens are refused. 10 s (jose's default is 30 s)
  // bounds how long fresh tokens fail after a rotation, yet tokens with made-up kids cost the issuer at most one
  // JWKS request per 10 s per hub (jose also joins concurrent fetches). Besides, the JWKS is refreshed after 10 min.
  jwksCooldownMs: 10_000,
};

/** Checks the options; every problem at once, each naming its option. */
export function checkOidcOptions(
  o: OidcOptions,
): Required<Omit<OidcOptions, 'ca' | 'onIssuerError'>> & Pick<OidcOptions, 'ca'> {
  const problems: string[] = [];
  let issuer: URL | undefined;
  try {
    issuer = new URL(o.issuerURL);
  } catch {
    problems.push(`issuer URL ${JSON.stringify(o.issuerURL)} is not a URL`);
  }
  if (issuer && issuer.protocol !== 'https:') problems.push('the issuer URL must be https://');
  if (issuer && (issuer.search !== '' || issuer.hash !== '' || issuer.username !== ''))
    problems.push('the issuer URL must not have a query, fragment or credentials');
  if (o.clientID.trim() === '') problems.push('the client ID is empty');
  const prefix = o.prefix ?? DEFAULTS.prefix;
  if (prefix.startsWith('system:')) problems.push('the prefix must not start with system:');
  const skew = o.clockToleranceSec ?? DEFAULTS.clockToleranceSec;
  if (!(skew >= 0 && skew <= OIDC_MAX_CLOCK_SKEW_SEC))
    problems.push(`the clock skew must be 0 to ${OIDC_MAX_CLOCK_SKEW_SEC} s, not ${skew}`);
  const cooldown = o.jwksCooldownMs ?? DEFAULTS.jwksCooldownMs;
  if (!(cooldown >= 0 && Number.isFinite(cooldown))) problems.push(`the JWKS cooldown must be ≥ 0 ms, not ${cooldown}`);
  if (problems.length > 0) throw new HubError(HubErrorCode.OidcInvalid, `OIDC: ${problems.join('; ')}`);
  return {
    issuerURL: o.issuerURL,
    clientID: o.clientID,
    ca: o.ca,
    usernameClaim: o.usernameClaim ?? DEFAULTS.usernameClaim,
    groupsClaim: o.groupsClaim ?? DEFAULTS.groupsClaim,
    prefix,
    clockToleranceSec: skew,
    jwksCooldownMs: cooldown,
  };
}

/**
 * The tenant of an OIDC user: readable from the name (the email's local part), unique by the subject — two users
 * with the same local part at different domains, or a renamed email, never share a workspace by accident.
 */
export function oidcTenant(iss: string, sub: string, name: string): string {
  const local = (name.split('@')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(`${iss}\n${sub}`).digest('hex').slice(0, 10);
  return local === '' ? `u-${hash}` : `${local}-${hash}`;
}

/** The Kedge user for verified claims; undefined when the claims do not name a usable user. */
export function userFromClaims(
  claims: JWTPayload & Record<string, unknown>,
  o: Pick<Required<OidcOptions>, 'usernameClaim' | 'groupsClaim' | 'prefix'>,
): UserInfo | undefined {
  const name = claims[o.usernameClaim];
  if (typeof name !== 'string' || name === '' || typeof claims.sub !== 'string' || typeof claims.iss !== 'string')
    return undefined;
  // As kube-apiserver: an email names a user only once the issuer verified it.
  if (o.usernameClaim === 'email' && claims.email_verified !== true) return undefined;
  const raw = claims[o.groupsClaim];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string' && g !== '') : [];
  const tenant = oidcTenant(claims.iss, claims.sub, name);
  return {
    username: `${o.prefix}${name}`,
    uid: `oidc-${createHash('sha256').update(`${claims.iss}\n${claims.sub}`).digest('hex').slice(0, 32)}`,
    groups: [USERS_GROUP, `kedge:tenant:${tenant}`, ...groups.map((g) => `${o.prefix}${g}`)],
    tenant,
  };
}

/** An Authenticator for the issuer's ID tokens. Tokens that are not JWTs of this issuer are simply not its own. */
export function oidcAuthenticator(options: OidcOptions): Authenticator {
  const o = checkOidcOptions(options);
  const dispatcher = o.ca !== undefined ? new Agent({ connect: { ca: o.ca } }) : undefined;
  // jose hands its own init (timeout signal, `redirect: 'manual'`, accept header) to the fetch: it is kept, only the
  // CA is added.
  const get = (url: string, init: RequestInit = {}): Promise<Response> =>
    undiciFetch(url, {
      headers: Object.fromEntries(new Headers(init.headers)),
      redirect: init.redirect ?? 'manual',
      signal: init.signal ?? AbortSignal.timeout(ISSUER_TIMEOUT_MS),
      ...(dispatcher ? { dispatcher } : {}),
    });
  let jwks: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keys = (): Promise<ReturnType<typeof createRemoteJWKSet>> => {
    jwks ??= discover(o.issuerURL, get).then((uri) =>
      createRemoteJWKSet(new URL(uri), {
        cooldownDuration: o.jwksCooldownMs,
        timeoutDuration: ISSUER_TIMEOUT_MS,
        [customFetch]: get,
      }),
    );
    // A failed discovery is tried again on the next token, not remembered.
    jwks.catch(() => (jwks = undefined));
    return jwks;
  };
  return {
    async authenticate(token) {
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return undefined;
      try {
        const { payload } = await jwtVerify(token, await keys(), {
          issuer: o.issuerURL,
          audience: o.clientID,
          algorithms: OIDC_ALGORITHMS,
          clockTolerance: o.clockToleranceSec,
          requiredClaims: ['exp', 'iat', 'sub'],
        });
        return userFromClaims(payload, o);
      } catch (err) {
        if (isIssuerError(err)) options.onIssuerError?.(err);
        return undefined;
      }
    },
  };
}

/** The JWKS URL from the issuer's discovery document, whose `issuer` must be exactly the configured one. */
async function discover(
  issuerURL: string,
  get: (url: string, init?: RequestInit) => Promise<Response>,
): Promise<string> {
  const res = await get(`${issuerURL.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new HubError(HubErrorCode.OidcInvalid, `OIDC discovery at ${issuerURL}: HTTP ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuerURL)
    throw new HubError(HubErrorCode.OidcInvalid, `OIDC discovery: issuer ${String(doc.issuer)} is not ${issuerURL}`);
  // The keys decide who is anyone: fetched over https only, like the discovery document itself.
  if (typeof doc.jwks_uri !== 'string' || !doc.jwks_uri.startsWith('https://'))
    throw new HubError(HubErrorCode.OidcInvalid, 'OIDC discovery: no https jwks_uri');
  return doc.jwks_uri;
}
