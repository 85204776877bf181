// Cluster-aware identities used by the decision functions and indexes: the logical cluster of an object (kcp sets
// `kcp.io/cluster` on everything read through a virtual workspace) and `<cluster>|<namespace>/<name>` keys.
// Same shape as kcp's ToClusterAwareKey; when src/kube/cluster-key.ts lands this should delegate to it.
import { ANNOTATION_KCP_CLUSTER } from '../../api/constants.ts';
import type { ObjectMeta } from '../../api/types.ts';

export function clusterOf(obj: { metadata: ObjectMeta }): string | undefined {
  return obj.metadata.annotations?.[ANNOTATION_KCP_CLUSTER];
}

/** `<cluster>|<namespace>/<name>` (namespaced) or `<cluster>|<name>` (cluster-scoped). */
export function objectKey(cluster: string, namespace: string | undefined, name: string): string {
  return namespace ? `${cluster}|${namespace}/${name}` : `${cluster}|${name}`;
}

/** The queue key of an object; throws when the object lacks its cluster, name or namespace (a shell bug). */
export function keyOf(obj: { metadata: ObjectMeta }, namespaced: boolean): string {
  const cluster = clusterOf(obj);
  const { name, namespace } = obj.metadata;
  if (!cluster || !name || (namespaced && !namespace)) {
    throw new Error(`object without cluster/namespace/name: ${JSON.stringify({ cluster, namespace, name })}`);
  }
  return objectKey(cluster, namespaced ? namespace : undefined, name);
}
