// Wires the controllers together under leader election: while this replica holds the Lease it discovers the APIExport
// virtual workspace, starts the shared informers, waits for them to sync, then runs the VirtualWorkload and Edge
// workers; on losing the Lease (or stop) it stops them all before anything else may take over.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { WORKSPACE_ROOT } from '../../api/constants.ts';
import type { KubeClient } from '../../kube/client.ts';
import { runWorkers } from '../../kube/controller-runner.ts';
import { WorkQueue } from '../../kube/work-queue.ts';
import { timeReconcile, type ControllerMetrics } from '../metrics.ts';
import { EdgeController, TunnelSignalApplier } from './edge-controller.ts';
import { EventRecorder } from './events-recorder.ts';
import { createKedgeInformers, type InformerTuning, type KedgeInformers } from './informers.ts';
import { LeaderElector, type LeaderElectionConfig } from '../../kube/leader-election.ts';
import { waitForVirtualWorkspaceURL } from './vw-endpoint.ts';
import { emptyWorkloadStats, WorkloadController, type WorkloadControllerStats } from './workload-controller.ts';

export const LEASE_NAME = 'kedge-controllers';
export const LEASE_NAMESPACE = 'default';
export const DEFAULT_FAILOVER_GRACE_MS = 5 * 60_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

export interface ControllerManagerOptions {
  /** Admin client on the bare kcp URL (the hub's `system:kcp:admin` identity). */
  kcp: KubeClient;
  /** Lease holder identity; default `<hostname>-<pid>-<random>`. */
  identity?: string;
  failoverGraceMs?: number;
  heartbeatIntervalMs?: number;
  workloadWorkers?: number;
  edgeWorkers?: number;
  /** Placement writes in flight per workload reconcile. */
  writeConcurrency?: number;
  leaderElection?: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
  /** Endpoint-slice polling period while no tenant has bound the export yet. */
  endpointPollMs?: number;
  informers?: InformerTuning;
  /** Reconciles and leadership are counted here (src/hub/metrics.ts). */
  metrics?: ControllerMetrics;
}

export interface ControllerStats {
  leader: boolean;
  terms: number;
  workloads: WorkloadControllerStats;
  edges: { reconciles: number; statusWrites: number };
  events: number;
  queue: { workloads: number; edges: number };
  cache: { edges: number; workloads: number; placements: number };
}

export interface ControllerManager {
  readonly identity: string;
  readonly isLeader: boolean;
  /** True while this replica leads AND its caches are synced and workers run. */
  readonly isRunning: boolean;
  /** Resolves when the controllers are running (leader, synced); for tests and readiness. */
  whenRunning(): Promise<void>;
  /**
   * The tunnel layer reports a session: `Opened` when it registered one for the Edge, `Closed` when one ended
   * (`registered`: it was still the Edge's registered session). Resolves once the Edge status is written.
   */
  edgeTunnelEvent(cluster: string, edgeName: string, type: 'Opened' | 'Closed', registered?: boolean): Promise<void>;
  stats(): ControllerStats;
  /** Stops the workers and informers, then releases the Lease. */
  stop(): Promise<void>;
}

export function defaultIdentity(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function startControllerManager(opts: ControllerManagerOptions, log: Logger): ControllerManager {
  const identity = opts.identity ?? defaultIdentity();
  const mlog = log.child({ component: 'controllers', identity });
  const stopping = new AbortController();
  const failoverGraceMs = opts.failoverGraceMs ?? DEFAULT_FAILOVER_GRACE_MS;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;

  // The VW URL is the same for the life of the shard; discovered once, shared by leader terms and tunnel signals.
  let vwClient: Promise<KubeClient> | undefined;
  const vw = (): Promise<KubeClient> => {
    if (vwClient === undefined) {
      const found = waitForVirtualWorkspaceURL(opts.kcp, mlog, {
        signal: stopping.signal,
        ...(opts.endpointPollMs ? { intervalMs: opts.endpointPollMs } : {}),
      }).then((url) => opts.kcp.withServer(url));
      found.catch(() => {
        if (vwClient === found) vwClient = undefined;
      });
      vwClient = found;
    }
    return vwClient;
  };
  const tunnel = new TunnelSignalApplier(vw, { heartbeatIntervalMs }, mlog.child({ controller: 'edge-tunnel' }));

  let terms = 0;
  let current:
    | {
        informers: KedgeInformers;
        workload: WorkloadController;
        edge: EdgeController;
        recorder: EventRecorder;
        wq: WorkQueue;
        eq: WorkQueue;
      }
    | undefined;
  let running = false;
  let runningWaiters: (() => void)[] = [];

  const lead = async (term: AbortSignal): Promise<void> => {
    opts.metrics?.leader(true);
    try {
      await leadTerm(term);
    } finally {
      opts.metrics?.leader(false);
    }
  };
  const leadTerm = async (term: AbortSignal): Promise<void> => {
    terms++;
    const client = await abortable(vw(), term);
    if (client === undefined) return;
    const tlog = mlog.child({ term: terms });
    const informers = createKedgeInformers(client, tlog, opts.informers);
    const wq = new WorkQueue({ metrics: opts.metrics?.queue('workload') });
    const eq = new WorkQueue({ metrics: opts.metrics?.queue('edge') });
    const recorder = new EventRecorder(client, identity, tlog.child({ controller: 'events' }));
    const workload = new WorkloadController(
      client,
      informers,
      wq,
      recorder,
      {
        failoverGraceMs,
        ...(opts.writeConcurrency ? { writeConcurrency: opts.writeConcurrency } : {}),
      },
      tlog.child({ controller: 'virtualworkload' }),
    );
    const edge = new EdgeController(client, informers, eq, { heartbeatIntervalMs }, tlog.child({ controller: 'edge' }));
    current = { informers, workload, edge, recorder, wq, eq };
    informers.start();
    let workers: Promise<unknown> = Promise.resolve();
    try {
      const synced = await abortable(
        informers.waitForSync().then(() => true),
        term,
      );
      if (synced) {
        workload.markSynced();
        tlog.info(
          { edges: informers.edges.size, workloads: informers.workloads.size, placements: informers.placements.size },
          'caches synced; controllers running',
        );
        workers = Promise.all([
          runWorkers(
            wq,
            opts.workloadWorkers ?? 4,
            (key) => timeReconcile(opts.metrics, 'workload', () => quietOnStop(workload.reconcile(key, term), term)),
            tlog.child({ controller: 'virtualworkload' }),
          ),
          runWorkers(
            eq,
            opts.edgeWorkers ?? 2,
            (key) => timeReconcile(opts.metrics, 'edge', () => quietOnStop(edge.reconcile(key, term), term)),
            tlog.child({ controller: 'edge' }),
          ),
        ]);
        running = true;
        for (const w of runningWaiters.splice(0)) w();
        await new Promise<void>((resolve) => {
          if (term.aborted) resolve();
          else term.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    } finally {
      running = false;
      wq.shutDown();
      eq.shutDown();
      await informers.stop();
      await workers;
      tlog.info('controllers stopped');
    }
  };

  const elector = new LeaderElector(
    opts.kcp.forCluster(WORKSPACE_ROOT),
    {
      namespace: LEASE_NAMESPACE,
      name: LEASE_NAME,
      identity,
      ...opts.leaderElection,
    },
    mlog,
  );
  const electing = elector
    .run(lead, stopping.signal)
    .catch((err: unknown) => mlog.error({ err }, 'leader election crashed'));

  return {
    identity,
    get isLeader() {
      return elector.isLeader;
    },
    get isRunning() {
      return running;
    },
    whenRunning() {
      if (running) return Promise.resolve();
      return new Promise((resolve) => runningWaiters.push(resolve));
    },
    edgeTunnelEvent(cluster, edgeName, type, registered = true) {
      return tunnel.apply(cluster, edgeName, type === 'Opened' ? { type } : { type, registered });
    },
    stats() {
      const c = current;
      return {
        leader: elector.isLeader,
        terms,
        workloads: {
          ...(c?.workload.stats ?? emptyWorkloadStats()),
        },
        edges: { ...(c?.edge.stats ?? { reconciles: 0, statusWrites: 0 }) },
        events: c?.recorder.recorded ?? 0,
        queue: {
          workloads: (c?.wq.length ?? 0) + (c?.wq.processingCount ?? 0),
          edges: (c?.eq.length ?? 0) + (c?.eq.processingCount ?? 0),
        },
        cache: {
          edges: c?.informers.edges.size ?? 0,
          workloads: c?.informers.workloads.size ?? 0,
          placements: c?.informers.placements.size ?? 0,
        },
      };
    },
    async stop() {
      stopping.abort(new Error('controllers stopping'));
      runningWaiters = [];
      await electing;
    },
  };
}

/** A reconcile cut short by the end of the term is not a failure worth a retry or a warning. */
async function quietOnStop<T>(p: Promise<T>, term: AbortSignal): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (term.aborted) return undefined;
    throw err;
  }
}

/** `p`'s value, or undefined once `signal` aborted first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(undefined);
        else reject(e);
      },
    );
  });
}
