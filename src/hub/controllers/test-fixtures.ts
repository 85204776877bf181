// Builders for the controller decision tests: Edges, VirtualWorkloads and Placements in one logical cluster.
// Test-only; kept beside the tests so every table stays short.
import { ANNOTATION_KCP_CLUSTER, LABEL_EDGE, LABEL_VIRTUAL_WORKLOAD } from '../../api/constants.ts';
import type { EdgePhase, EdgeType, PlacementPhase, PlacementStrategy } from '../../api/constants.ts';
import type { Condition, Edge, LabelSelector, Placement, VirtualWorkload } from '../../api/types.ts';
import { ANNOTATION_WORKLOAD_GENERATION } from '../../api/constants.ts';

export const CLUSTER = 'root:kedge:tenants:acme';
export const NS = 'shop';
export const VW_UID = 'uid-web';
export const T0 = '2026-09-01T12:00:00Z';

export interface EdgeOptions {
  labels?: Record<string, string>;
  type?: EdgeType;
  unschedulable?: boolean;
  phase?: EdgePhase;
  /** Ready condition: [status, lastTransitionTime]. */
  ready?: ['True' | 'False', string];
  heartbeat?: string;
  cluster?: string;
  deleting?: boolean;
}

export function edge(name: string, o: EdgeOptions = {}): Edge {
  const e: Edge = {
    metadata: { name, labels: o.labels ?? {}, annotations: { [ANNOTATION_KCP_CLUSTER]: o.cluster ?? CLUSTER } },
    spec: { type: o.type ?? 'kubernetes' },
  };
  if (o.unschedulable !== undefined) e.spec.unschedulable = o.unschedulable;
  if (o.deleting) e.metadata.deletionTimestamp = T0;
  if (o.phase !== undefined || o.ready !== undefined || o.heartbeat !== undefined) {
    e.status = {};
    if (o.phase !== undefined) e.status.phase = o.phase;
    if (o.heartbeat !== undefined) e.status.lastHeartbeatTime = o.heartbeat;
    if (o.ready !== undefined) {
      e.status.conditions = [
        { type: 'Ready', status: o.ready[0], reason: 'x', message: '', lastTransitionTime: o.ready[1] },
      ];
    }
  }
  return e;
}

export interface WorkloadOptions {
  selector?: LabelSelector;
  strategy?: PlacementStrategy | string;
  replicas?: number;
  conditions?: Condition[];
  generation?: number;
  name?: string;
  uid?: string;
}

export function workload(o: WorkloadOptions = {}): VirtualWorkload {
  const w: VirtualWorkload = {
    metadata: {
      name: o.name ?? 'web',
      namespace: NS,
      uid: o.uid ?? VW_UID,
      generation: o.generation ?? 1,
      annotations: { [ANNOTATION_KCP_CLUSTER]: CLUSTER },
    },
    spec: { simple: { image: 'nginx' } },
  };
  if (o.replicas !== undefined) w.spec.replicas = o.replicas;
  if (o.selector !== undefined || o.strategy !== undefined) {
    w.spec.placement = {};
    if (o.selector !== undefined) w.spec.placement.edgeSelector = o.selector;
    if (o.strategy !== undefined) w.spec.placement.strategy = o.strategy as PlacementStrategy;
  }
  if (o.conditions !== undefined) w.status = { conditions: o.conditions };
  return w;
}

export interface PlacementOptions {
  name?: string;
  workloadName?: string;
  uid?: string;
  replicas?: number;
  deleting?: boolean;
  phase?: PlacementPhase;
  ready?: number;
  available?: number;
  message?: string;
  generation?: number;
  observedGeneration?: number;
  /** The workload-generation annotation (default 1, the fixture workload's generation); null leaves it out. */
  workloadGeneration?: number | null;
}

export function placement(edgeName: string, o: PlacementOptions = {}): Placement {
  const workloadName = o.workloadName ?? 'web';
  const p: Placement = {
    metadata: {
      name: o.name ?? `${workloadName}-${edgeName}`,
      namespace: NS,
      labels: { [LABEL_VIRTUAL_WORKLOAD]: workloadName, [LABEL_EDGE]: edgeName },
      annotations: { [ANNOTATION_KCP_CLUSTER]: CLUSTER },
      ownerReferences: [
        {
          apiVersion: 'kedge.faros.sh/v1alpha1',
          kind: 'VirtualWorkload',
          name: workloadName,
          uid: o.uid ?? VW_UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { workloadRef: { name: workloadName, uid: o.uid ?? VW_UID }, edgeName, replicas: o.replicas ?? 1 },
  };
  if (o.generation !== undefined) p.metadata.generation = o.generation;
  if (o.workloadGeneration !== null)
    p.metadata.annotations = {
      ...p.metadata.annotations,
      [ANNOTATION_WORKLOAD_GENERATION]: String(o.workloadGeneration ?? 1),
    };
  if (o.deleting) p.metadata.deletionTimestamp = T0;
  if (o.phase !== undefined || o.ready !== undefined || o.available !== undefined || o.message !== undefined) {
    p.status = {};
    if (o.phase !== undefined) p.status.phase = o.phase;
    if (o.ready !== undefined) p.status.readyReplicas = o.ready;
    if (o.available !== undefined) p.status.availableReplicas = o.available;
    if (o.message !== undefined) p.status.message = o.message;
    if (o.observedGeneration !== undefined) p.status.observedGeneration = o.observedGeneration;
  }
  return p;
}

/** `base` plus `ms` milliseconds, as a Date. */
export function at(base: string, ms: number): Date {
  return new Date(Date.parse(base) + ms);
}
