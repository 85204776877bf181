// The hub side of bench/scheduling.ts, in its own process so its CPU and RSS are measured apart from the load
// generator: runs the controller manager against the benchmark's kcp and answers `stats` messages over IPC.
// Started by bench/scheduling.ts (env KCP_URL, KCP_TOKEN, KCP_CA_FILE, KEDGE_BENCH_WRITE_CONCURRENCY, and
// KEDGE_BENCH_HUB_SRC: the `src/` directory whose controllers run, e.g. another checkout's); not run by hand.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type * as ManagerModule from '../src/hub/controllers/manager.ts';
import type * as ClientModule from '../src/kube/client.ts';

const src = process.env.KEDGE_BENCH_HUB_SRC || new URL('../src/', import.meta.url).pathname;
const { startControllerManager } = (await import(`${src}/hub/controllers/manager.ts`)) as typeof ManagerModule;
const { KubeClient } = (await import(`${src}/kube/client.ts`)) as typeof ClientModule;

const kcp = new KubeClient({
  server: process.env.KCP_URL ?? '',
  token: process.env.KCP_TOKEN ?? '',
  ca: readFileSync(process.env.KCP_CA_FILE ?? ''),
  userAgent: 'kedge-bench-hub',
});
const writeConcurrency = Number(process.env.KEDGE_BENCH_WRITE_CONCURRENCY ?? 0) || undefined;
const manager = startControllerManager(
  { kcp, identity: 'bench-hub', endpointPollMs: 200, ...(writeConcurrency ? { writeConcurrency } : {}) },
  pino({ level: process.env.KEDGE_BENCH_LOG ?? 'warn' }),
);

process.on('message', (msg: { type: string; gc?: boolean }) => {
  if (msg.type === 'stats') {
    if (msg.gc) {
      globalThis.gc?.();
      globalThis.gc?.();
    }
    const m = process.memoryUsage();
    process.send?.({
      type: 'stats',
      stats: manager.stats(),
      cpu: process.cpuUsage(),
      rss: m.rss,
      heapUsed: m.heapUsed,
    });
  } else if (msg.type === 'stop') {
    void manager
      .stop()
      .then(() => kcp.close())
      .then(() => process.exit(0));
  }
});
await manager.whenRunning();
process.send?.({ type: 'running' });
