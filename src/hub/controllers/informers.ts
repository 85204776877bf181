// The shared caches of the controllers: Edges, VirtualWorkloads and Placements of EVERY bound workspace, listed and
// watched through the APIExport virtual workspace (`<vw>/clusters/*/…`), keyed by (logical cluster, ns, name), with
// the indexes the event mappers and the reconcile view need.
import type { Logger } from 'pino';
import { GROUP, Resource, VERSION } from '../../api/constants.ts';
import type { Edge, Placement, VirtualWorkload } from '../../api/types.ts';
import type { KubeClient } from '../../kube/client.ts';
import { clusterOf } from '../../kube/cluster-key.ts';
import { Informer, LAST_APPLIED_ANNOTATION, stripMetadata, type InformerOptions } from '../../kube/informer.ts';
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

/** The virtual workspace answers 404 for a short while after bootstrap, until kcp serves the APIExport. */
const EXPORT_NOT_SERVED_GRACE_MS = 60_000;

/**
 * What the caches drop. No controller reads `managedFields`, and a PUT without them keeps the stored ones. Edges and
 * VirtualWorkloads are only written through `/status`, where the API server keeps the stored metadata, so their
 * client-side apply annotation (a copy of the whole object) goes too. Placements keep it: the workload controller
 * PUTs corrected copies of cached Placements, which would erase it.
 */
export const cacheTransforms = {
  edges: stripMetadata<Cached<Edge>>([LAST_APPLIED_ANNOTATION]),
  workloads: stripMetadata<Cached<VirtualWorkload>>([LAST_APPLIED_ANNOTATION]),
  placements: stripMetadata<Cached<Placement>>(),
};

/** `vw` is a client on the virtual-workspace URL. */
export function createKedgeInformers(vw: KubeClient, log: Logger, tuning: InformerTuning = {}): KedgeInformers {
  const make = <T extends KubeObject>(resource: string, transform: (obj: T) => T): Informer<T> =>
    new Informer<T>({
      client: vw,
      path: wildcardPath(resource),
      logger: log,
      transform,
      notFoundGraceMs: EXPORT_NOT_SERVED_GRACE_MS,
      ...tuning,
    });
  const edges = make(Resource.edges, cacheTransforms.edges);
  const workloads = make(Resource.virtualworkloads, cacheTransforms.workloads);
  const placements = make(Resource.placements, cacheTransforms.placements);
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
