// HTTPS requests from the CLI to the hub, honouring --certificate-authority and --insecure-skip-tls-verify.
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { CLIError, CLIErrorCode } from './errors.ts';
import { transportCode } from '../kube/api-error.ts';

export interface TLSFlags {
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
}

export function hubDispatcher(flags: TLSFlags): Agent {
  if (flags.certificateAuthority && flags.insecureSkipTlsVerify) {
    throw new CLIError(
      CLIErrorCode.FlagsInvalid,
      'use either --certificate-authority or --insecure-skip-tls-verify, not both',
    );
  }
  const connect = flags.insecureSkipTlsVerify
    ? { rejectUnauthorized: false }
    : flags.certificateAuthority
      ? { ca: readFileSync(flags.certificateAuthority) }
      : {};
  return new Agent({ connect });
}

/** Turns a network/TLS failure into an error that says what to do. */
export function explainRequestError(err: unknown, hubURL: string): CLIError {
  const code = transportCode(err);
  if (code === 'ECONNREFUSED')
    return new CLIError(
      CLIErrorCode.HubUnreachable,
      `cannot reach the hub at ${hubURL}: connection refused (is it running? 'make run' starts one)`,
    );
  if (code === 'ENOTFOUND')
    return new CLIError(CLIErrorCode.HubUnreachable, `cannot resolve the hub host in ${hubURL}`);
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new CLIError(
      CLIErrorCode.HubUnreachable,
      `the hub's TLS certificate is not trusted (${code}): pass --certificate-authority <ca.crt> (make run prints its path) or, for development only, --insecure-skip-tls-verify`,
    );
  }
  return new CLIError(CLIErrorCode.HubUnreachable, `request to ${hubURL} failed: ${(err as Error).message}`, {
    cause: err,
  });
}
