// Object identity across kcp workspaces: `<logicalCluster>|<namespace>/<name>`.
// The namespace part is empty for cluster-scoped objects (`root:a|/edge-1`), the cluster part is empty on a plain
// Kubernetes API server (`|default/cm`). Every cache, queue and log line in Kedge uses this key (src/kube/README.md).

/** Annotation kcp's storage sets on every object to the logical cluster name that holds it. */
export const CLUSTER_ANNOTATION = 'kcp.io/cluster';

export type KeyParts = { cluster: string; namespace: string; name: string };

type Keyed = { metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } };

/** The logical cluster of an object, or '' when it carries no `kcp.io/cluster` annotation. */
export function clusterOf(obj: Keyed): string {
  return obj.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? '';
}

export function clusterKey(obj: Keyed): string {
  return joinKey({ cluster: clusterOf(obj), namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' });
}

export function joinKey(parts: KeyParts): string {
  return `${parts.cluster}|${parts.namespace}/${parts.name}`;
}

/**
 * The key of a cluster-scoped Edge (`<cluster>|/<edge>`): the controllers' queue key and the tunnel registry's key
 * are the same string. Throws on parts that would make the key ambiguous.
 */
export function edgeKey(cluster: string, edgeName: string): string {
  if (cluster === '' || edgeName === '' || cluster.includes('|') || edgeName.includes('/') || edgeName.includes('|')) {
    throw new TypeError(`invalid edge key parts ${JSON.stringify(cluster)}, ${JSON.stringify(edgeName)}`);
  }
  return joinKey({ cluster, namespace: '', name: edgeName });
}

/**
 * Parses a key made by `joinKey`. Returns undefined for a malformed key (no `|`, no `/`, or an empty name), so a
 * worker can drop it instead of retrying forever. Logical cluster names never contain `|`, and Kubernetes names and
 * namespaces never contain `/`, so the first separator of each kind is the boundary.
 */
export function splitKey(key: string): KeyParts | undefined {
  const bar = key.indexOf('|');
  if (bar < 0) return undefined;
  const slash = key.indexOf('/', bar + 1);
  if (slash < 0) return undefined;
  const name = key.slice(slash + 1);
  if (name === '' || name.includes('/')) return undefined;
  return { cluster: key.slice(0, bar), namespace: key.slice(bar + 1, slash), name };
}
