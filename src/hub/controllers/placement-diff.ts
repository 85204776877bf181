// Desired vs existing Placements of one VirtualWorkload → the objects to create, update and delete.
// Existing Placements are matched by edge (never by name), so a name chosen once stays; the shell sends the writes.
import {
  ANNOTATION_WORKLOAD_GENERATION,
  API_VERSION,
  Kind,
  LABEL_EDGE,
  LABEL_VIRTUAL_WORKLOAD,
} from '../../api/constants.ts';
import { labelValueForName } from '../../api/labels.ts';
import type { OwnerReference, Placement, VirtualWorkload } from '../../api/types.ts';
import { compareNames } from './candidates.ts';
import type { DesiredPlacement } from './schedule.ts';

export interface PlacementDiff {
  /** Full manifests, sorted by name. */
  create: Placement[];
  /** Copies of existing Placements (resourceVersion kept, for optimistic concurrency) with spec, labels, the
   *  workload-generation annotation and the controller owner reference corrected; sorted by name. */
  update: Placement[];
  /** Existing Placements to delete (edge no longer desired, or a duplicate for the same edge); sorted by name. */
  delete: Placement[];
}

/** The controller reference every Placement carries, so deleting the VirtualWorkload garbage-collects it. */
export function workloadOwnerReference(workload: VirtualWorkload): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: Kind.VirtualWorkload,
    name: workload.metadata.name ?? '',
    uid: workload.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function placementLabels(workloadName: string, edgeName: string): Record<string, string> {
  return { [LABEL_VIRTUAL_WORKLOAD]: labelValueForName(workloadName), [LABEL_EDGE]: labelValueForName(edgeName) };
}

/**
 * `existing` are the workload's Placements (as the shell lists them by label). Placements already being deleted are
 * left alone: they are neither updated, deleted again nor counted as satisfying a desired edge (the scheduler gave
 * their replacement a different name). Of several live Placements for one desired edge, the one named as desired
 * (else the first by name) is kept and the others are deleted.
 */
export function placementDiff(
  workload: VirtualWorkload,
  desired: readonly DesiredPlacement[],
  existing: readonly Placement[],
): PlacementDiff {
  const owner = workloadOwnerReference(workload);
  const live = existing
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
  const kept = new Set<Placement>();
  const create: Placement[] = [];
  const update: Placement[] = [];

  // By edge, so a workload on thousands of edges diffs in linear time (a scan per desired edge was quadratic).
  const liveByEdge = new Map<string, Placement[]>();
  for (const p of live) {
    const list = liveByEdge.get(p.spec.edgeName);
    if (list === undefined) liveByEdge.set(p.spec.edgeName, [p]);
    else list.push(p);
  }

  for (const d of desired) {
    const sameEdge = (liveByEdge.get(d.edgeName) ?? []).filter((p) => !kept.has(p));
    const match = sameEdge.find((p) => p.metadata.name === d.name) ?? sameEdge[0];
    if (match === undefined) {
      create.push(newPlacement(workload, d, owner));
      continue;
    }
    kept.add(match);
    const corrected = corrections(match, d, owner);
    if (corrected !== undefined) update.push(corrected);
  }
  const del = live.filter((p) => !kept.has(p));
  const byName = (a: Placement, b: Placement) => compareNames(a.metadata.name, b.metadata.name);
  return { create: create.sort(byName), update: update.sort(byName), delete: del.sort(byName) };
}

function newPlacement(workload: VirtualWorkload, d: DesiredPlacement, owner: OwnerReference): Placement {
  return {
    apiVersion: API_VERSION,
    kind: Kind.Placement,
    metadata: {
      name: d.name,
      namespace: workload.metadata.namespace ?? '',
      labels: placementLabels(d.workloadRef.name, d.edgeName),
      ...(d.workloadGeneration === undefined
        ? {}
        : { annotations: { [ANNOTATION_WORKLOAD_GENERATION]: String(d.workloadGeneration) } }),
      ownerReferences: [owner],
    },
    spec: { workloadRef: { ...d.workloadRef }, edgeName: d.edgeName, replicas: d.replicas },
  };
}

/** A corrected copy of `p`, or undefined when it already matches `d`. Other labels, annotations and owners are kept. */
function corrections(p: Placement, d: DesiredPlacement, owner: OwnerReference): Placement | undefined {
  const labels = placementLabels(d.workloadRef.name, d.edgeName);
  const specOk =
    p.spec.replicas === d.replicas &&
    p.spec.workloadRef?.name === d.workloadRef.name &&
    p.spec.workloadRef?.uid === d.workloadRef.uid;
  const labelsOk = Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v);
  // "Differs", not "is older": a re-created workload starts again at generation 1 (its new uid also differs).
  const generation = d.workloadGeneration === undefined ? undefined : String(d.workloadGeneration);
  const generationOk =
    generation === undefined || p.metadata.annotations?.[ANNOTATION_WORKLOAD_GENERATION] === generation;
  const refs = p.metadata.ownerReferences ?? [];
  const ownerOk =
    refs.some((r) => sameOwner(r, owner)) && !refs.some((r) => r.controller === true && r.uid !== owner.uid);
  if (specOk && labelsOk && generationOk && ownerOk) return undefined;

  const copy = structuredClone(p);
  copy.spec = { ...copy.spec, workloadRef: { ...d.workloadRef }, edgeName: d.edgeName, replicas: d.replicas };
  copy.metadata.labels = { ...copy.metadata.labels, ...labels };
  if (generation !== undefined)
    copy.metadata.annotations = { ...copy.metadata.annotations, [ANNOTATION_WORKLOAD_GENERATION]: generation };
  // Drop any other controller and any stale reference to a previous incarnation of the workload (same kind and
  // name, other uid): left in place, the garbage collector would delete the Placement with that old owner.
  const others = refs.filter(
    (r) =>
      r.controller !== true &&
      !(r.kind === owner.kind && r.name === owner.name && r.apiVersion.startsWith('kedge.faros.sh/')),
  );
  copy.metadata.ownerReferences = [...others, owner];
  return copy;
}

function sameOwner(a: OwnerReference, b: OwnerReference): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.uid === b.uid &&
    a.controller === true &&
    a.blockOwnerDeletion === true
  );
}
