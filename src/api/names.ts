// Names of the per-Edge objects in a tenant workspace (docs/agent-protocol.md §2–§3): the ServiceAccount whose token
// is the edge credential, its token Secret, and the join-token Secret. All live in the `kedge-system` namespace.
import { createHash } from 'node:crypto';
import { LABEL_EDGE } from './constants.ts';
import { labelValueForName } from './labels.ts';

export const EDGE_NAMESPACE = 'kedge-system';
/** Names up to this length keep the readable `edge-<name>` base; longer ones are hashed. */
const MAX_READABLE = 230;

export function credentialBaseName(edge: string): string {
  if (edge.length <= MAX_READABLE) return `edge-${edge}`;
  return `edge-h${createHash('sha256').update(edge).digest('hex').slice(0, 40)}`;
}

export function serviceAccountName(edge: string): string {
  return credentialBaseName(edge);
}

/**
 * The generateName prefix of the edge's token Secret. A legacy token's claims name its Secret, and its signature is
 * deterministic: re-creating a Secret of the SAME name would bring back the SAME token, so every new credential gets
 * a fresh generated name (rotation really rotates).
 */
export function tokenSecretPrefix(edge: string): string {
  return `${credentialBaseName(edge)}-token-`;
}

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

export function joinSecretName(edge: string): string {
  return `${credentialBaseName(edge)}-join`;
}

/** The username kcp's TokenReview reports for the edge's ServiceAccount. */
export function serviceAccountUsername(edge: string): string {
  return `system:serviceaccount:${EDGE_NAMESPACE}:${serviceAccountName(edge)}`;
}

/** Label selector for the edge's Secrets in EDGE_NAMESPACE (narrowed further by `isEdgeTokenSecret`). */
export function edgeSecretSelector(edge: string): string {
  return `${LABEL_EDGE}=${labelValueForName(edge)}`;
}

/** Whether `secret` is a token Secret of the edge's ServiceAccount, i.e. one of the edge's credentials. */
export function isEdgeTokenSecret(
  secret: { type?: string; metadata: { annotations?: Record<string, string> } },
  edge: string,
): boolean {
  return (
    secret.type === SA_TOKEN_TYPE && secret.metadata.annotations?.[SA_NAME_ANNOTATION] === serviceAccountName(edge)
  );
}
