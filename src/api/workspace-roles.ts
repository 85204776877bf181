// Roles a workspace owner shares (`kedge workspace share … --role admin|edit|view`): ClusterRoles the hub creates in
// every tenant workspace, bound by plain ClusterRoleBindings there, so kcp enforces them. Shared by hub and CLI.
import { GROUP } from './constants.ts';
import { EDGE_ROLE_REVIEW, EdgeRole } from './edge-identity.ts';

export const WorkspaceRole = EdgeRole;
export type WorkspaceRole = EdgeRole;

/** ClusterRole name in the tenant workspace for a role. */
export function workspaceClusterRole(role: WorkspaceRole): string {
  return `kedge:workspace:${role}`;
}

/** Label on the share bindings `kedge workspace share` creates (value: the role). */
export const LABEL_SHARE_ROLE = 'kedge.faros.sh/share-role';

type Rule = Record<string, string[]>;

/** kcp lets a user into a workspace only with `access` on `/` there (docs/kcp.md). */
const ACCESS: Rule = { nonResourceURLs: ['/'], verbs: ['access'] };
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const edgeRole = (verbs: string[]): Rule => ({
  apiGroups: [EDGE_ROLE_REVIEW.group],
  resources: [`${EDGE_ROLE_REVIEW.resource}/${EDGE_ROLE_REVIEW.subresource}`],
  verbs,
});

/** The rules of each role's ClusterRole. admin is everything (as the owner's cluster-admin binding). */
export function workspaceRoleRules(role: WorkspaceRole): Rule[] {
  switch (role) {
    case 'admin':
      return [
        { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
        { nonResourceURLs: ['*'], verbs: ['*'] },
      ];
    case 'edit':
      return [
        ACCESS,
        { apiGroups: [GROUP], resources: ['*'], verbs: [...READ, ...WRITE] },
        { apiGroups: [GROUP], resources: ['edges'], verbs: ['proxy'] },
        { apiGroups: [GROUP], resources: ['edges/ssh'], verbs: ['create'] },
        edgeRole(['edit', 'view']),
        { apiGroups: [''], resources: ['namespaces', 'configmaps', 'events'], verbs: READ },
      ];
    case 'view':
      return [
        ACCESS,
        { apiGroups: [GROUP], resources: ['*'], verbs: READ },
        { apiGroups: [GROUP], resources: ['edges'], verbs: ['proxy'] },
        edgeRole(['view']),
        { apiGroups: [''], resources: ['namespaces', 'configmaps', 'events'], verbs: READ },
      ];
  }
}
