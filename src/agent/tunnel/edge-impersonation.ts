// Who the agent acts as on its API server for a kubectl request from the hub (docs/agent-protocol.md "Identity on
// the edge"): the identity the hub authenticated arrives in the `kedge-identity` header (src/api/edge-identity.ts)
// and becomes Impersonate-User/-Group/-Uid on the upstream request, sent with the agent's own credentials. Every name
// starts with `kedge:` so it cannot be one of the edge's own users or groups, `system:` names are refused outright,
// and the role group (`kedge:edge:<role>`) comes only from the role, never from the caller's groups. Pure.
import { EDGE_NAME_PREFIX, decodeEdgeIdentity, edgeRoleGroup, type EdgeIdentity } from '../../api/edge-identity.ts';

/** The edge-side group every caller through this workspace carries. */
export function edgeTenantGroup(tenant: string): string {
  return `${EDGE_NAME_PREFIX}tenant:${tenant}`;
}

const ROLE_GROUP_PREFIX = edgeRoleGroup('view').slice(0, -'view'.length);
/** Printable ASCII only: Node refuses other header bytes, and a name with control characters is no one's. */
const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]*$/;

export type Impersonation =
  { ok: true; identity: EdgeIdentity; user: string; groups: string[]; uid?: string } | { ok: false; reason: string };

function edgeName(name: string): string {
  return name.startsWith(EDGE_NAME_PREFIX) ? name : EDGE_NAME_PREFIX + name;
}

/** Decides the impersonated user, groups and uid for a `kedge-identity` header value. */
export function impersonationFor(header: string | string[] | undefined): Impersonation {
  if (header === undefined) return { ok: false, reason: 'the request carries no identity from the hub' };
  const id = decodeEdgeIdentity(header);
  if (id === undefined) return { ok: false, reason: 'the identity from the hub is malformed' };
  const names = [id.user, id.tenant, ...id.groups, ...(id.uid === undefined ? [] : [id.uid])];
  if (names.some((n) => !PRINTABLE.test(n)))
    return { ok: false, reason: 'the identity from the hub has a name with unprintable characters' };
  if ([id.user, ...id.groups].some((n) => n.toLowerCase().startsWith('system:')))
    return { ok: false, reason: 'the identity from the hub names a system: user or group' };
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(id.tenant))
    return { ok: false, reason: 'the identity from the hub has an invalid tenant' };
  const groups: string[] = [];
  const add = (g: string): void => {
    if (!groups.includes(g)) groups.push(g);
  };
  for (const g of id.groups) {
    const name = edgeName(g);
    if (!name.startsWith(ROLE_GROUP_PREFIX)) add(name); // a role group only ever comes from the role
  }
  add(edgeTenantGroup(id.tenant));
  if (id.role !== undefined) add(edgeRoleGroup(id.role));
  const out: Impersonation = { ok: true, identity: id, user: edgeName(id.user), groups };
  if (id.uid !== undefined) out.uid = id.uid;
  return out;
}

/** The request headers that make the upstream request act as `imp` (appended after the agent's Authorization). */
export function impersonationHeaders(imp: Impersonation & { ok: true }): [string, string][] {
  const out: [string, string][] = [['Impersonate-User', imp.user]];
  for (const g of imp.groups) out.push(['Impersonate-Group', g]);
  if (imp.uid !== undefined) out.push(['Impersonate-Uid', imp.uid]);
  return out;
}
