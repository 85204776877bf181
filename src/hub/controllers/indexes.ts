// Index functions and event mappers for the VirtualWorkload controller, so an Edge or Placement event enqueues only
// the workloads whose decision could change ("not by polling everything"). Pure; the shell installs the
// index functions on its stores (IndexFunc in src/kube/store.ts) and passes the index lookups in.
import { EdgeType, Kind, PlacementStrategy } from '../../api/constants.ts';
import type { Edge, Placement, VirtualWorkload } from '../../api/types.ts';
import { clusterOf, joinKey } from '../../kube/cluster-key.ts';
import { isEdgeReady } from './candidates.ts';
import { jsonEqual } from './json-equal.ts';
import { matchesSelector } from './label-selector.ts';

export const IndexName = {
  /** VirtualWorkloads by logical cluster. */
  WorkloadsByCluster: 'workloadsByCluster',
  /** Placements by `<cluster>|<edgeName>`. */
  PlacementsByEdge: 'placementsByEdge',
  /** Placements by their workload's key `<cluster>|<namespace>/<name>`. */
  PlacementsByWorkload: 'placementsByWorkload',
  /** Placements by `<cluster>|<namespace>` (for ScheduleOptions.namesInUse). */
  PlacementsByNamespace: 'placementsByNamespace',
} as const;
export type IndexName = (typeof IndexName)[keyof typeof IndexName];

export function edgeIndexValue(cluster: string, edgeName: string): string {
  return `${cluster}|${edgeName}`;
}

export function namespaceIndexValue(cluster: string, namespace: string): string {
  return `${cluster}|${namespace}`;
}

export function indexWorkloadByCluster(vw: VirtualWorkload): string[] {
  return [clusterOf(vw)];
}

export function indexPlacementByEdge(p: Placement): string[] {
  return [edgeIndexValue(clusterOf(p), p.spec.edgeName)];
}

export function indexPlacementByWorkload(p: Placement): string[] {
  const key = workloadKeyForPlacement(p);
  return key === undefined ? [] : [key];
}

export function indexPlacementByNamespace(p: Placement): string[] {
  return [namespaceIndexValue(clusterOf(p), p.metadata.namespace ?? '')];
}

/**
 * The key of the VirtualWorkload a Placement belongs to: its controller owner of kind VirtualWorkload, else
 * spec.workloadRef.name. Not the `kedge.faros.sh/virtualworkload` label: for long names that holds a hashed value.
 */
export function workloadKeyForPlacement(p: Placement): string | undefined {
  const owner = p.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === Kind.VirtualWorkload);
  const name = owner?.name ?? p.spec.workloadRef?.name;
  if (!name || !p.metadata.namespace) return undefined;
  return joinKey({ cluster: clusterOf(p), namespace: p.metadata.namespace, name });
}

/**
 * What kind of Edge change this is for scheduling. `Placement`: creation, deletion (or its start), labels, type or
 * unschedulable — every workload's candidate set may change. `Readiness`: only readiness or the Ready condition's
 * transition (the Singleton grace is measured from it) — only Singleton decisions read those. `None`: heartbeat
 * refreshes and agent facts, by far the most frequent Edge updates, which no decision reads.
 */
export const EdgeChange = { Placement: 'Placement', Readiness: 'Readiness', None: 'None' } as const;
export type EdgeChange = (typeof EdgeChange)[keyof typeof EdgeChange];

export function edgeChange(oldEdge: Edge | undefined, newEdge: Edge | undefined): EdgeChange {
  if (oldEdge === undefined || newEdge === undefined) return EdgeChange.Placement;
  if (
    !jsonEqual(oldEdge.metadata.labels ?? {}, newEdge.metadata.labels ?? {}) ||
    oldEdge.spec.type !== newEdge.spec.type ||
    (oldEdge.spec.unschedulable === true) !== (newEdge.spec.unschedulable === true) ||
    (oldEdge.metadata.deletionTimestamp === undefined) !== (newEdge.metadata.deletionTimestamp === undefined)
  ) {
    return EdgeChange.Placement;
  }
  if (isEdgeReady(oldEdge) !== isEdgeReady(newEdge) || readyTransition(oldEdge) !== readyTransition(newEdge)) {
    return EdgeChange.Readiness;
  }
  return EdgeChange.None;
}

function readyTransition(edge: Edge): string | undefined {
  return edge.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
}

export function workloadKey(vw: VirtualWorkload): string {
  return joinKey({ cluster: clusterOf(vw), namespace: vw.metadata.namespace ?? '', name: vw.metadata.name ?? '' });
}

/**
 * The VirtualWorkload keys (sorted, unique) to enqueue for an Edge event (add: old undefined; delete: new
 * undefined). `workloadsInCluster` is the WorkloadsByCluster lookup for the edge's cluster; `placementsOnEdge` the
 * PlacementsByEdge lookup. A workload is enqueued when its selector matches the old OR the new labels (it may gain
 * or lose the edge), or when it has a Placement on the edge (it may have to move or drop it). Server-type edges are
 * never candidates (the type is immutable), so only their Placements count. A readiness-only change enqueues only
 * Singleton workloads (and Placements whose workload is not in the list, to be safe).
 */
export function workloadKeysForEdgeEvent(
  oldEdge: Edge | undefined,
  newEdge: Edge | undefined,
  workloadsInCluster: readonly VirtualWorkload[],
  placementsOnEdge: readonly Placement[],
): string[] {
  const change = edgeChange(oldEdge, newEdge);
  if (change === EdgeChange.None) return [];
  const byKey = new Map(workloadsInCluster.map((vw) => [workloadKey(vw), vw] as const));
  const wanted = (vw: VirtualWorkload | undefined): boolean =>
    change === EdgeChange.Placement || vw === undefined || vw.spec.placement?.strategy === PlacementStrategy.Singleton;
  const keys = new Set<string>();
  for (const p of placementsOnEdge) {
    const key = workloadKeyForPlacement(p);
    if (key !== undefined && wanted(byKey.get(key))) keys.add(key);
  }
  const versions = [oldEdge, newEdge].filter((e): e is Edge => e !== undefined && e.spec.type === EdgeType.Kubernetes);
  for (const [key, vw] of byKey) {
    const selector = vw.spec.placement?.edgeSelector;
    if (wanted(vw) && versions.some((e) => matchesSelector(e.metadata.labels, selector))) keys.add(key);
  }
  return [...keys].sort();
}
