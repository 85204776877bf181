// The edge's default RBAC for callers coming through the hub (docs/agent-protocol.md "Identity on the edge"): the
// agent impersonates each caller with the group `kedge:edge:<role>` of the role the hub resolved, and these three
// ClusterRoleBindings give those groups the API server's own aggregated ClusterRoles (cluster-admin, edit, view).
// Created only when absent and never updated or re-created once present: the edge owner may edit or delete them
// (a deleted binding comes back at the next agent start unless the agent runs with --no-default-edge-rbac).
// Kubernetes mode only.
import type { Logger } from 'pino';
import { edgeRoleGroup, EDGE_ROLES, type EdgeRole } from '../api/edge-identity.ts';
import { isAlreadyExists, isNotFound } from '../kube/api-error.ts';
import type { KubeClient } from '../kube/client.ts';

export const CLUSTER_ROLE_BINDINGS = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kedge-agent';

/** The edge ClusterRole each role's group is bound to: the API server's default user-facing roles. */
export const EDGE_ROLE_CLUSTER_ROLE: Record<EdgeRole, string> = { admin: 'cluster-admin', edit: 'edit', view: 'view' };

export interface ClusterRoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  roleRef: { apiGroup: string; kind: 'ClusterRole'; name: string };
  subjects: { apiGroup: string; kind: 'Group'; name: string }[];
}

/** The default bindings, strongest role first; each is named after its group (`kedge:edge:<role>`). */
export function defaultEdgeBindings(): ClusterRoleBinding[] {
  return EDGE_ROLES.map((role) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: edgeRoleGroup(role),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: {
        'kedge.faros.sh/description': `callers the hub grants the ${role} role on this edge; created once by the kedge agent, yours to change`,
      },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: EDGE_ROLE_CLUSTER_ROLE[role] },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: edgeRoleGroup(role) }],
  }));
}

/** Which default bindings to create, given the names of those present: the absent ones, nothing else. */
export function bindingsToCreate(present: ReadonlySet<string>): ClusterRoleBinding[] {
  return defaultEdgeBindings().filter((b) => !present.has(b.metadata.name));
}

/**
 * Creates the absent default bindings on the edge (one GET each, then a create; an AlreadyExists from a concurrent
 * creator counts as present). Logs once what it created. Throws when the API server refuses (the caller retries).
 */
export async function ensureDefaultEdgeRbac(client: KubeClient, log: Logger): Promise<string[]> {
  const present = new Set<string>();
  for (const b of defaultEdgeBindings()) {
    try {
      await client.get(`${CLUSTER_ROLE_BINDINGS}/${encodeURIComponent(b.metadata.name)}`);
      present.add(b.metadata.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  const created: string[] = [];
  for (const b of bindingsToCreate(present)) {
    try {
      await client.create(CLUSTER_ROLE_BINDINGS, b);
      created.push(b.metadata.name);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  if (created.length > 0)
    log.info(
      { created, kept: [...present] },
      'created the default edge RBAC for callers through the hub (ClusterRoleBindings kedge:edge:<role>; yours to change)',
    );
  else log.debug({ kept: [...present] }, 'default edge RBAC present; left as is');
  return created;
}
