// Agent memory, idle (issue 12): a real `kedge-agent` child process joined to a real hub (child process, own kcp) in
// kubernetes mode with a few VirtualWorkloads placed on a kwok edge cluster (hack/edge-cluster.sh), and one in server
// mode relaying to a real sshd; each is measured alone once its Edge is Ready (and its Placements Running), after an
// idle window: RSS (/proc/<pid>/status VmRSS) and the V8 heap, read through a tiny probe preloaded with --import.
// With --before DIR the same hub, edge cluster and sshd run that checkout's agent first, then this one, so the table
// puts both side by side; --agent-bin PATH measures that bin/kedge-agent.js instead of this checkout's.
// Run: node_modules/.bin/node bench/agent-memory.ts [--before /tmp/kedge-before] [--agent-bin PATH] [--workloads 3]
//      [--idle 20] [--snapshot-dir DIR] [--modes kubernetes,server] [--node-args='FLAGS' …] [--env=NAME=VALUE …]
// A checkout with dist/ (`make build`) runs compiled, as the npm package and the container do; one without runs the
// TypeScript sources, and Node's type stripper then adds ~20 MiB (docs/benchmarks.md "Agent memory").
// bench/run.ts can call benchAgentMemory() and take its rows.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { joinCommand, kedge, kedgeLogin } from '../e2e/harness/cli.ts';
import { startEdgeCluster, type EdgeCluster } from '../e2e/harness/edges.ts';
import { toolsBin } from '../e2e/harness/env.ts';
import { joinToken as serverJoinToken } from '../e2e/harness/ssh.ts';
import { startSshd, type Sshd } from '../e2e/harness/sshd.ts';
import type { Edge, Placement } from '../src/api/types.ts';
import { KubeClient } from '../src/kube/client.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { freePort } from '../src/util/free-port.ts';
import { StopPolling, poll, sleep } from '../src/util/wait.ts';
import { startHubChild, type HubChild } from './edges.ts';

const repo = new URL('../', import.meta.url).pathname;
const MiB = 1024 * 1024;
const f1 = (x: number): string => x.toFixed(1);
const GROUP = '/apis/kedge.faros.sh/v1alpha1';

export type AgentMode = 'kubernetes' | 'server';

export interface AgentBuild {
  label: string;
  bin: string;
  /** Given to node before the script, e.g. V8 flags. */
  nodeArgs?: string[];
  /** Added to the agent's environment, e.g. MALLOC_ARENA_MAX. */
  env?: Record<string, string>;
}

export interface AgentMemoryOptions {
  /** Builds to measure, in order: a label, the path of its bin/kedge-agent.js, and Node options to run it with. */
  agents: AgentBuild[];
  modes: AgentMode[];
  /** VirtualWorkloads placed on the kubernetes-mode edge. */
  workloads: number;
  /** Seconds of idle after Ready (and Placements Running) before the figures are taken. */
  idleSec: number;
  /** When set, a heap snapshot of each agent is written here after its figures are taken. */
  snapshotDir?: string;
}

export const agentMemoryDefaults: AgentMemoryOptions = {
  agents: [{ label: 'this checkout', bin: join(repo, 'bin', 'kedge-agent.js') }],
  modes: ['kubernetes', 'server'],
  workloads: 3,
  idleSec: 20,
};

export interface AgentMemoryRow {
  label: string;
  mode: AgentMode;
  /** VmRSS at the end of the idle window, and the highest seen during it (MiB). */
  rssMiB: number;
  rssPeakMiB: number;
  /** The anonymous and the file-backed part of rssMiB (MiB). */
  rssAnonMiB: number;
  rssFileMiB: number;
  /** V8 heap used and committed (MiB), external + array buffers (MiB), at the end of the idle window. */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** Per V8 space, committed MiB (new_space is the young generation, code_space the compiled code). */
  spaces: Record<string, number>;
  /** Seconds from spawn to Edge Ready (and Placements Running). */
  readySec: number;
  snapshot?: string;
}

// The probe: on SIGUSR2, writes process.memoryUsage() and the V8 space sizes to $KEDGE_BENCH_MEM_FILE (and a heap
// snapshot when $KEDGE_BENCH_SNAPSHOT is set). Preloaded with --import, so any build can be measured unchanged.
const PROBE = `data:text/javascript,${encodeURIComponent(
  [
    "import { writeFileSync } from 'node:fs';",
    "import v8 from 'node:v8';",
    "process.on('SIGUSR2', () => {",
    '  const m = process.memoryUsage();',
    '  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));',
    '  const snapshot = process.env.KEDGE_BENCH_SNAPSHOT ? v8.writeHeapSnapshot(process.env.KEDGE_BENCH_SNAPSHOT) : undefined;',
    '  writeFileSync(process.env.KEDGE_BENCH_MEM_FILE, JSON.stringify({ ...m, spaces, snapshot }));',
    '});',
  ].join('\n'),
)}`;

/**
 * Resident memory of `pid` in bytes (/proc/<pid>/status): all of it (VmRSS), its anonymous part (heaps, stacks: what
 * the process itself costs) and its file-backed part (mostly the node binary's pages: shared, and dropped and read
 * again by the kernel under pressure).
 */
export function residentMemory(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} for pid ${pid}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kB('VmRSS'), anon: kB('RssAnon'), file: kB('RssFile') };
}

interface Probed {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
  snapshot?: string;
}

async function probe(child: ChildProcess, file: string): Promise<Probed> {
  rmSync(file, { force: true });
  child.kill('SIGUSR2');
  return poll(async () => existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as Probed), {
    what: 'the memory probe of the agent to answer',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
}

interface AgentRun {
  child: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

function spawnAgent(build: AgentBuild, args: string[], dir: string, env: Record<string, string>): AgentRun {
  const log = join(dir, 'agent.log');
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...(build.nodeArgs ?? []), build.bin, ...args], {
    cwd: dir,
    env: {
      ...process.env,
      PATH: `${toolsBin()}:${process.env.PATH}`,
      KEDGE_LOG_LEVEL: 'info',
      NODE_OPTIONS: `--import=${PROBE}`,
      ...build.env,
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts hub, edge cluster and sshd, measures each build in each mode, tears down; prints the table through `out`. */
export async function benchAgentMemory(
  options: Partial<AgentMemoryOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<AgentMemoryRow[]> {
  const o = { ...agentMemoryDefaults, ...options };
  for (const a of o.agents) if (!existsSync(a.bin)) throw new Error(`agent ${a.label}: no such file ${a.bin}`);
  const dir = mkdtempSync(join(tmpdir(), 'kedge-bench-agent-mem-'));
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const hubURL = `https://127.0.0.1:${port}`;
  out(
    `# bench/agent-memory.ts — ${new Date().toISOString()}, workloads=${o.workloads}, idle=${o.idleSec}s, ` +
      `agents: ${o.agents.map((a) => `${a.label}=${a.bin}`).join(', ')}`,
  );
  const kc = join(dir, 'user.kubeconfig');
  const rows: AgentMemoryRow[] = [];
  const edgeUp = o.modes.includes('kubernetes') ? startEdgeCluster('mem') : undefined;
  edgeUp?.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  let sshd: Sshd | undefined;
  let hub: HubChild | undefined;
  let edgeCluster: EdgeCluster | undefined;
  let user: KubeClient | undefined;
  try {
    if (o.modes.includes('server')) sshd = await startSshd();
    const t0 = Date.now();
    hub = await startHubChild(join(dir, 'hub'), token, port);
    out(`hub + kcp ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await kedgeLogin(hubURL, token, hub.caFile, kc);
    user = new KubeClient({ ...loadKubeconfig({ path: kc }), timeoutMs: 60_000 });
    edgeCluster = await edgeUp;
    let n = 0;
    for (const agent of o.agents) {
      for (const mode of o.modes) {
        const name = `mem-${mode === 'kubernetes' ? 'k' : 's'}${n++}`;
        const caFile = hub.caFile;
        rows.push(await measureOne({ o, agent, mode, name, dir, kc, hubURL, caFile, user, edgeCluster, sshd, out }));
      }
    }
  } finally {
    await user?.close();
    if (hub !== undefined && hub.child.exitCode === null) {
      const exited = new Promise((r) => hub?.child.once('exit', r));
      hub.child.send({ type: 'stop' });
      await exited;
    }
    await (edgeCluster ?? (await edgeUp?.catch(() => undefined)))?.stop();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows, out);
  return rows;
}

async function measureOne(c: {
  o: AgentMemoryOptions;
  agent: AgentBuild;
  mode: AgentMode;
  name: string;
  dir: string;
  kc: string;
  hubURL: string;
  caFile: string;
  user: KubeClient;
  edgeCluster: EdgeCluster | undefined;
  sshd: Sshd | undefined;
  out: (line?: string) => void;
}): Promise<AgentMemoryRow> {
  const { o, mode, name, user } = c;
  const create =
    mode === 'kubernetes'
      ? ['edge', 'create', name, '--labels', `mem=${name}`]
      : ['edge', 'create', name, '--type', 'server', '--ssh-port', String(c.sshd?.port)];
  const created = await kedge([...create, '--kubeconfig', c.kc]);
  if (created.code !== 0) throw new Error(`edge create ${name}: ${created.stderr}`);
  const j = mode === 'kubernetes' ? await joinCommand(c.kc, name) : await serverJoinToken(c.kc, name);
  const stateDir = mkdtempSync(join(c.dir, `${name}-`));
  const args = ['--hub-url', c.hubURL, '--cluster', j.cluster, '--edge', name, '--token', j.token];
  args.push('--state-dir', stateDir, '--hub-ca-file', c.caFile, '--type', mode);
  if (mode === 'kubernetes') args.push('--kubeconfig', c.edgeCluster?.kubeconfig ?? '');
  const memFile = join(stateDir, 'mem.json');
  const snapshot =
    c.o.snapshotDir && resolve(c.o.snapshotDir, `agent-${c.agent.label.replace(/\W+/g, '_')}-${mode}.heapsnapshot`);
  const t0 = Date.now();
  const agent = spawnAgent(c.agent, args, stateDir, {
    KEDGE_BENCH_MEM_FILE: memFile,
    ...(snapshot ? { KEDGE_BENCH_SNAPSHOT: snapshot } : {}),
  });
  try {
    if (mode === 'kubernetes') {
      for (let i = 0; i < o.workloads; i++) {
        await user.create(`${GROUP}/namespaces/default/virtualworkloads`, {
          apiVersion: 'kedge.faros.sh/v1alpha1',
          kind: 'VirtualWorkload',
          metadata: { name: `${name}-w${i}`, namespace: 'default' },
          spec: {
            replicas: 1,
            simple: { image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 80 }] },
            placement: { edgeSelector: { matchLabels: { mem: name } } },
          },
        });
      }
    }
    await poll(
      async () => {
        if (agent.child.exitCode !== null)
          throw new StopPolling(new Error(`agent exited: ${readFileSync(agent.log, 'utf8').slice(-2000)}`));
        const edge = (await user.get(`${GROUP}/edges/${name}`)) as unknown as Edge;
        if (edge.status?.phase !== 'Ready') return false;
        if (mode === 'server') return (edge.status.sshHostKeys?.length ?? 0) > 0;
        const list = await user.list(`${GROUP}/namespaces/default/placements`);
        const mine = (list.items as unknown as Placement[]).filter((p) => p.spec.edgeName === name);
        return mine.length === o.workloads && mine.every((p) => p.status?.phase === 'Running');
      },
      {
        what: `edge ${name} (${c.agent.label}) Ready${mode === 'kubernetes' ? ' with its Placements Running' : ''}`,
        timeoutMs: 180_000,
        intervalMs: 250,
      },
    );
    const readySec = (Date.now() - t0) / 1000;
    const pid = agent.child.pid ?? 0;
    let peak = 0;
    const until = Date.now() + o.idleSec * 1000;
    while (Date.now() < until) {
      peak = Math.max(peak, residentMemory(pid).rss);
      await sleep(500);
    }
    const mem = residentMemory(pid);
    const p = await probe(agent.child, memFile);
    const row: AgentMemoryRow = {
      label: c.agent.label,
      mode,
      rssMiB: mem.rss / MiB,
      rssPeakMiB: Math.max(peak, mem.rss) / MiB,
      rssAnonMiB: mem.anon / MiB,
      rssFileMiB: mem.file / MiB,
      heapUsedMiB: p.heapUsed / MiB,
      heapTotalMiB: p.heapTotal / MiB,
      externalMiB: p.external / MiB,
      spaces: Object.fromEntries(Object.entries(p.spaces).map(([k, v]) => [k, v / MiB])),
      readySec,
      ...(p.snapshot ? { snapshot: p.snapshot } : {}),
    };
    c.out(
      `${row.label} ${mode}: RSS ${f1(row.rssMiB)} MiB (anon ${f1(row.rssAnonMiB)}, file ${f1(row.rssFileMiB)}, ` +
        `peak ${f1(row.rssPeakMiB)}), heap used ` +
        `${row.heapUsedMiB.toFixed(1)} / ${row.heapTotalMiB.toFixed(1)} MiB, ready in ${readySec.toFixed(1)} s` +
        (row.snapshot ? `, snapshot ${row.snapshot}` : ''),
    );
    return row;
  } finally {
    await agent.stop();
  }
}

function printTable(rows: AgentMemoryRow[], out: (line?: string) => void): void {
  out();
  out(
    '| agent | mode | RSS idle MiB | anon | file | RSS peak | heap used | heap total | new space | code space | external |',
  );
  out('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out(
      `| ${r.label} | ${r.mode} | **${f1(r.rssMiB)}** | ${f1(r.rssAnonMiB)} | ${f1(r.rssFileMiB)} | ${f1(r.rssPeakMiB)} | ` +
        `${f1(r.heapUsedMiB)} | ${f1(r.heapTotalMiB)} | ` +
        `${f1(r.spaces.new_space ?? NaN)} | ${f1(r.spaces.code_space ?? NaN)} | ${f1(r.externalMiB)} |`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      'agent-bin': { type: 'string' },
      workloads: { type: 'string' },
      idle: { type: 'string' },
      'snapshot-dir': { type: 'string' },
      modes: { type: 'string' },
      'node-args': { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
    },
  });
  // --before DIR: that checkout's agent first ("before"), then this one ("after"); --agent-bin: that agent instead of
  // this checkout's (e.g. a build kept elsewhere).
  const agents: AgentBuild[] = [];
  if (values.before) agents.push({ label: 'before', bin: join(resolve(values.before), 'bin', 'kedge-agent.js') });
  const bin = values['agent-bin'] ? resolve(values['agent-bin']) : join(repo, 'bin', 'kedge-agent.js');
  agents.push({ label: values.before ? 'after' : 'agent', bin });
  // --node-args='FLAGS' (repeatable): one more row each, this agent under `node FLAGS` (to weigh V8 flags one by one).
  for (const a of values['node-args'] ?? []) agents.push({ label: a, bin, nodeArgs: a.split(/\s+/).filter(Boolean) });
  // --env=NAME=VALUE (repeatable): one more row each, this agent with that variable set.
  for (const e of values.env ?? []) {
    const [k = '', ...v] = e.split('=');
    agents.push({ label: e, bin, env: { [k]: v.join('=') } });
  }
  await benchAgentMemory({
    agents,
    ...(values.workloads ? { workloads: Number(values.workloads) } : {}),
    ...(values.idle ? { idleSec: Number(values.idle) } : {}),
    ...(values['snapshot-dir'] ? { snapshotDir: values['snapshot-dir'] } : {}),
    ...(values.modes ? { modes: values.modes.split(',') as AgentMode[] } : {}),
  });
  process.exit();
}
