// The VirtualWorkload controller's I/O shell (README "steps in calling order"): maps Edge, VirtualWorkload and
// Placement events to workload keys, reads the view from the shared caches, calls the pure `reconcileWorkload`,
// then writes Placements (create → update → delete), the status (only on change) and the Events.
import type { Logger } from 'pino';
import { GROUP, Resource, VERSION } from '../../api/constants.ts';
import type { Edge, Placement } from '../../api/types.ts';
import { isAlreadyExists, isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import { realClock, type Clock } from '../../util/clock.ts';
import { clusterKey, clusterOf, splitKey } from '../../kube/cluster-key.ts';
import type { ProcessResult } from '../../kube/controller-runner.ts';
import type { WorkQueue } from '../../kube/work-queue.ts';
import type { EventRecorder } from './events-recorder.ts';
import {
  edgeIndexValue,
  IndexName,
  namespaceIndexValue,
  workloadKey,
  workloadKeyForPlacement,
  workloadKeysForEdgeEvent,
} from './indexes.ts';
import { EDGES_BY_CLUSTER, type KedgeInformers } from './informers.ts';
import { forEachLimit } from './parallel.ts';
import { reconcileWorkload } from './reconcile-workload.ts';
import { poll } from '../../util/wait.ts';

export interface WorkloadControllerOptions {
  failoverGraceMs: number;
  /** Placement writes in flight per reconcile (default 32: kcp-bound; bench/scheduling.ts 16 → 2.6 s, 32 → 1.65 s for
   *  500 Placements; 4 workers × 32 stays below kube's default 200 mutating requests in flight). */
  writeConcurrency?: number;
  /** How long a reconcile waits for the cache to show its own Placement writes (default 5 s). */
  cacheWaitMs?: number;
  clock?: Clock;
}

/** Counters for logs, tests and the benchmark; they only grow. */
export interface WorkloadControllerStats {
  reconciles: number;
  /** Time spent in the pure reconcileWorkload, ms. */
  decideMs: number;
  creates: number;
  updates: number;
  deletes: number;
  statusWrites: number;
  /** Creates answered 409 (the cache had not shown an earlier create yet). */
  createConflicts: number;
}

export function placementsPath(namespace: string, name?: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${Resource.placements}${name === undefined ? '' : `/${name}`}`;
}

export function workloadPath(namespace: string, name: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${Resource.virtualworkloads}/${name}`;
}

export function emptyWorkloadStats(): WorkloadControllerStats {
  return { reconciles: 0, decideMs: 0, creates: 0, updates: 0, deletes: 0, statusWrites: 0, createConflicts: 0 };
}

export class WorkloadController {
  readonly stats: WorkloadControllerStats = emptyWorkloadStats();
  readonly #vw: KubeClient;
  readonly #inf: KedgeInformers;
  readonly #queue: WorkQueue;
  readonly #events: EventRecorder;
  readonly #opts: WorkloadControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #synced = false;

  constructor(
    vw: KubeClient,
    informers: KedgeInformers,
    queue: WorkQueue,
    events: EventRecorder,
    opts: WorkloadControllerOptions,
    log: Logger,
  ) {
    this.#vw = vw;
    this.#inf = informers;
    this.#queue = queue;
    this.#events = events;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = log;
    informers.workloads.onAdd((w) => this.#enqueue(workloadKey(w), 'VirtualWorkload added'));
    informers.workloads.onUpdate((o, n) => {
      // Our own status writes come back as updates; only spec, labels, deletion or identity changes matter.
      if (
        o.metadata.generation !== n.metadata.generation ||
        o.metadata.uid !== n.metadata.uid ||
        o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp
      ) {
        this.#enqueue(workloadKey(n), 'VirtualWorkload changed');
      }
    });
    informers.workloads.onDelete((w) => this.#enqueue(workloadKey(w), 'VirtualWorkload deleted'));
    informers.placements.onAdd((p) => this.#onPlacement(p, 'Placement added'));
    informers.placements.onUpdate((_o, n) => this.#onPlacement(n, 'Placement changed'));
    informers.placements.onDelete((p) => this.#onPlacement(p, 'Placement deleted'));
    informers.edges.onAdd((e) => this.#onEdge(undefined, e));
    informers.edges.onUpdate((o, n) => this.#onEdge(o, n));
    informers.edges.onDelete((e) => this.#onEdge(e, undefined));
  }

  /**
   * Until the caches are synced, Edge and Placement events are ignored (the initial lists replay every object);
   * then every workload is enqueued once, which covers them.
   */
  markSynced(): void {
    this.#synced = true;
    for (const w of this.#inf.workloads.list()) this.#queue.add(workloadKey(w));
  }

  #enqueue(key: string, reason: string): void {
    this.#log.debug({ key, reason }, 'queued');
    this.#queue.add(key);
  }

  #onPlacement(p: Placement, reason: string): void {
    if (!this.#synced) return;
    const key = workloadKeyForPlacement(p);
    if (key !== undefined) this.#enqueue(key, `${reason}: ${clusterKey(p)}`);
  }

  #onEdge(oldEdge: Edge | undefined, newEdge: Edge | undefined): void {
    if (!this.#synced) return;
    const edge = (newEdge ?? oldEdge) as Edge;
    const cluster = clusterOf(edge);
    const keys = workloadKeysForEdgeEvent(
      oldEdge,
      newEdge,
      this.#inf.workloads.byIndex(IndexName.WorkloadsByCluster, cluster),
      this.#inf.placements.byIndex(IndexName.PlacementsByEdge, edgeIndexValue(cluster, edge.metadata.name ?? '')),
    );
    for (const key of keys) this.#enqueue(key, `Edge ${clusterKey(edge)}`);
  }

  /** One pass for `key`; throws to be retried with backoff. `signal` aborts when leadership ends. */
  async reconcile(key: string, signal: AbortSignal): Promise<ProcessResult> {
    if (signal.aborted) return;
    const parts = splitKey(key);
    if (parts === undefined) {
      this.#log.warn({ key }, 'malformed workload key dropped');
      return;
    }
    const stored = this.#inf.workloads.get(key);
    if (stored === undefined) return; // deleted: the garbage collector removes its Placements
    const { cluster, namespace } = parts;
    const workload = structuredClone(stored);
    const started = performance.now();
    const result = reconcileWorkload(
      workload,
      {
        edges: this.#inf.edges.byIndex(EDGES_BY_CLUSTER, cluster),
        placements: this.#inf.placements.byIndex(IndexName.PlacementsByWorkload, key),
        namesInUse: new Set(
          this.#inf.placements
            .byIndex(IndexName.PlacementsByNamespace, namespaceIndexValue(cluster, namespace))
            .map((p) => p.metadata.name ?? ''),
        ),
      },
      new Date(this.#clock.now()),
      { failoverGraceMs: this.#opts.failoverGraceMs },
    );
    this.stats.decideMs += performance.now() - started;
    this.stats.reconciles++;

    const client = this.#vw.forCluster(cluster);
    const limit = this.#opts.writeConcurrency ?? 32;
    const { diff } = result;
    const created: string[] = [];
    await forEachLimit(diff.create, limit, async (p) => {
      try {
        await client.create(placementsPath(namespace), p, { signal });
        this.stats.creates++;
        created.push(`${cluster}|${namespace}/${p.metadata.name ?? ''}`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        this.stats.createConflicts++;
      }
    });
    await forEachLimit(diff.update, limit, async (p) => {
      await client.update(placementsPath(namespace, p.metadata.name), p, { signal });
      this.stats.updates++;
    });
    const deleted: string[] = [];
    await forEachLimit(diff.delete, limit, async (p) => {
      try {
        await client.delete(placementsPath(namespace, p.metadata.name), {
          signal,
          propagationPolicy: 'Background',
          ...(p.metadata.uid ? { preconditions: { uid: p.metadata.uid } } : {}),
        });
        this.stats.deletes++;
        deleted.push(clusterKey(p));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
    if (diff.create.length + diff.update.length + diff.delete.length > 0) {
      this.#log.info(
        { key, created: diff.create.length, updated: diff.update.length, deleted: diff.delete.length },
        'placements changed',
      );
    }

    if (result.status !== undefined) {
      try {
        await client.updateStatus(
          workloadPath(namespace, parts.name),
          { ...workload, status: result.status },
          { signal },
        );
        this.stats.statusWrites++;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return;
      }
    }
    if (result.events.length > 0) await this.#events.record(stored, result.events, this.#clock.now());
    // The next pass must see our own writes, or it would create the same Placements again (409s) or miss them in
    // the status. Their watch events requeue this key anyway; waiting here just keeps that pass from running early.
    await this.#waitForCache(created, deleted, signal);
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
  }

  async #waitForCache(created: readonly string[], deleted: readonly string[], signal: AbortSignal): Promise<void> {
    if (created.length === 0 && deleted.length === 0) return;
    const store = this.#inf.placements;
    const gone = (k: string): boolean => {
      const p = store.get(k);
      return p === undefined || p.metadata.deletionTimestamp !== undefined; // a finalizer may keep it a while
    };
    const pending = (): boolean => created.some((k) => store.get(k) === undefined) || deleted.some((k) => !gone(k));
    await poll(async () => (pending() ? undefined : true), {
      what: 'the informer cache to show our Placement writes',
      timeoutMs: this.#opts.cacheWaitMs ?? 5_000,
      intervalMs: 5,
      signal,
    }).catch(() => undefined); // best effort: timed out or stopping, the writes' watch events requeue the key anyway
  }
}
