// Logical cluster name → workspace path. Hub endpoints that know only a logical cluster (the edges-proxy URL, the
// `kcp.io/cluster` of objects listed across workspaces) read the path kcp records on the workspace's LogicalCluster
// object (`cluster`, annotation `kcp.io/path`) with the hub's admin identity. A logical cluster never changes its
// path, so answers are cached for the hub's lifetime (bounded).
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/types.ts';

export const LOGICAL_CLUSTER_PATH = '/apis/core.kcp.io/v1alpha1/logicalclusters/cluster';
export const PATH_ANNOTATION = 'kcp.io/path';

export class LogicalClusterPaths {
  readonly #admin: KubeClient;
  readonly #cache = new Map<string, string | undefined>();

  constructor(admin: KubeClient) {
    this.#admin = admin;
  }

  /** The workspace path of logical cluster `cluster` (undefined when kcp records none). Throws if kcp fails. */
  async pathOf(cluster: string): Promise<string | undefined> {
    if (this.#cache.has(cluster)) return this.#cache.get(cluster);
    const lc = await this.#admin.forCluster(cluster).get<KubeObject>(LOGICAL_CLUSTER_PATH);
    const path = lc.metadata?.annotations?.[PATH_ANNOTATION];
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(cluster, path);
    return path;
  }
}
