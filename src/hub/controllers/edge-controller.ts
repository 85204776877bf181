// The Edge lifecycle controller's I/O shell (README "Edge lifecycle controller"): on Edge events and at heartbeat
// expiry it recomputes status with `nextEdgeStatus(…, None)` and writes it when it changed. Tunnel Opened/Closed
// signals are applied directly (read, decide, write), so they work on any hub replica, leader or not.
import type { Logger } from 'pino';
import { GROUP, Resource, VERSION } from '../../api/constants.ts';
import type { Edge } from '../../api/types.ts';
import { isConflict, isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import { realClock, type Clock } from '../../util/clock.ts';
import { clusterKey, edgeKey, splitKey } from '../../kube/cluster-key.ts';
import type { ProcessResult } from '../../kube/controller-runner.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { WorkQueue } from '../../kube/work-queue.ts';
import { retry } from '../../util/wait.ts';
import { edgeStatusEqual, nextEdgeStatus, type TunnelSignal } from './edge-lifecycle.ts';
import type { KedgeInformers } from './informers.ts';

export function edgePath(name: string): string {
  return `/apis/${GROUP}/${VERSION}/${Resource.edges}/${name}`;
}

export interface EdgeControllerOptions {
  heartbeatIntervalMs: number;
  clock?: Clock;
}

export class EdgeController {
  readonly stats = { reconciles: 0, statusWrites: 0 };
  readonly #vw: KubeClient;
  readonly #inf: KedgeInformers;
  readonly #opts: EdgeControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(vw: KubeClient, informers: KedgeInformers, queue: WorkQueue, opts: EdgeControllerOptions, log: Logger) {
    this.#vw = vw;
    this.#inf = informers;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = log;
    // Every add and update: a heartbeat refresh moves the expiry, and the informer's replay covers a restart.
    informers.edges.onAdd((e) => queue.add(clusterKey(e)));
    informers.edges.onUpdate((_o, n) => queue.add(clusterKey(n)));
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ProcessResult> {
    if (signal.aborted) return;
    const parts = splitKey(key);
    if (parts === undefined) return;
    const stored = this.#inf.edges.get(key);
    if (stored === undefined || stored.metadata.deletionTimestamp !== undefined) return;
    this.stats.reconciles++;
    const edge = structuredClone(stored);
    const next = nextEdgeStatus(edge, { type: 'None' }, new Date(this.#clock.now()), {
      heartbeatIntervalMs: this.#opts.heartbeatIntervalMs,
    });
    if (!edgeStatusEqual(edge.status, next.status)) {
      try {
        await this.#vw
          .forCluster(parts.cluster)
          .updateStatus(edgePath(parts.name), { ...edge, status: next.status }, { signal });
        this.stats.statusWrites++;
        if (edge.status?.phase !== next.status.phase)
          this.#log.info({ key, from: edge.status?.phase, to: next.status.phase }, 'edge phase changed');
      } catch (err) {
        // Conflict: a newer Edge is on its way and its update event queues this key again.
        if (isNotFound(err) || isConflict(err) || signal.aborted) return;
        throw err;
      }
    }
    return next.requeueAfterMs !== undefined ? { requeueAfterMs: next.requeueAfterMs } : undefined;
  }
}

/**
 * Applies a tunnel signal to one Edge: GET through the virtual workspace, `nextEdgeStatus`, PUT status; retried on
 * conflict. Calls for the same Edge run one after another (an Opened must not overtake the Closed before it).
 */
export class TunnelSignalApplier {
  readonly #vw: () => Promise<KubeClient>;
  readonly #opts: EdgeControllerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #chains = new Map<string, Promise<void>>();

  /** `vw` resolves to a client on the virtual-workspace URL (it waits for the endpoint slice). */
  constructor(vw: () => Promise<KubeClient>, opts: EdgeControllerOptions, log: Logger) {
    this.#vw = vw;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = log;
  }

  apply(cluster: string, edgeName: string, signal: TunnelSignal): Promise<void> {
    const key = edgeKey(cluster, edgeName);
    const run = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#applyOnce(cluster, edgeName, signal));
    const tail = run.catch(() => undefined);
    this.#chains.set(key, tail);
    void tail.then(() => {
      if (this.#chains.get(key) === tail) this.#chains.delete(key);
    });
    return run;
  }

  async #applyOnce(cluster: string, edgeName: string, signal: TunnelSignal): Promise<void> {
    const client = (await this.#vw()).forCluster(cluster);
    // An optimistic-concurrency conflict means the Edge changed under us: read it again and recompute.
    await retry(
      async () => {
        let edge: Edge;
        try {
          edge = await client.get<Edge & KubeObject>(edgePath(edgeName));
        } catch (err) {
          if (isNotFound(err)) return; // deleted meanwhile: nothing to mark
          throw err;
        }
        const next = nextEdgeStatus(edge, signal, new Date(this.#clock.now()), {
          heartbeatIntervalMs: this.#opts.heartbeatIntervalMs,
        });
        if (edgeStatusEqual(edge.status, next.status)) return;
        await client.updateStatus(edgePath(edgeName), { ...edge, status: next.status });
        this.#log.info(
          { key: edgeKey(cluster, edgeName), signal: signal.type, phase: next.status.phase },
          'tunnel signal applied',
        );
      },
      { attempts: 5, backoff: { initialMs: 10, maxMs: 200 }, retryIf: isConflict },
    );
  }
}
