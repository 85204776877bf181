// The CLI's view of the OIDC issuer: an openid-client Configuration for the hub's public client (no secret:
// token_endpoint_auth_method none, PKCE instead), trusting the issuer's own CA when there is one — openid-client
// fetches through undici's fetch with an Agent that carries it (openid-client's customFetch).
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { CLIError, CLIErrorCode } from '../errors.ts';

export interface IssuerRef {
  issuerURL: string;
  clientID: string;
  caPEM?: string | undefined;
}

/** Discovery at the issuer; throws OidcLoginFailed naming the issuer when it cannot be reached or trusted. */
export async function issuerConfiguration(ref: IssuerRef): Promise<oidc.Configuration> {
  const dispatcher = ref.caPEM ? new Agent({ connect: { ca: ref.caPEM } }) : undefined;
  const customFetch: oidc.CustomFetch = (url, options) =>
    undiciFetch(url, { ...(options as object), ...(dispatcher ? { dispatcher } : {}) });
  try {
    return await oidc.discovery(new URL(ref.issuerURL), ref.clientID, undefined, oidc.None(), {
      [oidc.customFetch]: customFetch,
    });
  } catch (err) {
    throw new CLIError(
      CLIErrorCode.OidcLoginFailed,
      `OIDC discovery at ${ref.issuerURL} failed: ${describe(err)}${ref.caPEM ? '' : ' (a private CA? pass --oidc-ca-file)'}`,
      { cause: err },
    );
  }
}

/** One line for an openid-client or network error: the OAuth error code and description when the issuer sent one. */
export function describe(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError)
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  const e = err as Error & { cause?: unknown };
  const cause = e.cause instanceof Error ? ` (${(e.cause as NodeJS.ErrnoException).code ?? e.cause.message})` : '';
  return `${e.message ?? String(err)}${cause}`;
}
