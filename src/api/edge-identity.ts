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

/** The header value for `id`: base64url of its JSON (no padding; safe in any header). */
export function encodeEdgeIdentity(id: EdgeIdentity): string {
  const out: EdgeIdentity = { user: id.user, groups: [...id.groups], tenant: id.tenant };
  if (id.uid !== undefined) out.uid = id.uid;
  if (id.role !== undefined) out.role = id.role;
  return Buffer.from(JSON.stringify(out), 'utf8').toString('base64url');
}

/** Longest header value accepted: far above any real identity, far below a header-size attack. */
export const MAX_EDGE_IDENTITY_LENGTH = 16 * 1024;

/**
 * Reads the header value back; undefined when it is absent, not one value, too long, not base64url JSON, or not an
 * EdgeIdentity (user and tenant non-empty strings, groups strings, uid a string if present, role one of EDGE_ROLES).
 * Unknown fields are ignored. Which names are acceptable on the edge is the agent's decision, not this function's.
 */
export function decodeEdgeIdentity(value: string | string[] | undefined): EdgeIdentity | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_EDGE_IDENTITY_LENGTH) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (!str(o.user) || !str(o.tenant)) return undefined;
  if (!Array.isArray(o.groups) || !o.groups.every(str)) return undefined;
  if (o.uid !== undefined && !str(o.uid)) return undefined;
  if (o.role !== undefined && !EDGE_ROLES.includes(o.role as EdgeRole)) return undefined;
  const id: EdgeIdentity = { user: o.user, groups: [...o.groups], tenant: o.tenant };
  if (o.uid !== undefined) id.uid = o.uid;
  if (o.role !== undefined) id.role = o.role as EdgeRole;
  return id;
}
