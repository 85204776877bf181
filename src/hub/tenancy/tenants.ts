// Tenant workspaces (docs/kcp.md): root:kedge:tenants:<tenant> with the kedge.faros.sh export bound (all claims
// accepted) and its user bound to cluster-admin there. The user reaches kcp under their own identity, so this
// binding is the only thing that grants them anything; kcp RBAC keeps them out of every other workspace.
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { EXPORT_NAME, GROUP, VERSION, WORKSPACE_PROVIDERS, WORKSPACE_TENANTS } from '../../api/constants.ts';
import { poll, retry } from '../../util/wait.ts';
import { ensureObject, ensureWorkspace, type KubeObject } from '../bootstrap/ensure.ts';
import type { UserInfo } from '../auth/identity.ts';
import { EDGE_ROLES } from '../../api/edge-identity.ts';
import { workspaceClusterRole, workspaceRoleRules } from '../../api/workspace-roles.ts';

export interface Tenant {
  /** Workspace path, e.g. root:kedge:tenants:acme. */
  workspacePath: string;
  /** Logical cluster name of that workspace. */
  cluster: string;
}

interface PermissionClaim {
  group: string;
  resource: string;
  verbs: string[];
  identityHash?: string;
}
type APIExport = KubeObject & { spec?: { permissionClaims?: PermissionClaim[] } };
type APIBinding = KubeObject & { status?: { phase?: string } };

export function tenantPath(tenant: string): string {
  return `${WORKSPACE_TENANTS}:${tenant}`;
}

/**
 * Idempotent; safe to call on every login. `kcp` is an admin client on the kcp base URL. Retried a few times,
 * because kcp can answer 404 for a moment inside a workspace that has just turned Ready.
 */
export async function ensureTenant(
  kcp: KubeClient,
  user: UserInfo,
  log: Logger,
  signal?: AbortSignal,
): Promise<Tenant> {
  return retry(() => ensureTenantOnce(kcp, user, log, signal), {
    attempts: 4,
    backoff: { initialMs: 1_000, jitter: 0.1 },
    onRetry: (err, attempt) => log.debug({ err, attempt, tenant: user.tenant }, 'tenant provisioning failed; retrying'),
    ...(signal ? { signal } : {}),
  });
}

async function ensureTenantOnce(kcp: KubeClient, user: UserInfo, log: Logger, signal?: AbortSignal): Promise<Tenant> {
  const until = signal ? { signal } : {};
  const tenants = kcp.forCluster(WORKSPACE_TENANTS);
  const ws = await ensureWorkspace(tenants, user.tenant, signal);
  const workspacePath = tenantPath(user.tenant);
  const tenant = kcp.forCluster(workspacePath);
  if (ws.result === 'created') log.info({ workspace: workspacePath }, 'tenant workspace created');

  const exp = await kcp
    .forCluster(WORKSPACE_PROVIDERS)
    .get<APIExport>(`/apis/apis.kcp.io/v1alpha2/apiexports/${EXPORT_NAME}`);
  const claims = (exp.spec?.permissionClaims ?? []).map((c) => ({
    ...c,
    selector: { matchAll: true },
    state: 'Accepted',
  }));
  await ensureObject<APIBinding>(tenant, '/apis/apis.kcp.io/v1alpha2/apibindings', {
    apiVersion: 'apis.kcp.io/v1alpha2',
    kind: 'APIBinding',
    metadata: { name: EXPORT_NAME },
    spec: { reference: { export: { path: WORKSPACE_PROVIDERS, name: EXPORT_NAME } }, permissionClaims: claims },
  });
  await poll(
    async () => {
      const b = await tenant.get<APIBinding>(`/apis/apis.kcp.io/v1alpha2/apibindings/${EXPORT_NAME}`);
      return b.status?.phase === 'Bound' ? true : undefined;
    },
    {
      what: `APIBinding ${EXPORT_NAME} in ${workspacePath} to become Bound`,
      timeoutMs: 60_000,
      intervalMs: 200,
      ...until,
    },
  );
  // Bound can precede serving by a moment (kcp answers 429 meanwhile): hand out the kubeconfig only once the
  // user's first `kubectl get vw` will work.
  await poll(
    async () => {
      await tenant.list(`/apis/${GROUP}/${VERSION}/virtualworkloads`, { limit: 1 });
      return true;
    },
    { what: `${GROUP} to be served in ${workspacePath}`, timeoutMs: 60_000, intervalMs: 200, ...until },
  );

  await ensureObject(tenant, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kedge:tenant-admins' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user.username }],
  });
  // The roles `kedge workspace share` binds (src/api/workspace-roles.ts). H3's stand-in until H2's version lands.
  for (const role of EDGE_ROLES) {
    await ensureObject(tenant, '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: workspaceClusterRole(role) },
      rules: workspaceRoleRules(role),
    });
  }
  return { workspacePath, cluster: ws.cluster };
}
