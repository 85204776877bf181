// The workload reconciler's I/O shell (src/agent/README.md): informs on this edge's Placements through the agent-proxy and on
// the Deployments it made locally, and per Placement key (`<ns>/<name>`) applies desiredObjects() with server-side
// apply, writes the Placement status when it changed, and deletes what belongs to Placements that are gone
// (including leftovers from while the agent was down). Decisions live in desired.ts and placement-status.ts.
import type { Logger } from 'pino';
import type { Placement, PlacementStatus, VirtualWorkload } from '../../api/types.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../kube/api-error.ts';
import { apply } from '../../kube/apply.ts';
import type { KubeClient } from '../../kube/client.ts';
import { runWorkers } from '../../kube/controller-runner.ts';
import type { ProcessResult } from '../../kube/controller-runner.ts';
import { Informer } from '../../kube/informer.ts';
import type { KubeObject } from '../../kube/types.ts';
import { WorkQueue } from '../../kube/work-queue.ts';
import {
  ANNOTATION_CLUSTER,
  ANNOTATION_DESIRED_HASH,
  ANNOTATION_PLACEMENT,
  DesiredStateError,
  FIELD_MANAGER,
  MANAGED_SELECTOR,
  applyFailure,
  desiredObjects,
  needsApply,
  placementSelector,
  workloadBehind,
} from './desired.ts';
import type { Deployment, LocalContext, Service } from './desired.ts';
import { placementStatus, statusChanged } from './placement-status.ts';

export interface ReconcilerOptions {
  /** Client on `…/edges/<edge>` (agent-proxy). */
  hub: KubeClient;
  /** The local cluster. */
  local: KubeClient;
  ctx: LocalContext;
  logger: Logger;
  resyncIntervalMs: number;
  workers?: number;
  /** Reports hub errors (a 401 may mean the credential was revoked). */
  onHubError?: (err: unknown) => void;
}

const BY_NS_NAME = 'ns/name';
/** A Failed placement (bad VW, forbidden namespace) is retried this often even without a change. */
const FAILED_RETRY_MS = 30_000;

type PlacementObj = Placement & KubeObject;

export class WorkloadReconciler {
  readonly placements: Informer<PlacementObj>;
  readonly deployments: Informer<Deployment>;
  readonly #opts: ReconcilerOptions;
  readonly #log: Logger;
  readonly #queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 30_000 });
  readonly #namespaces = new Set<string>();
  /** `<ns>/<deployment>` → ANNOTATION_DESIRED_HASH of the agent's last successful apply (the cache may lag behind it). */
  readonly #applied = new Map<string, string>();
  #resync: NodeJS.Timeout | undefined;
  #workers: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'workload-reconciler' });
    this.placements = new Informer<PlacementObj>({
      client: opts.hub,
      path: '/placements',
      logger: this.#log,
      backoff: { maxMs: 30_000 },
    });
    this.placements.addIndex(BY_NS_NAME, (p) => [`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`]);
    this.deployments = new Informer<Deployment>({
      client: opts.local,
      path: '/apis/apps/v1/deployments',
      labelSelector: MANAGED_SELECTOR,
      logger: this.#log,
      backoff: { maxMs: 30_000 },
    });
    const enqueuePlacement = (p: PlacementObj): void =>
      this.#queue.add(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
    this.placements.onAdd(enqueuePlacement);
    this.placements.onUpdate((_, p) => enqueuePlacement(p));
    this.placements.onDelete(enqueuePlacement);
    const enqueueOwner = (d: KubeObject): void => {
      const key = this.#ownerKey(d);
      if (key !== undefined) this.#queue.add(key);
    };
    this.deployments.onAdd(enqueueOwner);
    this.deployments.onUpdate((_, d) => enqueueOwner(d));
    this.deployments.onDelete(enqueueOwner);
  }

  /** Starts the informers; workers start once both have synced (never delete before the Placements are known). */
  start(): void {
    this.placements.start();
    this.deployments.start();
    void (async () => {
      try {
        await Promise.all([this.placements.waitForSync(), this.deployments.waitForSync()]);
      } catch {
        return; // stopped before sync
      }
      if (this.#stopped) return;
      this.#log.info(
        { placements: this.placements.list().length, deployments: this.deployments.list().length },
        'reconciler synced',
      );
      await this.#enqueueOrphanServices();
      this.#resync = setInterval(() => {
        for (const p of this.placements.list())
          this.#queue.add(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
      }, this.#opts.resyncIntervalMs);
      this.#workers = runWorkers(this.#queue, this.#opts.workers ?? 2, (key) => this.reconcile(key), this.#log);
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#resync !== undefined) clearInterval(this.#resync);
    this.#queue.shutDown();
    await Promise.all([this.placements.stop(), this.deployments.stop()]);
    await this.#workers;
  }

  /** `<ns>/<placement>` of an object this agent made for the same tenant cluster, else undefined. */
  #ownerKey(obj: KubeObject): string | undefined {
    const a = obj.metadata.annotations ?? {};
    const name = a[ANNOTATION_PLACEMENT];
    if (name === undefined || a[ANNOTATION_CLUSTER] !== this.#opts.ctx.cluster) return undefined;
    return `${obj.metadata.namespace ?? ''}/${name}`;
  }

  /** Services have no informer: at start, queue the Placement keys of all managed Services so orphans are found. */
  async #enqueueOrphanServices(): Promise<void> {
    try {
      const { items } = await this.#opts.local.listAll<Service>('/api/v1/services', {
        labelSelector: MANAGED_SELECTOR,
      });
      for (const s of items) {
        const key = this.#ownerKey(s);
        if (key !== undefined) this.#queue.add(key);
      }
    } catch (err) {
      this.#log.warn({ err }, 'listing managed Services for the orphan sweep failed; Deployments are still swept');
    }
  }

  /** One Placement key: converge the local objects and report status. Throws to retry with backoff. */
  async reconcile(key: string): Promise<ProcessResult> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const placement = this.placements.byIndex(BY_NS_NAME, key)[0];
    if (
      placement === undefined ||
      placement.metadata.deletionTimestamp !== undefined ||
      placement.spec.edgeName !== this.#opts.ctx.edge
    ) {
      await this.#cleanup(namespace, name);
      return;
    }
    let vw: VirtualWorkload & KubeObject;
    try {
      vw = await this.#opts.hub.get<VirtualWorkload & KubeObject>(
        `/namespaces/${namespace}/virtualworkloads/${placement.spec.workloadRef.name}`,
      );
    } catch (err) {
      this.#opts.onHubError?.(err);
      throw err;
    }
    if (workloadBehind(placement, vw)) {
      // The hub stamped a newer workload generation on the Placement than this read shows: read again shortly.
      throw new Error(
        `VirtualWorkload ${namespace}/${vw.metadata.name ?? ''} read at generation ${vw.metadata.generation ?? '?'}, older than the Placement says`,
      );
    }
    let desired;
    try {
      desired = desiredObjects(placement, vw, this.#opts.ctx);
    } catch (err) {
      if (!(err instanceof DesiredStateError)) throw err;
      await this.#writeStatus(
        placement,
        placementStatus({ generation: placement.metadata.generation, error: err.message }),
      );
      return { requeueAfterMs: FAILED_RETRY_MS };
    }
    const deploymentKey = `${namespace}/${desired.deployment.metadata.name ?? ''}`;
    let live = this.deployments.get(`|${deploymentKey}`);
    if (
      needsApply(desired.hash, live?.metadata.annotations?.[ANNOTATION_DESIRED_HASH], this.#applied.get(deploymentKey))
    ) {
      // Until the whole apply succeeded, what is live is unknown: '' matches no hash, so the next pass applies again
      // even when the cache then shows the new Deployment (e.g. the Service apply failed after it).
      this.#applied.set(deploymentKey, '');
      try {
        await this.#ensureNamespace(namespace);
        live = await apply<Deployment>(
          this.#opts.local,
          deploymentPath(namespace, desired.deployment.metadata.name ?? ''),
          desired.deployment,
          { fieldManager: FIELD_MANAGER, force: true },
        );
        if (desired.service !== undefined) {
          await apply<Service>(
            this.#opts.local,
            `/api/v1/namespaces/${namespace}/services/${desired.service.metadata.name ?? ''}`,
            desired.service,
            { fieldManager: FIELD_MANAGER, force: true },
          );
        } else {
          await this.#deleteOwned('services', namespace, name);
        }
        this.#applied.set(deploymentKey, desired.hash);
        this.#log.info(
          {
            key,
            hash: desired.hash,
            replicas: desired.deployment.spec?.replicas,
            workloadGeneration: vw.metadata.generation,
          },
          'applied',
        );
      } catch (err) {
        const failure = applyFailure(err);
        if (failure === 'namespace-gone') {
          // Someone deleted the namespace on the edge: the cache must not claim it exists, or every retry fails the
          // same way until the agent restarts. Retry with backoff; #ensureNamespace makes it again once it is gone.
          this.#namespaces.delete(namespace);
          this.#log.info(
            { key, namespace, err: (err as Error).message },
            'namespace gone or terminating on the edge; will create it again',
          );
        }
        if (failure !== 'failed') throw err; // retry with backoff
        await this.#writeStatus(
          placement,
          placementStatus({
            generation: placement.metadata.generation,
            error: `apply failed: ${(err as Error).message}`,
          }),
        );
        return { requeueAfterMs: FAILED_RETRY_MS };
      }
    }
    await this.#writeStatus(
      placement,
      placementStatus({ generation: placement.metadata.generation, deployment: live }),
    );
    return;
  }

  async #ensureNamespace(namespace: string): Promise<void> {
    if (this.#namespaces.has(namespace)) return;
    try {
      await this.#opts.local.get(`/api/v1/namespaces/${namespace}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.#opts.local.create('/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        });
        this.#log.info({ namespace }, 'created namespace');
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    this.#namespaces.add(namespace);
  }

  async #writeStatus(placement: PlacementObj, status: PlacementStatus): Promise<void> {
    if (!statusChanged(placement.status, status)) return;
    const ns = placement.metadata.namespace ?? '';
    const name = placement.metadata.name ?? '';
    const body = { ...structuredClone(placement), status };
    try {
      await this.#opts.hub.updateStatus(`/namespaces/${ns}/placements/${name}`, body);
      this.#log.info(
        { key: `${ns}/${name}`, phase: status.phase, ready: status.readyReplicas, message: status.message },
        'placement status',
      );
    } catch (err) {
      this.#opts.onHubError?.(err);
      if (isNotFound(err)) return; // deleted meanwhile: the delete event cleans up
      if (isConflict(err)) throw err; // the informer brings the newer object; retry then
      throw err;
    }
  }

  /** Deletes the Deployment and Service this agent made for the Placement `namespace/name`. */
  async #cleanup(namespace: string, name: string): Promise<void> {
    const deleted =
      (await this.#deleteOwned('deployments', namespace, name)) +
      (await this.#deleteOwned('services', namespace, name));
    if (deleted > 0)
      this.#log.info({ key: `${namespace}/${name}`, deleted }, 'removed objects of a Placement that is gone');
  }

  async #deleteOwned(kind: 'deployments' | 'services', namespace: string, placementName: string): Promise<number> {
    const base =
      kind === 'deployments'
        ? `/apis/apps/v1/namespaces/${namespace}/deployments`
        : `/api/v1/namespaces/${namespace}/services`;
    const objects =
      kind === 'deployments'
        ? this.deployments.list().filter((d) => d.metadata.namespace === namespace)
        : (await this.#opts.local.listAll<Service>(base, { labelSelector: placementSelector(placementName) })).items;
    let n = 0;
    for (const o of objects) {
      if (this.#ownerKey(o) !== `${namespace}/${placementName}`) continue;
      try {
        // uid precondition: never delete a same-named object that replaced this one meanwhile.
        await this.#opts.local.delete(`${base}/${o.metadata.name ?? ''}`, {
          preconditions: { uid: o.metadata.uid },
          propagationPolicy: 'Background',
        });
        if (kind === 'deployments') this.#applied.delete(`${namespace}/${o.metadata.name ?? ''}`);
        n++;
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    return n;
  }
}

function deploymentPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
}
