// Coded errors of the `kedge` CLI (docs/errors.md). The message says what to do; main.ts prints it with the code so
// a user can look it up, and exits 1.
import { KedgeError, isKedgeError } from '../api/errors.ts';

export const CLIErrorCode = {
  /** A flag or argument is missing or malformed; nothing was changed. */
  FlagsInvalid: 'KEDGE_CLI_FLAGS_INVALID',
  /** No usable kubeconfig context for the hub: not logged in, or the context is not a Kedge one. */
  NotLoggedIn: 'KEDGE_CLI_NOT_LOGGED_IN',
  /** The hub could not be reached (refused, DNS, TLS trust). */
  HubUnreachable: 'KEDGE_CLI_HUB_UNREACHABLE',
  /** The hub did not accept the credentials (401). */
  Unauthorized: 'KEDGE_CLI_UNAUTHORIZED',
  /** The hub (kcp RBAC) refused the operation (403). */
  Forbidden: 'KEDGE_CLI_FORBIDDEN',
  /** The named edge does not exist (404), or the named workspace or share is not there. */
  NotFound: 'KEDGE_CLI_NOT_FOUND',
  /** The named edge already exists (409). */
  AlreadyExists: 'KEDGE_CLI_ALREADY_EXISTS',
  /** The hub refused the request for another reason (invalid object, unexpected answer). */
  Rejected: 'KEDGE_CLI_REJECTED',
  /** A wait ran out of time (an edge never turned Ready). */
  Timeout: 'KEDGE_CLI_TIMEOUT',
  /** The command does not apply to this edge or setup (a server edge has no Kubernetes API, no CA to write). */
  NotApplicable: 'KEDGE_CLI_NOT_APPLICABLE',
  /** The object changed between reading and writing it (409 on a resourceVersion precondition). */
  Conflict: 'KEDGE_CLI_CONFLICT',
  /** The hub has no tunnel to the edge's agent (502): the agent is not running or not connected. */
  EdgeNotConnected: 'KEDGE_CLI_EDGE_NOT_CONNECTED',
  /** No SSH host key is pinned for the server edge yet (its agent has not reported sshd's keys). */
  HostKeyNotPinned: 'KEDGE_CLI_HOST_KEY_NOT_PINNED',
  /** The host presented a key that is not the pinned one: refused before authenticating. */
  HostKeyMismatch: 'KEDGE_CLI_HOST_KEY_MISMATCH',
  /** sshd accepted none of the offered credentials. */
  SshAuthFailed: 'KEDGE_CLI_SSH_AUTH_FAILED',
  /** The SSH connection through the hub failed or was cut (agent gone, sshd unreachable, protocol error). */
  SshConnectionLost: 'KEDGE_CLI_SSH_CONNECTION_LOST',
  /** The person aborted a question on the terminal (Ctrl-C); nothing was changed. */
  Interrupted: 'KEDGE_CLI_INTERRUPTED',
  /** No cached OIDC login for the hub, or it expired and could not be renewed: `kedge login` again. */
  LoginRequired: 'KEDGE_CLI_LOGIN_REQUIRED',
  /** The OIDC login did not complete: the issuer refused or was unreachable, or its answer failed a check. */
  OidcLoginFailed: 'KEDGE_CLI_OIDC_LOGIN_FAILED',
  /** A local file could not be written (`kedge agent install` without root, a read-only directory). */
  WriteFailed: 'KEDGE_CLI_WRITE_FAILED',
} as const;
export type CLIErrorCode = (typeof CLIErrorCode)[keyof typeof CLIErrorCode];

export class CLIError extends KedgeError<CLIErrorCode> {
  override name = 'CLIError';
}

/** The one-line form of any error on stderr: the code (docs/errors.md) lets a script or a search find what to do. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `error: ${message}${isKedgeError(err) ? ` [${err.code}]` : ''}`;
}
