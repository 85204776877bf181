// The hub side of bench/edges.ts, in its own process so its RSS is measured apart from the load generator: a real
// hub with its own child kcp. Answers `stats` messages over IPC (RSS after a GC, registered tunnels). Not run by hand.
import { pino } from 'pino';

// ws-mask before the hub loads ws (src/util/ws-mask.ts).
await import('../src/util/ws-mask.ts');
const { startHub } = await import('../src/hub/hub.ts');

const port = Number(process.env.KEDGE_BENCH_HUB_PORT);
const hub = await startHub(
  {
    listenHost: '127.0.0.1',
    port,
    externalURL: `https://127.0.0.1:${port}`,
    dataDir: process.env.KEDGE_BENCH_DIR ?? '',
    staticTokens: [`bench=${process.env.KEDGE_BENCH_TOKEN ?? ''}`],
    kcp: {
      mode: 'child',
      binary: process.env.KEDGE_BENCH_KCP ?? '',
      port: Number(process.env.KEDGE_BENCH_KCP_PORT),
      unsafeNoFsync: true,
    },
  },
  pino({ level: process.env.KEDGE_BENCH_LOG ?? 'warn' }),
);
await hub.ready;

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
      tunnels: hub.edges?.tunnels.registry.size ?? 0,
      cpu: process.cpuUsage(),
    });
  } else if (msg.type === 'cpu') {
    process.send?.({ type: 'cpu', cpu: process.cpuUsage() });
  } else if (msg.type === 'stop') {
    void hub.stop().then(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', caFile: hub.caFile });
