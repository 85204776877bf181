// The tenant of the workspace an edge lives in, for the identity the hub sends to the agent (docs/agent-protocol.md
// "Identity on the edge"). The edges-proxy knows only the logical cluster name; kcp records each workspace's path on
// its LogicalCluster object (`cluster`, annotation `kcp.io/path`), which the hub's admin identity may read. A
// logical cluster never changes its path, so the answer is cached for the hub's lifetime (bounded).
import { WORKSPACE_TENANTS } from '../../api/constants.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';

export const LOGICAL_CLUSTER_PATH = '/apis/core.kcp.io/v1alpha1/logicalclusters/cluster';
export const PATH_ANNOTATION = 'kcp.io/path';

/** `root:kedge:tenants:<tenant>[:child…]` → `<tenant>`; undefined for any other workspace path. */
export function tenantOfPath(path: string): string | undefined {
  const prefix = `${WORKSPACE_TENANTS}:`;
  if (!path.startsWith(prefix)) return undefined;
  const tenant = path.slice(prefix.length).split(':')[0] ?? '';
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tenant) ? tenant : undefined;
}

export class EdgeTenants {
  readonly #admin: KubeClient;
  readonly #cache = new Map<string, string | undefined>();
  lookups = 0;

  constructor(admin: KubeClient) {
    this.#admin = admin;
  }

  /** The tenant of logical cluster `cluster`; undefined when it is not (under) a tenant workspace. Throws if kcp fails. */
  async tenantOf(cluster: string): Promise<string | undefined> {
    if (this.#cache.has(cluster)) return this.#cache.get(cluster);
    this.lookups++;
    const lc = await this.#admin.forCluster(cluster).get<KubeObject>(LOGICAL_CLUSTER_PATH);
    const path = lc.metadata?.annotations?.[PATH_ANNOTATION];
    const tenant = path === undefined ? undefined : tenantOfPath(path);
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(cluster, tenant);
    return tenant;
  }
}
