// Typed errors of the agent. Each code says what the operator should do; main.ts turns them into an exit message.
import { KedgeError } from '../api/errors.ts';

export const AgentErrorCode = {
  /** A flag is missing or malformed; nothing was changed. */
  FlagsInvalid: 'KEDGE_AGENT_FLAGS_INVALID',
  /** The hub refused the join token (bad, expired or already used). */
  JoinRefused: 'KEDGE_AGENT_JOIN_REFUSED',
  /** The hub no longer accepts the stored edge credential (edge deleted or credential rotated). */
  CredentialRevoked: 'KEDGE_AGENT_CREDENTIAL_REVOKED',
  /** No credential in the state directory and no join token given. */
  NotJoined: 'KEDGE_AGENT_NOT_JOINED',
  /** The state directory holds a credential for another hub, cluster or edge, or is unreadable. */
  StateInvalid: 'KEDGE_AGENT_STATE_INVALID',
  /** The credential's Secret (--credential-secret) could not be read or written (RBAC, the local API server). */
  CredentialStoreFailed: 'KEDGE_AGENT_CREDENTIAL_STORE_FAILED',
  /** The hub could not be reached or answered something unexpected. */
  HubUnreachable: 'KEDGE_AGENT_HUB_UNREACHABLE',
  /** The local cluster's kubeconfig could not be loaded. */
  LocalClusterConfig: 'KEDGE_AGENT_LOCAL_CLUSTER_CONFIG',
  /** A kubectl request reached the agent without a valid identity from the hub (403); nothing was done on the edge. */
  EdgeIdentityInvalid: 'KEDGE_AGENT_EDGE_IDENTITY_INVALID',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

/** Exit codes of kedge-agent: 2 bad flags, 3 must re-join, 1 anything else. */
export function exitCodeFor(code: AgentErrorCode): number {
  switch (code) {
    case AgentErrorCode.FlagsInvalid:
      return 2;
    case AgentErrorCode.JoinRefused:
    case AgentErrorCode.CredentialRevoked:
    case AgentErrorCode.NotJoined:
      return 3;
    default:
      return 1;
  }
}

export class AgentError extends KedgeError<AgentErrorCode> {
  override name = 'AgentError';
}

export function isAgentError(e: unknown, code?: AgentErrorCode): e is AgentError {
  return e instanceof AgentError && (code === undefined || e.code === code);
}
