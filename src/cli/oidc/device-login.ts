// `kedge login --device`: the device authorization grant (RFC 8628) for hosts without a browser. The CLI shows where
// to go and the user code, then polls the token endpoint at the interval the issuer asks for (openid-client slows
// down on `slow_down`) until the user approved, refused, or the code expired.
import * as oidc from 'openid-client';
import { CLIError, CLIErrorCode } from '../errors.ts';
import { describe } from './issuer.ts';
import type { Tokens } from './browser-login.ts';

export async function deviceLogin(
  config: oidc.Configuration,
  o: { scopes: string[]; progress: (line: string) => void },
): Promise<Tokens> {
  let started: oidc.DeviceAuthorizationResponse;
  try {
    started = await oidc.initiateDeviceAuthorization(config, { scope: o.scopes.join(' ') });
  } catch (err) {
    throw new CLIError(CLIErrorCode.OidcLoginFailed, `the issuer refused the device login: ${describe(err)}`, {
      cause: err,
    });
  }
  o.progress(`To log in, open ${started.verification_uri} in a browser on any device and enter the code:`);
  o.progress(`  ${started.user_code}`);
  if (started.verification_uri_complete) o.progress(`(or open ${started.verification_uri_complete})`);
  o.progress(`Waiting up to ${started.expires_in} s…`);
  try {
    return await oidc.pollDeviceAuthorizationGrant(config, started, undefined, {
      signal: AbortSignal.timeout(started.expires_in * 1000),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as { error?: string }).error === 'expired_token')
      throw new CLIError(
        CLIErrorCode.Timeout,
        `the device code expired after ${started.expires_in} s without a login: run kedge login --device again`,
      );
    throw new CLIError(CLIErrorCode.OidcLoginFailed, `the device login failed: ${describe(err)}`, { cause: err });
  }
}
