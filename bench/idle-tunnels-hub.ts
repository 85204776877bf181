// The hub side of bench/idle-tunnels.ts, in its own process so its RSS and CPU are its own: the hub's real HTTPS
// listener (createHubServer), edge service (createEdgeService: tunnel endpoint, registry, credential checks and their
// periodic re-verification) and tunnel signal applier, with kcp replaced by the bench's stub API server
// (KEDGE_BENCH_KCP_URL). Answers `stats`, `cpu` and `recheck` messages over IPC. Not run by hand.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import type * as EdgeModule from '../src/hub/controllers/edge-controller.ts';
import type * as ServiceModule from '../src/hub/edges/service.ts';
import type * as MetricsModule from '../src/hub/metrics.ts';
import type * as ServerModule from '../src/hub/server/server.ts';
import type * as TlsModule from '../src/hub/tls.ts';
import type * as ClientModule from '../src/kube/client.ts';

// KEDGE_BENCH_HUB_SRC: the `src/` directory whose hub code runs (another checkout's, for before/after comparisons).
const src = process.env.KEDGE_BENCH_HUB_SRC || new URL('../src/', import.meta.url).pathname;
// ws-mask before anything loads ws (src/util/ws-mask.ts), as the hub's main does.
await import(`${src}/util/ws-mask.ts`);
const { createHubServer } = (await import(`${src}/hub/server/server.ts`)) as typeof ServerModule;
const { createEdgeService } = (await import(`${src}/hub/edges/service.ts`)) as typeof ServiceModule;
const { TunnelSignalApplier } = (await import(`${src}/hub/controllers/edge-controller.ts`)) as typeof EdgeModule;
const { createMetrics } = (await import(`${src}/hub/metrics.ts`)) as typeof MetricsModule;
const { ensureDevPki } = (await import(`${src}/hub/tls.ts`)) as typeof TlsModule;
const { KubeClient } = (await import(`${src}/kube/client.ts`)) as typeof ClientModule;

const log = pino({ level: process.env.KEDGE_BENCH_LOG ?? 'warn' });
const dir = mkdtempSync(join(tmpdir(), 'kedge-bench-idle-'));
const pki = ensureDevPki(dir, ['127.0.0.1', 'localhost']);
const port = Number(process.env.KEDGE_BENCH_HUB_PORT);
const hubURL = `https://127.0.0.1:${port}`;
const admin = new KubeClient({ server: process.env.KEDGE_BENCH_KCP_URL ?? '', token: 'bench' });
const metrics = createMetrics();
const signals = new TunnelSignalApplier(() => Promise.resolve(admin), { heartbeatIntervalMs: 60_000 }, log);
const recheckIntervalMs = Number(process.env.KEDGE_BENCH_RECHECK_MS ?? 0) || undefined;
const edges = createEdgeService({
  admin,
  authn: { authenticate: () => Promise.resolve(undefined) }, // users' routes are not exercised here
  hubURL,
  metrics: metrics.edges,
  tunnelEvent: (cluster, edge, type, registered) =>
    signals.apply(cluster, edge, type === 'Opened' ? { type } : { type, registered: registered ?? true }),
  ...(recheckIntervalMs ? { recheckIntervalMs } : {}),
  log,
});
const refuse = (): void => {
  throw new Error('not served by the bench hub');
};
const server = createHubServer(
  { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
  {
    isReady: () => true,
    tokenLogin: refuse,
    tokenReview: refuse,
    kcpProxy: refuse,
    agentProxy: (req, res) => edges.agentProxy(req, res),
    agentProxyUpgrade: (req, socket, head) => edges.agentProxyUpgrade(req, socket, head),
  },
  metrics,
  log,
);
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    globalThis.gc?.();
    globalThis.gc?.();
    const m = process.memoryUsage();
    process.send?.({
      type: 'stats',
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      tunnels: edges.tunnels.registry.size,
      reviews: edges.credentials.reviews,
      cpu: process.cpuUsage(),
    });
  } else if (msg.type === 'snapshot') {
    globalThis.gc?.();
    process.send?.({
      type: 'snapshot',
      file: writeHeapSnapshot(join(process.env.KEDGE_BENCH_HUB_SNAP ?? dir, `hub-${Date.now()}.heapsnapshot`)),
    });
  } else if (msg.type === 'cpu') {
    process.send?.({ type: 'cpu', cpu: process.cpuUsage() });
  } else if (msg.type === 'recheck') {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    void edges.tunnels.recheck().then(() => {
      process.send?.({ type: 'recheck', ms: performance.now() - t0, cpu: process.cpuUsage(c0) });
    });
  } else if (msg.type === 'stop') {
    void edges
      .stop()
      .then(() => new Promise((r) => server.close(r)))
      .then(() => admin.close())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  }
});
process.send?.({ type: 'ready', caFile: pki.caFile });
