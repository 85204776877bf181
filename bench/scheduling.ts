// Scheduling latency against a real kcp started here: N labelled Edges in a tenant workspace, then one
// VirtualWorkload selecting half of them; time from its creation until every Placement exists (and until its status
// lists them), p50/p99 over several runs, hub CPU and RSS (the hub runs in a child process), and the pure decision
// time measured apart. Then many workloads on one workspace.
// Run: node_modules/.bin/node bench/scheduling.ts [--sizes 100,1000,5000] [--runs 5] [--workloads 100] [--multi-edges 1000]
//      [--multi-fraction 0.1] [--write-concurrency 16] [--hub-src /tmp/kedge-before/src]
//      (--hub-src: the controllers of another checkout run in the hub child, measured by this checkout's bench)
// bench/run.ts calls benchScheduling() and takes its headline ratio (controller creates/s vs kcp's own write rate).
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Edge, Placement, VirtualWorkload } from '../src/api/types.ts';
import { bootstrap } from '../src/hub/bootstrap/bootstrap.ts';
import type { ControllerStats } from '../src/hub/controllers/manager.ts';
import { forEachLimit } from '../src/hub/controllers/parallel.ts';
import { reconcileWorkload } from '../src/hub/controllers/reconcile-workload.ts';
import type { KubeClient } from '../src/kube/client.ts';
import type { KubeObject } from '../src/kube/types.ts';
import { createTenant, edgeManifest, G, startOwnKcp, workloadManifest } from '../e2e/harness/controllers.ts';

const log = pino({ level: process.env.KEDGE_BENCH_LOG ?? 'warn' });

// ---- the hub child -------------------------------------------------------------------------------------------

type HubSample = { stats: ControllerStats; cpu: NodeJS.CpuUsage; rss: number; heapUsed: number };

function startHubChild(
  url: string,
  token: string,
  caFile: string,
  writeConcurrency: string,
  hubSrc: string,
): Promise<{ child: ChildProcess; sample(opts?: { gc?: boolean }): Promise<HubSample> }> {
  const child = fork(new URL('./scheduling-hub.ts', import.meta.url).pathname, [], {
    execArgv: ['--expose-gc'],
    env: {
      KEDGE_BENCH_HUB_SRC: hubSrc,
      ...process.env,
      KCP_URL: url,
      KCP_TOKEN: token,
      KCP_CA_FILE: caFile,
      KEDGE_BENCH_WRITE_CONCURRENCY: writeConcurrency,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** `gc`: after two full collections in the child (its live heap: mostly the informer caches). */
  const sample = (opts: { gc?: boolean } = {}): Promise<HubSample> =>
    new Promise((resolve) => {
      const on = (m: { type: string } & HubSample): void => {
        if (m.type !== 'stats') return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ type: 'stats', gc: opts.gc === true });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hub child exited with ${code}`)));
    child.on('message', (m: { type: string }) => {
      if (m.type === 'running') resolve({ child, sample });
    });
  });
}

// ---- helpers -------------------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function createEdges(ws: KubeClient, n: number, labels: (i: number) => Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const idx = Array.from({ length: n }, (_, i) => i);
  await forEachLimit(idx, 32, async (i) => {
    await ws.create(`${G}/edges`, edgeManifest(`edge-${String(i).padStart(5, '0')}`, labels(i)));
  });
  return performance.now() - t0;
}

/** Waits until the hub's queues stayed empty for `quietMs` (the edge controller has written every Pending status). */
async function settle(sample: () => Promise<HubSample>, quietMs = 1_000): Promise<void> {
  let quietSince = Date.now();
  for (;;) {
    const { stats } = await sample();
    if (stats.queue.edges + stats.queue.workloads > 0) quietSince = Date.now();
    if (Date.now() - quietSince >= quietMs) return;
    await sleep(100);
  }
}

/** Counts Placements of `vw` as their ADDED events arrive on a watch opened before the workload exists. */
async function watchPlacements(
  ws: KubeClient,
  vw: string,
  signal: AbortSignal,
): Promise<{ count: () => number; done: Promise<void> }> {
  const list = await ws.list(`${G}/namespaces/default/placements`, { limit: 1 });
  const seen = new Set<string>();
  const events = await ws.stream<Placement & KubeObject>(
    `${G}/namespaces/default/placements`,
    { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: 'false' },
    signal,
  );
  const done = (async () => {
    try {
      for await (const e of events) {
        if (e.type === 'ADDED' && (e.object as Placement).spec.workloadRef.name === vw)
          seen.add((e.object as Placement).metadata.name ?? '');
      }
    } catch {
      // aborted
    }
  })();
  return { count: () => seen.size, done };
}

async function until(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 600_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(intervalMs);
  }
}

/** CPU seconds (user + system) kcp has used so far, from /proc (Linux). */
function kcpCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return NaN;
  }
}

/** `n` Placement creates at 32 in flight, through `client` (direct workspace path or the VW); writes per second. */
async function placementWriteRate(client: KubeClient, n: number, tag: string): Promise<number> {
  const t0 = performance.now();
  await forEachLimit(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      await client.create(`${G}/namespaces/default/placements`, {
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'Placement',
        metadata: { name: `${tag}-${i}` },
        spec: { workloadRef: { name: `${tag}-nonexistent`, uid: 'none' }, edgeName: `edge-${i}`, replicas: 1 },
      });
    },
  );
  const rate = (n / (performance.now() - t0)) * 1000;
  await forEachLimit(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      await client.delete(`${G}/namespaces/default/placements/${tag}-${i}`);
    },
  );
  return rate;
}

async function placementCount(ws: KubeClient): Promise<number> {
  return (await ws.listAll(`${G}/namespaces/default/placements`, {}, { limit: 5000 })).items.length;
}

/** The pure decision for one workload over `n` edges (half selected), with no and with all Placements existing. */
function pureDecision(n: number): { firstMs: number; steadyMs: number } {
  const cluster = 'bench';
  const edges: Edge[] = Array.from({ length: n }, (_, i) => ({
    ...edgeManifest(`edge-${i}`, { half: i % 2 === 0 ? 'a' : 'b' }),
    metadata: {
      name: `edge-${i}`,
      labels: { half: i % 2 === 0 ? 'a' : 'b' },
      annotations: { 'kcp.io/cluster': cluster },
    },
  }));
  const vw: VirtualWorkload = {
    ...workloadManifest('web', { edgeSelector: { matchLabels: { half: 'a' } } }),
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u-1',
      generation: 1,
      annotations: { 'kcp.io/cluster': cluster },
    },
  };
  const now = new Date();
  const time = (placements: Placement[]): number => {
    const reps = Math.max(3, Math.round(20_000 / n));
    const t0 = performance.now();
    for (let i = 0; i < reps; i++)
      reconcileWorkload(
        vw,
        { edges, placements, namesInUse: new Set(placements.map((p) => p.metadata.name ?? '')) },
        now,
        { failoverGraceMs: 300_000 },
      );
    return (performance.now() - t0) / reps;
  };
  const firstMs = time([]);
  const created = reconcileWorkload(vw, { edges, placements: [], namesInUse: new Set() }, now, {
    failoverGraceMs: 300_000,
  }).diff.create.map((p) => ({
    ...p,
    metadata: { ...p.metadata, uid: `p-${p.metadata.name}`, annotations: { 'kcp.io/cluster': cluster } },
  }));
  return { firstMs, steadyMs: time(created) };
}

// ---- main ----------------------------------------------------------------------------------------------------

export interface SchedulingOptions {
  /** Edge counts, one tenant workspace each; the workload selects half. */
  sizes: number[];
  runs: number;
  /** Workloads in the many-workloads case; 0 skips it. */
  workloads: number;
  multiEdges: number;
  multiFraction: number;
  /** Placement writes in flight per reconcile in the hub ('' = the manager's default). */
  writeConcurrency: string;
  /** The `src/` directory whose controllers the hub child runs ('' = this checkout's): before/after comparisons. */
  hubSrc: string;
}

export interface SchedulingFigures {
  sizes: { edges: number; selected: number; placedP50Ms: number; placedP99Ms: number; hubCreatesPerSec: number }[];
  /** kcp's own rate for 500 Placement creates at 32 in flight, straight to the workspace and through the APIExport VW. */
  kcpWritesPerSec: { direct: number; viaVW: number };
}

export const schedulingDefaults: SchedulingOptions = {
  sizes: [100, 1000, 5000],
  runs: 5,
  workloads: 100,
  multiEdges: 1000,
  multiFraction: 0.1,
  writeConcurrency: '',
  hubSrc: '',
};

/** Starts a kcp of its own and the hub child, measures, stops both; prints through `out`, returns the figures. */
export async function benchScheduling(
  options: Partial<SchedulingOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<SchedulingFigures> {
  const values = { ...schedulingDefaults, ...options };
  const { sizes, runs, multiEdges, multiFraction } = values;
  const multiWorkloads = values.workloads;
  const figures: SchedulingFigures = { sizes: [], kcpWritesPerSec: { direct: NaN, viaVW: NaN } };
  const own = await startOwnKcp(log);
  let hub: Awaited<ReturnType<typeof startHubChild>> | undefined;
  try {
    // A workspace just turned Ready may not serve its APIs for a moment (404): bootstrap is idempotent, so retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await bootstrap(own.client, log);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        await sleep(1_000);
      }
    }
    await createTenant(own.client, 'bench-0', log);
    hub = await startHubChild(own.kcp.url, own.adminToken, own.kcp.caFile, values.writeConcurrency, values.hubSrc);
    const { sample } = hub;
    out(
      `# Scheduling benchmark (${new Date().toISOString()}, ${runs} runs per size, write concurrency ${values.writeConcurrency || 'default'}, hub code ${values.hubSrc || 'this checkout'})`,
    );
    out();
    out(
      '| edges | selected | edge create (kcp, 32 parallel) | placed p50 | placed p99 | status p50 | hub CPU / run | kcp CPU / run | hub RSS | hub RSS / heap after GC, edges cached | decide (pure) first / steady | hub creates/s |',
    );
    out('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const n of sizes) {
      const tenant = await createTenant(own.client, `bench-${n}`, log);
      const ws = own.client.forCluster(tenant.workspacePath);
      const createMs = await createEdges(ws, n, (i) => ({ half: i % 2 === 0 ? 'a' : 'b' }));
      await settle(sample);
      const cached = await sample({ gc: true });
      const placed: number[] = [];
      const statusDone: number[] = [];
      const cpu: number[] = [];
      const kcpCpu: number[] = [];
      let rss = 0;
      for (let r = 0; r < runs; r++) {
        const name = `web-${r}`;
        const abort = new AbortController();
        const watch = await watchPlacements(ws, name, abort.signal);
        const before = await sample();
        const kcpBefore = kcpCpuMs(own.kcp.pid);
        const t0 = performance.now();
        await ws.create(
          `${G}/namespaces/default/virtualworkloads`,
          workloadManifest(name, { edgeSelector: { matchLabels: { half: 'a' } } }),
        );
        await until(`${n / 2} placements`, () => watch.count() >= Math.ceil(n / 2));
        placed.push(performance.now() - t0);
        await until(
          'status edgeCount',
          async () => {
            const vw = await ws.get<VirtualWorkload & KubeObject>(`${G}/namespaces/default/virtualworkloads/${name}`);
            return (vw.status?.edgeCount ?? 0) >= Math.ceil(n / 2);
          },
          600_000,
          20,
        );
        statusDone.push(performance.now() - t0);
        await settle(sample, 300);
        const after = await sample();
        cpu.push((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000);
        kcpCpu.push(kcpCpuMs(own.kcp.pid) - kcpBefore);
        rss = Math.max(rss, after.rss);
        abort.abort();
        await watch.done;
        await ws.delete(`${G}/namespaces/default/virtualworkloads/${name}`);
        await until('placements garbage-collected', async () => (await placementCount(ws)) === 0, 600_000, 500);
        await settle(sample);
      }
      const pure = pureDecision(n);
      const creatRate = (Math.ceil(n / 2) / percentile(placed, 50)) * 1000;
      figures.sizes.push({
        edges: n,
        selected: Math.ceil(n / 2),
        placedP50Ms: percentile(placed, 50),
        placedP99Ms: percentile(placed, 99),
        hubCreatesPerSec: creatRate,
      });
      out(
        `| ${n} | ${Math.ceil(n / 2)} | ${(createMs / 1000).toFixed(1)} s (${Math.round((n / createMs) * 1000)}/s) | ${Math.round(percentile(placed, 50))} ms | ${Math.round(percentile(placed, 99))} ms | ${Math.round(percentile(statusDone, 50))} ms | ${Math.round(percentile(cpu, 50))} ms | ${Math.round(percentile(kcpCpu, 50))} ms | ${Math.round(rss / 2 ** 20)} MiB | ${Math.round(cached.rss / 2 ** 20)} / ${Math.round(cached.heapUsed / 2 ** 20)} MiB | ${pure.firstMs.toFixed(1)} / ${pure.steadyMs.toFixed(1)} ms | ${Math.round(creatRate)} |`,
      );
    }

    if (multiWorkloads > 0) {
      const tenant = await createTenant(own.client, 'bench-multi', log);
      const ws = own.client.forCluster(tenant.workspacePath);
      const groups = Math.max(1, Math.round(1 / multiFraction));
      await createEdges(ws, multiEdges, (i) => ({ group: `g${i % groups}` }));
      await settle(sample);
      const expected = Array.from({ length: multiWorkloads }, (_, w) =>
        Math.ceil((multiEdges - (w % groups)) / groups),
      ).reduce((x, y) => x + y, 0);
      const before = await sample();
      const t0 = performance.now();
      await forEachLimit(
        Array.from({ length: multiWorkloads }, (_, w) => w),
        16,
        async (w) => {
          await ws.create(
            `${G}/namespaces/default/virtualworkloads`,
            workloadManifest(`multi-${w}`, { edgeSelector: { matchLabels: { group: `g${w % groups}` } } }),
          );
        },
      );
      await until(
        `${expected} placements`,
        async () => (await sample()).stats.cache.placements >= expected,
        900_000,
        200,
      );
      const placedMs = performance.now() - t0;
      await settle(sample, 1_000);
      const after = await sample();
      const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
      const w = after.stats.workloads;
      out();
      out(
        `| workloads × edges | placements | all placed | hub CPU | hub RSS | reconciles | decide (pure, total) | status writes | 409 on create |`,
      );
      out('|---|---|---|---|---|---|---|---|---|');
      out(
        `| ${multiWorkloads} × ${multiEdges} (each selects ${Math.round(multiFraction * 100)} %) | ${expected} | ${(placedMs / 1000).toFixed(1)} s | ${(cpuMs / 1000).toFixed(1)} s | ${Math.round(after.rss / 2 ** 20)} MiB | ${w.reconciles} | ${(w.decideMs / 1000).toFixed(2)} s | ${w.statusWrites} | ${w.createConflicts} |`,
      );
    }
    {
      const tenant = await createTenant(own.client, 'bench-writes', log);
      const direct = own.client.forCluster(tenant.workspacePath);
      const slice = await own.client
        .forCluster('root:kedge:providers')
        .get<KubeObject & { status?: { endpoints?: { url: string }[] } }>(
          '/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/kedge.faros.sh',
        );
      const viaVW = own.client.withServer(slice.status?.endpoints?.[0]?.url ?? '').forCluster(tenant.cluster);
      const d = await placementWriteRate(direct, 500, 'direct');
      const v = await placementWriteRate(viaVW, 500, 'vw');
      figures.kcpWritesPerSec = { direct: d, viaVW: v };
      out();
      out(
        `kcp write baseline (500 Placement creates, 32 in flight, no controller work): direct ${Math.round(d)}/s, through the APIExport VW ${Math.round(v)}/s`,
      );
    }
    const final = await sample();
    out();
    out(`hub totals: ${JSON.stringify(final.stats.workloads)}; edge status writes ${final.stats.edges.statusWrites}`);
  } finally {
    hub?.child.send({ type: 'stop' });
    await sleep(500);
    hub?.child.kill();
    await own.stop();
  }
  return figures;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: schedulingDefaults.sizes.join(',') },
      runs: { type: 'string', default: String(schedulingDefaults.runs) },
      workloads: { type: 'string', default: String(schedulingDefaults.workloads) },
      'multi-edges': { type: 'string', default: String(schedulingDefaults.multiEdges) },
      'multi-fraction': { type: 'string', default: String(schedulingDefaults.multiFraction) },
      'write-concurrency': { type: 'string', default: '' },
      'hub-src': { type: 'string', default: '' },
    },
  });
  await benchScheduling({
    sizes: values.sizes
      .split(',')
      .map(Number)
      .filter((n) => n > 0),
    runs: Number(values.runs),
    workloads: Number(values.workloads),
    multiEdges: Number(values['multi-edges']),
    multiFraction: Number(values['multi-fraction']),
    writeConcurrency: values['write-concurrency'],
    hubSrc: values['hub-src'],
  });
}
