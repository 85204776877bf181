// Prometheus metrics of the hub, on a registry passed around (no global default registry). Every metric the hub
// exports is defined here; the layers that count get small interfaces (EdgeMetrics, ControllerMetrics) from startHub.
// Labels are bounded sets (routes, outcomes, controller names, results): never tenant, cluster or edge names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueMetrics } from '../kube/work-queue.ts';
import { SSH_ENDS, type SshEnd } from './edges/ssh-audit.ts';

/** What became of one edges-proxy or agent-proxy request (the `outcome` label). */
export const PROXY_OUTCOMES = [
  'forwarded',
  'ok',
  'bad_request',
  'client_error',
  'unauthorized',
  'forbidden',
  'not_found',
  'not_connected',
  'error',
] as const;
export type ProxyOutcome = (typeof PROXY_OUTCOMES)[number];
export const CONTROLLERS = ['workload', 'edge'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];
export const RECONCILE_RESULTS = ['success', 'requeue', 'error'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

/** The tunnel registry and the two proxies count through this (src/hub/edges). */
export interface EdgeMetrics {
  /** A session was registered (also when it replaced one); `sessions` is the registry's size afterwards. */
  tunnelConnected(sessions: number): void;
  /** A registered session ended; `sessions` is the registry's size afterwards. */
  tunnelDisconnected(sessions: number): void;
  edgesProxy(outcome: ProxyOutcome): void;
  agentProxy(outcome: ProxyOutcome): void;
  /** An SSH session through …/ssh began (after the upgrade). */
  sshStarted(): void;
  /** It ended: how, and the bytes relayed each way. */
  sshEnded(ended: SshEnd, bytesToEdge: number, bytesToClient: number): void;
}

/** The controller manager counts through this (src/hub/controllers). */
export interface ControllerMetrics {
  reconciled(controller: ControllerName, result: ReconcileResult, seconds: number): void;
  leader(leading: boolean): void;
  /** The `kedge_workqueue_*{name}` series of one controller's work queue (name = the controller). */
  queue(controller: ControllerName): QueueMetrics;
}

export interface HubMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'code'>;
  /** TLS connections accepted, by the protocol ALPN chose: `h2` or `http/1.1`. */
  connections: Counter<'protocol'>;
  edges: EdgeMetrics;
  controllers: ControllerMetrics;
}

/** The outcome label for an HTTP status the hub answered itself (not a forwarded response). */
export function outcomeOfStatus(code: number): ProxyOutcome {
  if (code < 400) return 'ok';
  switch (code) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 502:
      return 'not_connected';
    default:
      return code < 500 ? 'client_error' : 'error';
  }
}

// Process metrics (CPU, memory, event loop) are per process, not per hub: collected once, shared by every hub
// registry, so tests that start many hubs in one process do not stack up collectors.
let processRegistry: Registry | undefined;

export function createMetrics(): HubMetrics {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'kedge_hub_' });
  }
  const own = new Registry();
  const registers = [own];
  const httpRequests = new Counter({
    name: 'kedge_hub_http_requests_total',
    help: 'HTTP requests served by the hub, by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers,
  });
  const connections = new Counter({
    name: 'kedge_hub_connections_total',
    help: 'TLS connections accepted by the hub, by the protocol ALPN chose (h2, http/1.1).',
    labelNames: ['protocol'] as const,
    registers,
  });
  const tunnelSessions = new Gauge({
    name: 'kedge_hub_tunnel_sessions',
    help: 'Registered edge tunnel sessions.',
    registers,
  });
  const tunnelConnects = new Counter({
    name: 'kedge_hub_tunnel_connects_total',
    help: 'Edge tunnel sessions registered (including replacements).',
    registers,
  });
  const tunnelDisconnects = new Counter({
    name: 'kedge_hub_tunnel_disconnects_total',
    help: 'Registered edge tunnel sessions that ended.',
    registers,
  });
  const edgesProxy = new Counter({
    name: 'kedge_hub_edges_proxy_requests_total',
    help: "Users' edges-proxy requests and upgrades, by outcome.",
    labelNames: ['outcome'] as const,
    registers,
  });
  const agentProxy = new Counter({
    name: 'kedge_hub_agent_proxy_requests_total',
    help: "Agents' agent-proxy requests and tunnel upgrades, by outcome.",
    labelNames: ['outcome'] as const,
    registers,
  });
  const sshOpen = new Gauge({
    name: 'kedge_hub_ssh_sessions_open',
    help: 'SSH sessions relayed right now.',
    registers,
  });
  const sshSessions = new Counter({
    name: 'kedge_hub_ssh_sessions_total',
    help: 'SSH sessions that ended, by how they ended.',
    labelNames: ['ended'] as const,
    registers,
  });
  const sshBytes = new Counter({
    name: 'kedge_hub_ssh_bytes_total',
    help: 'Bytes relayed by SSH sessions, by direction (to_edge, to_client).',
    labelNames: ['direction'] as const,
    registers,
  });
  const reconciles = new Counter({
    name: 'kedge_hub_reconciles_total',
    help: 'Controller reconciles, by controller and result.',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'kedge_hub_reconcile_duration_seconds',
    help: 'Duration of controller reconciles, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  // client-go's workqueue metrics (depth, adds, queue latency, work duration, retries), `name` = the controller.
  const queueDepth = new Gauge({
    name: 'kedge_workqueue_depth',
    help: "Keys waiting in a controller's work queue (queued, or re-added while processing).",
    labelNames: ['name'] as const,
    registers,
  });
  const queueAdds = new Counter({
    name: 'kedge_workqueue_adds_total',
    help: 'Keys that became pending in a work queue.',
    labelNames: ['name'] as const,
    registers,
  });
  const queueRetries = new Counter({
    name: 'kedge_workqueue_retries_total',
    help: 'Rate-limited re-adds (retries) in a work queue.',
    labelNames: ['name'] as const,
    registers,
  });
  // Clock resolution is 1 ms, so buckets start there; the top ones catch the 1000 s backoff cap.
  const queueBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1000];
  const queueDuration = new Histogram({
    name: 'kedge_workqueue_queue_duration_seconds',
    help: 'How long a key waited in a work queue before a worker took it.',
    labelNames: ['name'] as const,
    buckets: queueBuckets,
    registers,
  });
  const workDuration = new Histogram({
    name: 'kedge_workqueue_work_duration_seconds',
    help: 'How long a worker held a key taken from a work queue.',
    labelNames: ['name'] as const,
    buckets: queueBuckets,
    registers,
  });
  const queues = new Map<ControllerName, QueueMetrics>();
  for (const name of CONTROLLERS) {
    // Every series exists from the start (at 0), so dashboards and rate() see each queue before its first key.
    queueDepth.set({ name }, 0);
    queueAdds.inc({ name }, 0);
    queueRetries.inc({ name }, 0);
    queueDuration.zero({ name });
    workDuration.zero({ name });
    queues.set(name, {
      depth(keys) {
        queueDepth.set({ name }, keys);
      },
      added() {
        queueAdds.inc({ name });
      },
      queued(seconds) {
        queueDuration.observe({ name }, seconds);
      },
      worked(seconds) {
        workDuration.observe({ name }, seconds);
      },
      retried() {
        queueRetries.inc({ name });
      },
    });
  }
  const leader = new Gauge({
    name: 'kedge_hub_leader',
    help: "1 while this replica holds the controllers' Lease, else 0.",
    registers,
  });
  leader.set(0);
  tunnelSessions.set(0);
  sshOpen.set(0);
  for (const ended of SSH_ENDS) sshSessions.inc({ ended }, 0);
  for (const direction of ['to_edge', 'to_client']) sshBytes.inc({ direction }, 0);
  for (const outcome of PROXY_OUTCOMES) {
    edgesProxy.inc({ outcome }, 0);
    agentProxy.inc({ outcome }, 0);
  }
  return {
    registry: Registry.merge([processRegistry, own]),
    httpRequests,
    connections,
    edges: {
      tunnelConnected(sessions) {
        tunnelConnects.inc();
        tunnelSessions.set(sessions);
      },
      tunnelDisconnected(sessions) {
        tunnelDisconnects.inc();
        tunnelSessions.set(sessions);
      },
      edgesProxy(outcome) {
        edgesProxy.inc({ outcome });
      },
      agentProxy(outcome) {
        agentProxy.inc({ outcome });
      },
      sshStarted() {
        sshOpen.inc();
      },
      sshEnded(ended, bytesToEdge, bytesToClient) {
        sshOpen.dec();
        sshSessions.inc({ ended });
        sshBytes.inc({ direction: 'to_edge' }, bytesToEdge);
        sshBytes.inc({ direction: 'to_client' }, bytesToClient);
      },
    },
    controllers: {
      reconciled(controller, result, seconds) {
        reconciles.inc({ controller, result });
        reconcileDuration.observe({ controller }, seconds);
      },
      leader(leading) {
        leader.set(leading ? 1 : 0);
      },
      queue(controller) {
        return queues.get(controller) as QueueMetrics;
      },
    },
  };
}

/** Runs one reconcile and records its result and duration; the result of `run` passes through. */
export async function timeReconcile<T extends void | { requeueAfterMs?: number } | undefined>(
  m: ControllerMetrics | undefined,
  controller: ControllerName,
  run: () => Promise<T>,
): Promise<T> {
  const start = performance.now();
  let result: ReconcileResult = 'error';
  try {
    const r = await run();
    result = r && r.requeueAfterMs !== undefined ? 'requeue' : 'success';
    return r;
  } finally {
    m?.reconciled(controller, result, (performance.now() - start) / 1000);
  }
}
