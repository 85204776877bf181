// Who acts on an edge (SPEC §8 "Identity on the edge", docs/agent-protocol.md): the hub authenticates the caller,
// strips every credential and Impersonate-* header, and sends the identity it authenticated in one request header
// over the tunnel; the agent impersonates that identity (names prefixed) on its local API server, so the edge's own
// RBAC decides. Shared by the hub (writes it) and the agent (reads it).
import { GROUP } from './constants.ts';

/** The request header on the tunnel hop carrying the caller's identity: base64url of EdgeIdentity JSON. */
export const EDGE_IDENTITY_HEADER = 'kedge-identity';

/** What the caller may do on edges of the workspace, from the workspace RBAC (EDGE_ROLE_REVIEW). */
export const EdgeRole = {
  Admin: 'admin',
  Edit: 'edit',
  View: 'view',
} as const;
export type EdgeRole = (typeof EdgeRole)[keyof typeof EdgeRole];
/** Strongest first: the hub grants the first one the caller's workspace RBAC allows. */
export const EDGE_ROLES: readonly EdgeRole[] = [EdgeRole.Admin, EdgeRole.Edit, EdgeRole.View];

/**
 * The hub decides the caller's role on an edge with SubjectAccessReviews in the edge's workspace: verb = the role
 * name on this subresource of the Edge (RBAC allows custom verbs). `cluster-admin` in the workspace grants all three.
 */
export const EDGE_ROLE_REVIEW = { group: GROUP, resource: 'edges', subresource: 'k8s' } as const;

/** On the edge, the group that carries a role: bound by default to cluster-admin, edit and view. */
export function edgeRoleGroup(role: EdgeRole): string {
  return `kedge:edge:${role}`;
}

/** Every name the agent impersonates starts with this (the hub's user names already do). */
export const EDGE_NAME_PREFIX = 'kedge:';

export interface EdgeIdentity {
  /** The Kubernetes user name the hub authenticated (kedge:oidc:alice@example.com, kedge:static:acme). */
  user: string;
  uid?: string;
  groups: string[];
  /** Tenant of the workspace the edge lives in (not necessarily the caller's own, for a shared workspace). */
  tenant: string;
  /** The caller's role on this edge, absent when the workspace RBAC grants none of EDGE_ROLES. */
  role?: EdgeRole;
}
