// Static bearer tokens (`[name=]token`, from --static-tokens-file or --static-token): each token is one user with one
// tenant workspace.
// Tokens are compared as SHA-256 digests with timingSafeEqual against every entry, so timing reveals nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HubError, HubErrorCode } from '../errors.ts';
import { USERS_GROUP, type Authenticator, type UserInfo } from './identity.ts';

const TENANT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

interface Entry {
  digest: Buffer;
  user: UserInfo;
}

/** Parses `name=token` or `token`; the tenant is `name`, or `t-<12 hex of sha256(token)>`. */
export function parseStaticToken(spec: string): { tenant: string; token: string } {
  const eq = spec.indexOf('=');
  const [name, token] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [undefined, spec];
  if (token.length < 16) throw invalid('a static token must be at least 16 characters long');
  if (/\s/.test(token)) throw invalid('a static token must not contain whitespace');
  const tenant = name ?? `t-${sha256(token).toString('hex').slice(0, 12)}`;
  if (!TENANT_NAME.test(tenant)) {
    // The name is not echoed: when a token itself contains '=', the "name" is part of the secret.
    throw invalid("a static token's name (before '=') must be a DNS label: lowercase letters, digits, '-'");
  }
  return { tenant, token };
}

export function staticTokenAuthenticator(specs: string[]): Authenticator {
  const entries: Entry[] = specs.map((spec) => {
    const { tenant, token } = parseStaticToken(spec);
    return {
      digest: sha256(token),
      user: {
        username: `kedge:static:${tenant}`,
        uid: `static-${tenant}`,
        groups: [USERS_GROUP, `kedge:tenant:${tenant}`],
        tenant,
      },
    };
  });
  return {
    async authenticate(token) {
      const digest = sha256(token);
      let found: UserInfo | undefined;
      for (const e of entries) if (timingSafeEqual(e.digest, digest)) found = e.user;
      return found;
    },
  };
}

function invalid(message: string): HubError {
  return new HubError(HubErrorCode.StaticTokensInvalid, message);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
