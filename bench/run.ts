// `make bench`: runs every benchmark in bench/ one after another (each prints its own tables as it goes) and ends
// with one table: each benchmark's headline ratio against its baseline, with the bar it is held to.
// tunnel.ts needs nothing; edges.ts and scheduling.ts start kcps of their own and edges.ts an edge cluster
// (hack/edge-cluster.sh), so they need the tools of `make tools-test` in $KEDGE_CACHE/bin; ssh.ts starts a kcp and
// the OS's sshd (hack/tools/os-packages.sh).
// Run: node_modules/.bin/node bench/run.ts [--only tunnel,edges,scheduling,ssh] [--quick]
//   --quick: small sizes (a few minutes instead of ~20), for checking that every benchmark still runs.
import { parseArgs } from 'node:util';
import { benchEdges, type EdgesFigures } from './edges.ts';
import { benchScheduling, type SchedulingFigures } from './scheduling.ts';
import { benchSsh, type SshFigures } from './ssh.ts';
import { benchTunnel, type TunnelFigures } from './tunnel.ts';

const ALL = ['tunnel', 'edges', 'scheduling', 'ssh'] as const;
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
  ratios.push({
    bench: 'edges',
    what: 'GET via hub + tunnel + agent, p50',
    baseline: 'GET direct to the edge API server, p50',
    ratio: f.viaHub.p50 / f.direct.p50,
    detail: `${ms(f.viaHub.p50)} vs ${ms(f.direct.p50)}; hub CPU ${ms(f.hubCpuMsPerRequest)}/request`,
    bar: '≤ 1.2× (not met, see below)',
  });
  ratios.push({
    bench: 'edges',
    what: 'GET via hub + tunnel + agent, p99',
    baseline: 'GET direct, p99',
    ratio: f.viaHub.p99 / f.direct.p99,
    detail: `${ms(f.viaHub.p99)} vs ${ms(f.direct.p99)}${f.kibPerIdleTunnel === undefined ? '' : `; ${f.kibPerIdleTunnel.toFixed(0)} KiB hub RSS per idle tunnel`}`,
    bar: '',
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
for (const name of ALL) {
  if (!only.includes(name)) continue;
  out(`\n==== bench/${name}.ts${quick ? ' (quick)' : ''} ====\n`);
  const t0 = Date.now();
  try {
    if (name === 'tunnel')
      tunnelRatios(await benchTunnel(quick ? { mib: 1, streams: 20, singleMib: 16, reps: 1 } : {}, out));
    if (name === 'edges') edgesRatios(await benchEdges(quick ? { requests: 200, tunnels: 0 } : {}, out));
    if (name === 'scheduling')
      schedulingRatios(await benchScheduling(quick ? { sizes: [100], runs: 2, workloads: 0 } : {}, out));
    if (name === 'ssh') sshRatios(await benchSsh(quick ? { mib: 32, samples: 200, reps: 1 } : {}, out));
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
