// Names of the per-Edge objects in a tenant workspace (docs/agent-protocol.md §2–§3): the ServiceAccount whose token
// is the edge credential, its token Secret, and the join-token Secret. All live in the `kedge-system` namespace.
import { createHash } from 'node:crypto';

export const EDGE_NAMESPACE = 'kedge-system';
/** Names up to this length keep the readable `edge-<name>` base; longer ones are hashed. */
const MAX_READABLE = 240;

export function credentialBaseName(edge: string): string {
  if (edge.length <= MAX_READABLE) return `edge-${edge}`;
  return `edge-h${createHash('sha256').update(edge).digest('hex').slice(0, 40)}`;
}

export function serviceAccountName(edge: string): string {
  return credentialBaseName(edge);
}

export function tokenSecretName(edge: string): string {
  return `${credentialBaseName(edge)}-token`;
}

export function joinSecretName(edge: string): string {
  return `${credentialBaseName(edge)}-join`;
}

/** The username kcp's TokenReview reports for the edge's ServiceAccount. */
export function serviceAccountUsername(edge: string): string {
  return `system:serviceaccount:${EDGE_NAMESPACE}:${serviceAccountName(edge)}`;
}
