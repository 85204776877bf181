// The tenant of the workspace an edge lives in, for the identity the hub sends to the agent (docs/agent-protocol.md
// "Identity on the edge"). The edges-proxy knows only the logical cluster name: its path comes from
// src/hub/kcp/logical-cluster-paths.ts (cached there).
import { WORKSPACE_TENANTS } from '../../api/constants.ts';
import type { KubeClient } from '../../kube/client.ts';
import { LogicalClusterPaths } from '../kcp/logical-cluster-paths.ts';

/** `root:kedge:tenants:<tenant>[:child…]` → `<tenant>`; undefined for any other workspace path. */
export function tenantOfPath(path: string): string | undefined {
  const prefix = `${WORKSPACE_TENANTS}:`;
  if (!path.startsWith(prefix)) return undefined;
  const tenant = path.slice(prefix.length).split(':')[0] ?? '';
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tenant) ? tenant : undefined;
}

export class EdgeTenants {
  readonly #paths: LogicalClusterPaths;

  constructor(admin: KubeClient) {
    this.#paths = new LogicalClusterPaths(admin);
  }

  /** The tenant of logical cluster `cluster`; undefined when it is not (under) a tenant workspace. Throws if kcp fails. */
  async tenantOf(cluster: string): Promise<string | undefined> {
    const path = await this.#paths.pathOf(cluster);
    return path === undefined ? undefined : tenantOfPath(path);
  }
}
