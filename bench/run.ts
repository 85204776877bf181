// `make bench`: runs every benchmark in bench/ one after another (each prints its own tables as it goes) and ends
// with one table: each benchmark's headline ratio against its baseline, with the bar it is held to.
// tunnel.ts and idle-tunnels.ts (a stub kcp) need nothing; edges.ts, watches.ts, scheduling.ts and agent-memory.ts
// start kcps of their own and edges.ts and agent-memory.ts an edge cluster (hack/edge-cluster.sh), so they need the
// tools of `make tools-test` in $KEDGE_CACHE/bin; ssh.ts and agent-memory.ts start the OS's sshd
// (hack/tools/os-packages.sh).
// Run: node_modules/.bin/node bench/run.ts [--only tunnel,edges,watches,idle-tunnels,scheduling,ssh,agent-memory] [--quick]
//   --quick: small sizes (a few minutes instead of ~20), for checking that every benchmark still runs.
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { benchAgentMemory, type AgentMemoryRow } from './agent-memory.ts';
import { benchEdges, type EdgesFigures } from './edges.ts';
import { benchIdleTunnels, type IdleTunnelsFigures } from './idle-tunnels.ts';
import { benchScheduling, type SchedulingFigures } from './scheduling.ts';
import { benchSsh, type SshFigures } from './ssh.ts';
import { benchTunnel, type TunnelFigures } from './tunnel.ts';
import { benchWatches, type WatchesFigures } from './watches.ts';

const ALL = ['tunnel', 'edges', 'watches', 'idle-tunnels', 'scheduling', 'ssh', 'agent-memory'] as const;
type Name = (typeof ALL)[number];

const { values } = parseArgs({
  options: { only: { type: 'string', default: ALL.join(',') }, quick: { type: 'boolean', default: false } },
});
const only = values.only
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const n of only)
  if (!(ALL as readonly string[]).includes(n))
    throw new Error(`--only: unknown benchmark ${n} (known: ${ALL.join(', ')})`);
const quick = values.quick;
const out = (line = ''): void => void process.stdout.write(`${line}\n`);

/** One line of the closing table. */
interface Ratio {
  bench: Name;
  what: string;
  baseline: string;
  ratio: number;
  detail: string;
  bar: string;
}

const ratios: Ratio[] = [];
const failures: string[] = [];
const x = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a');
const ms = (v: number): string => `${v.toFixed(2)} ms`;

function tunnelRatios(f: TunnelFigures): void {
  ratios.push({
    bench: 'tunnel',
    what: 'yamux, many streams',
    baseline: 'one raw WebSocket, same bytes',
    ratio: f.manyStreamsVsWebSocket,
    detail: `per CPU-second ${x(f.manyStreamsVsWebSocketCpu)}`,
    bar: '≥ 0.60×',
  });
  ratios.push({
    bench: 'tunnel',
    what: 'yamux, one stream',
    baseline: 'one raw WebSocket, same bytes',
    ratio: f.singleStreamVsWebSocket,
    detail: `${f.singleStreamMiBps.toFixed(0)} MiB/s`,
    bar: '≥ 119 MiB/s',
  });
}

function edgesRatios(f: EdgesFigures): void {
  const rows: [string, EdgesFigures | NonNullable<EdgesFigures['http2']>][] = [['HTTP/1.1', f]];
  if (f.http2 !== undefined) rows.push(['HTTP/2', f.http2]);
  for (const [proto, g] of rows) {
    ratios.push({
      bench: 'edges',
      what: `GET via hub + tunnel + agent, ${proto}, p50`,
      baseline: 'GET direct to the edge API server, p50',
      ratio: g.viaHub.p50 / g.direct.p50,
      detail: `${ms(g.viaHub.p50)} vs ${ms(g.direct.p50)}; CPU per GET: hub ${ms(g.hubCpuMsPerRequest)}, agent ${ms(g.agentCpuMsPerRequest)}`,
      bar: '≤ 1.5× (hub CPU ≤ 0.5 ms)',
    });
    ratios.push({
      bench: 'edges',
      what: `GET via hub + tunnel + agent, ${proto}, p99`,
      baseline: 'GET direct, p99',
      ratio: g.viaHub.p99 / g.direct.p99,
      detail: `${ms(g.viaHub.p99)} vs ${ms(g.direct.p99)}`,
      bar: '≤ 2×',
    });
  }
}

/** A growth in MiB with its sign (memory can shrink between two readings after a GC). */
const delta = (v: number): string => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(1)}`;

function watchesRatios(f: WatchesFigures): void {
  const row = (w: WatchesFigures['h2']): string =>
    `${w.connections} connection(s), all open in ${w.establishMs.toFixed(0)} ms, hub ${delta(w.hubRssMiB)} MiB RSS (${delta(w.hubHeapMiB)} heap), client ${delta(w.clientRssMiB)} MiB`;
  ratios.push({
    bench: 'watches',
    what: `${f.watches} watches from one client over HTTP/2: connections`,
    baseline: 'the same over HTTP/1.1',
    ratio: f.h2.connections / f.http1.connections,
    detail: `HTTP/2: ${row(f.h2)}; HTTP/1.1: ${row(f.http1)}`,
    bar: '1 connection',
  });
  ratios.push({
    bench: 'watches',
    what: `${f.watches} watches over HTTP/2: time until all are open`,
    baseline: 'the same over HTTP/1.1',
    ratio: f.h2.establishMs / f.http1.establishMs,
    detail: `${f.h2.establishMs.toFixed(0)} vs ${f.http1.establishMs.toFixed(0)} ms; one event to all: ${f.h2.fanOutMs.toFixed(0)} vs ${f.http1.fanOutMs.toFixed(0)} ms`,
    bar: '',
  });
}

function idleTunnelRatios(f: IdleTunnelsFigures): void {
  ratios.push({
    bench: 'idle-tunnels',
    what: `hub memory per idle tunnel, ${f.tunnels.toLocaleString('en')} tunnels`,
    baseline: 'the aim, 40 KiB',
    ratio: f.kibPerTunnel / 40,
    detail: `${f.kibPerTunnel.toFixed(1)} KiB (heap ${f.heapKibPerTunnel.toFixed(1)}); connected in ${f.connectSeconds.toFixed(0)} s`,
    bar: '≤ 1× (40 KiB)',
  });
  ratios.push({
    bench: 'idle-tunnels',
    what: 'hub CPU per idle tunnel (keepalives)',
    baseline: 'the aim, 0.01 % of a core',
    ratio: f.keepaliveCpuPercentPerTunnel / 0.01,
    detail: `${(f.keepaliveCpuPercentPerTunnel * 1000).toFixed(2)} m% per tunnel, ${f.keepaliveCpuPercent.toFixed(1)} % for all; re-verification ${f.recheckCpuPercent.toFixed(1)} % of a core`,
    bar: '≤ 1× (0.01 %)',
  });
}

function agentMemoryRatios(rows: AgentMemoryRow[]): void {
  const aims = { kubernetes: 80, server: 60 } as const;
  for (const r of rows)
    ratios.push({
      bench: 'agent-memory',
      what: `agent RSS idle, ${r.mode} mode (${r.label})`,
      baseline: `the aim, ${aims[r.mode]} MiB`,
      ratio: r.rssMiB / aims[r.mode],
      detail: `${r.rssMiB.toFixed(1)} MiB (anonymous ${r.rssAnonMiB.toFixed(1)}, heap used ${r.heapUsedMiB.toFixed(1)})`,
      bar: '≤ 1×',
    });
}

function schedulingRatios(f: SchedulingFigures): void {
  const vw = f.kcpWritesPerSec.viaVW;
  for (const s of f.sizes) {
    ratios.push({
      bench: 'scheduling',
      what: `Placements created by the controllers, ${s.edges} edges`,
      baseline: "kcp's own create rate through the VW",
      ratio: s.hubCreatesPerSec / vw,
      detail: `${s.hubCreatesPerSec.toFixed(0)}/s vs ${vw.toFixed(0)}/s; placed p50 ${s.placedP50Ms.toFixed(0)} ms, p99 ${s.placedP99Ms.toFixed(0)} ms`,
      bar: s.edges === 1000 ? 'placed p99 ≤ 2 s' : '',
    });
  }
  ratios.push({
    bench: 'scheduling',
    what: 'kcp creates through the APIExport VW',
    baseline: 'kcp creates straight to the workspace',
    ratio: vw / f.kcpWritesPerSec.direct,
    detail: `${vw.toFixed(0)}/s vs ${f.kcpWritesPerSec.direct.toFixed(0)}/s`,
    bar: '',
  });
}

function sshRatios(f: SshFigures): void {
  ratios.push({
    bench: 'ssh',
    what: 'scp via hub + agent (kedge ssh --proxy)',
    baseline: 'scp straight to sshd',
    ratio: f.scpMiBps.viaHub / f.scpMiBps.direct,
    detail: `${f.scpMiBps.viaHub.toFixed(0)} vs ${f.scpMiBps.direct.toFixed(0)} MiB/s; hub CPU ${ms(f.hubCpuMsPerMiB)}/MiB, agent ${ms(f.agentCpuMsPerMiB)}/MiB, proxy ${ms(f.proxyCpuMsPerMiB)}/MiB`,
    bar: '≥ 0.70×',
  });
  ratios.push({
    bench: 'ssh',
    what: 'keystroke echo via hub, p50',
    baseline: 'keystroke echo direct, p50',
    ratio: f.echoMs.viaHub.p50 / f.echoMs.direct.p50,
    detail: `${ms(f.echoMs.viaHub.p50)} vs ${ms(f.echoMs.direct.p50)}; p99 ${ms(f.echoMs.viaHub.p99)} vs ${ms(f.echoMs.direct.p99)}`,
    bar: '≤ direct + 1 ms',
  });
  // The direct half alone is no result: a via-hub half that could not run fails the benchmark run.
  if (f.viaHubSkipped !== undefined) failures.push(`ssh: the via-hub half did not run: ${f.viaHubSkipped}`);
}

const started = Date.now();
const loadBefore = loadavg();
for (const name of ALL) {
  if (!only.includes(name)) continue;
  out(`\n==== bench/${name}.ts${quick ? ' (quick)' : ''} ====\n`);
  const t0 = Date.now();
  try {
    if (name === 'tunnel')
      tunnelRatios(await benchTunnel(quick ? { mib: 1, streams: 20, singleMib: 16, reps: 1 } : {}, out));
    if (name === 'edges') edgesRatios(await benchEdges(quick ? { requests: 200, tunnels: 0 } : { tunnels: 0 }, out));
    if (name === 'watches') watchesRatios(await benchWatches(quick ? { watches: 20, reps: 1 } : {}, out));
    if (name === 'idle-tunnels')
      idleTunnelRatios(await benchIdleTunnels(quick ? { tunnels: 500, idleSeconds: 15 } : {}, out));
    if (name === 'scheduling')
      schedulingRatios(await benchScheduling(quick ? { sizes: [100], runs: 2, workloads: 0 } : {}, out));
    if (name === 'ssh') sshRatios(await benchSsh(quick ? { mib: 32, samples: 200, reps: 1 } : {}, out));
    if (name === 'agent-memory') agentMemoryRatios(await benchAgentMemory(quick ? { idleSec: 5 } : {}, out));
  } catch (err) {
    // One broken benchmark must not hide the others' figures.
    failures.push(`${name}: ${(err as Error).stack ?? String(err)}`);
    out(`bench/${name}.ts failed: ${(err as Error).message}`);
  }
  out(`(bench/${name}.ts took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

out(
  `\n==== headline ratios (${new Date().toISOString()}, ${((Date.now() - started) / 60_000).toFixed(1)} min${quick ? ', --quick' : ''}) ====\n`,
);
// The machine's load is part of the result: these are ratios against baselines run alongside, yet a busy 2-core VM
// still moves them.
const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' ');
out(
  `load average before: ${load(loadBefore)}; after: ${load(loadavg())}; ${String(navigator.hardwareConcurrency)} CPUs\n`,
);
out('| benchmark | measure | baseline | ratio | figures | bar |');
out('|---|---|---|---|---|---|');
for (const r of ratios) out(`| ${r.bench} | ${r.what} | ${r.baseline} | **${x(r.ratio)}** | ${r.detail} | ${r.bar} |`);
if (failures.length > 0) {
  out(`\n${failures.length} benchmark(s) failed:`);
  for (const f of failures) out(f);
  process.exitCode = 1;
}
// Child processes and sockets of the benchmarks are closed; anything a library keeps alive must not hold make.
process.exit();
