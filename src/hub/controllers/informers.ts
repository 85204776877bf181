// The shared caches of the controllers: Edges, VirtualWorkloads and Placements of EVERY bound workspace, listed and
// watched through the APIExport virtual workspace (`<vw>/clusters/*/…`), keyed by (logical cluster, ns, name), with
// the indexes the event mappers and the reconcile view need.
import type { Logger } from 'pino';
import { GROUP, Resource, VERSION } from '../../api/constants.ts';
import type { Edge, Placement, VirtualWorkload } from '../../api/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import { clusterOf } from '../../kube/cluster-key.ts';
import { Informer, type InformerOptions } from '../../kube/informer.ts';
import type { KubeObject } from '../../kube/types.ts';
import {
  IndexName,
  indexPlacementByEdge,
  indexPlacementByNamespace,
  indexPlacementByWorkload,
  indexWorkloadByCluster,
} from './indexes.ts';

/** Edges by logical cluster: the reconcile view's "every Edge of the workload's cluster". */
export const EDGES_BY_CLUSTER = 'edgesByCluster';

/** The API types as the generic kube layer sees them (ObjectMeta with its index signature). */
export type Cached<T> = T & KubeObject;

export interface KedgeInformers {
  edges: Informer<Cached<Edge>>;
  workloads: Informer<Cached<VirtualWorkload>>;
  placements: Informer<Cached<Placement>>;
  start(): void;
  waitForSync(): Promise<void>;
  stop(): Promise<void>;
}

export function wildcardPath(resource: string): string {
  return `/clusters/*/apis/${GROUP}/${VERSION}/${resource}`;
}

export type InformerTuning = Pick<InformerOptions, 'watchTimeoutSeconds' | 'watchdogMs' | 'backoff' | 'pageSize'>;

/** `vw` is a client on the virtual-workspace URL. */
export function createKedgeInformers(vw: KubeClient, log: Logger, tuning: InformerTuning = {}): KedgeInformers {
  const make = <T extends KubeObject>(resource: string): Informer<T> =>
    new Informer<T>({ client: vw, path: wildcardPath(resource), logger: log, ...tuning });
  const edges = make<Cached<Edge>>(Resource.edges);
  const workloads = make<Cached<VirtualWorkload>>(Resource.virtualworkloads);
  const placements = make<Cached<Placement>>(Resource.placements);
  edges.addIndex(EDGES_BY_CLUSTER, (e) => [clusterOf(e)]);
  workloads.addIndex(IndexName.WorkloadsByCluster, indexWorkloadByCluster);
  placements.addIndex(IndexName.PlacementsByEdge, indexPlacementByEdge);
  placements.addIndex(IndexName.PlacementsByWorkload, indexPlacementByWorkload);
  placements.addIndex(IndexName.PlacementsByNamespace, indexPlacementByNamespace);
  const all = [edges, workloads, placements] as const;
  return {
    edges,
    workloads,
    placements,
    start: () => all.forEach((i) => i.start()),
    waitForSync: async () => {
      await Promise.all(all.map((i) => i.waitForSync()));
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
