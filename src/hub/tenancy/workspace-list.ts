// GET /auth/workspaces (src/api/workspace-list.ts): the workspaces the caller may use — their own tenant workspace and
// those shared with them by `kedge workspace share`. A user cannot list other tenants' workspaces in kcp, so the hub
// reads the share bindings itself: the kedge.faros.sh APIExport claims rbac clusterrolebindings and every tenant
// accepts its claims, so ONE label-selected list through the export's virtual workspace (docs/kcp.md) spans all
// tenant workspaces; the selector names only the caller's and their groups' digests. kcp still decides what the
// caller may do there: this list only says where to look.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ANNOTATION_KCP_CLUSTER, API_VERSION, WORKSPACE_TENANTS } from '../../api/constants.ts';
import { EDGE_ROLES } from '../../api/edge-identity.ts';
import {
  LABEL_SHARE_SUBJECT,
  WORKSPACE_LIST_KIND,
  shareSubjectDigest,
  type WorkspaceEntry,
  type WorkspaceList,
} from '../../api/workspace-list.ts';
import { LABEL_SHARE_ROLE, workspaceClusterRole, type WorkspaceRole } from '../../api/workspace-roles.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';
import { bearerToken, type Authenticator, type UserInfo } from '../auth/identity.ts';
import { readVirtualWorkspaceURL } from '../controllers/vw-endpoint.ts';
import { sendJSON, sendStatus } from '../server/status.ts';
import { HubErrorCode } from '../errors.ts';
import { tenantPath } from './tenants.ts';
import { LogicalClusterPaths } from '../kcp/logical-cluster-paths.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
}
export type ShareBinding = KubeObject & {
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
  subjects?: Subject[];
};

/** The workspace role a binding grants, or undefined when it binds anything but a kedge:workspace:<role> ClusterRole. */
export function bindingRole(b: ShareBinding): WorkspaceRole | undefined {
  const ref = b.roleRef;
  if (ref?.kind !== 'ClusterRole' || ref.apiGroup !== RBAC_GROUP) return undefined;
  return EDGE_ROLES.find((r) => workspaceClusterRole(r) === ref.name);
}

/** True when one of the binding's subjects is the user or one of their groups. */
export function bindsUser(b: ShareBinding, user: Pick<UserInfo, 'username' | 'groups'>): boolean {
  return (b.subjects ?? []).some(
    (s) =>
      s.apiGroup === RBAC_GROUP &&
      ((s.kind === 'User' && s.name === user.username) || (s.kind === 'Group' && user.groups.includes(s.name ?? ''))),
  );
}

/** The selector values for the caller: their own name and each group (src/api/workspace-list.ts). */
export function subjectDigests(user: Pick<UserInfo, 'username' | 'groups'>): string[] {
  return [shareSubjectDigest('User', user.username), ...user.groups.map((g) => shareSubjectDigest('Group', g))];
}

/**
 * Pure core: own workspace first (admin), then each shared tenant workspace once with the strongest role its
 * bindings grant the user, by path. `shared` pairs each binding with its workspace path (undefined: not a tenant).
 */
export function workspacesFor(
  user: UserInfo,
  shared: readonly { path: string | undefined; binding: ShareBinding }[],
): WorkspaceEntry[] {
  const own = tenantPath(user.tenant);
  const best = new Map<string, WorkspaceRole>();
  for (const { path, binding } of shared) {
    const role = bindingRole(binding);
    if (!path || path === own || !role || !isTenantWorkspace(path) || !bindsUser(binding, user)) continue;
    const prev = best.get(path);
    if (!prev || EDGE_ROLES.indexOf(role) < EDGE_ROLES.indexOf(prev)) best.set(path, role);
  }
  const entry = (path: string, role: WorkspaceRole, isOwn: boolean): WorkspaceEntry => ({
    name: path.slice(WORKSPACE_TENANTS.length + 1),
    path,
    role,
    own: isOwn,
  });
  return [
    entry(own, 'admin', true),
    ...[...best.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, r]) => entry(p, r, false)),
  ];
}

/** root:kedge:tenants:<tenant> exactly: shares are made and listed on tenant workspaces only. */
export function isTenantWorkspace(path: string): boolean {
  const rest = path.startsWith(`${WORKSPACE_TENANTS}:`) ? path.slice(WORKSPACE_TENANTS.length + 1) : '';
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(rest);
}

/**
 * Reads share bindings for a user across all tenant workspaces. `kcp` is the hub's admin client. The virtual
 * workspace URL and the logical-cluster → path mapping (immutable) are cached.
 */
export class ShareReader {
  readonly #kcp: KubeClient;
  #vw: KubeClient | undefined;
  readonly #paths: LogicalClusterPaths;

  constructor(kcp: KubeClient) {
    this.#kcp = kcp;
    this.#paths = new LogicalClusterPaths(kcp);
  }

  async sharedWith(user: UserInfo): Promise<{ path: string | undefined; binding: ShareBinding }[]> {
    const vw = await this.#virtualWorkspace();
    if (!vw) return []; // no tenant has bound the export yet, so there is no share either
    const list = await vw.listAll<ShareBinding>(`/clusters/*/apis/${RBAC_GROUP}/v1/clusterrolebindings`, {
      labelSelector: `${LABEL_SHARE_ROLE},${LABEL_SHARE_SUBJECT} in (${subjectDigests(user).join(',')})`,
    });
    const out: { path: string | undefined; binding: ShareBinding }[] = [];
    for (const binding of list.items) {
      if (!bindsUser(binding, user) || !bindingRole(binding)) continue;
      const cluster = binding.metadata.annotations?.[ANNOTATION_KCP_CLUSTER];
      out.push({ path: cluster ? await this.#paths.pathOf(cluster) : undefined, binding });
    }
    return out;
  }

  async #virtualWorkspace(): Promise<KubeClient | undefined> {
    if (!this.#vw) {
      const url = await readVirtualWorkspaceURL(this.#kcp);
      if (url) this.#vw = this.#kcp.withServer(url);
    }
    return this.#vw;
  }
}

export function workspaceListHandler(authn: Authenticator, reader: () => ShareReader | undefined, log: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET')
      return sendStatus(res, 405, 'use GET /auth/workspaces with Authorization: Bearer <token>', {
        headers: { Allow: 'GET' },
      });
    const token = bearerToken(req.headers.authorization);
    const user = token ? await authn.authenticate(token) : undefined;
    if (!user) return sendStatus(res, 401, 'Unauthorized');
    const r = reader();
    if (!r) return sendStatus(res, 503, 'the hub is starting; try again shortly', { kedgeCode: HubErrorCode.NotReady });
    let shared: Awaited<ReturnType<ShareReader['sharedWith']>>;
    try {
      shared = await r.sharedWith(user);
    } catch (err) {
      log.error({ err, user: user.username }, 'reading workspace shares failed');
      return sendStatus(res, 503, 'the control plane is unreachable', {
        kedgeCode: HubErrorCode.ControlPlaneUnavailable,
      });
    }
    const body: WorkspaceList = {
      apiVersion: API_VERSION,
      kind: WORKSPACE_LIST_KIND,
      user: user.username,
      items: workspacesFor(user, shared),
    };
    sendJSON(res, 200, body);
  };
}
