// Edges through the hub, measured side by side in one run on a real hub (child process, own kcp) and a real edge
// cluster (hack/edge-cluster.sh): (1) kubectl-style GET latency through the edges-proxy + tunnel vs straight to the
// edge API server, p50/p99, the ratio and CPU per request of each process, through a real `kedge-agent` child process,
// over HTTP/1.1 and over HTTP/2 (what kubectl negotiates with the hub and with an API server);
// (2) hub RSS per idle tunnel with N agent sessions (real joins, real credentials; these simulated agents run in this
// process).
// Run: node_modules/.bin/node bench/edges.ts [--requests 500] [--tunnels 1000] [--edge-cluster bench-edges] [--keep-edge]
//      [--agent process|in-process]
// bench/run.ts calls benchEdges() and takes its headline ratio (GET via hub / direct, p50).
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Agent, request } from 'undici';
import { connectTunnel, agentBase, type TestAgent } from '../e2e/edges-test-agent.ts';
import { startAgent, type AgentProcess } from '../e2e/harness/edges.ts';
import { createJoinToken } from '../src/cli/edge-join.ts';
import { forEachLimit } from '../src/hub/controllers/parallel.ts';
import { edgesProxyURL } from '../src/hub/edges/paths.ts';
import { KubeClient } from '../src/kube/client.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { freePort } from '../src/util/free-port.ts';

const bin = join(process.env.KEDGE_CACHE ?? join(homedir(), '.cache', 'kedge'), 'bin');
const repo = new URL('../', import.meta.url).pathname;
const sh = promisify(execFile);
const edgeScript = (...args: string[]) =>
  sh(join(repo, 'hack/edge-cluster.sh'), args, {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    timeout: 180_000,
  });

type Stats = { rss: number; heapUsed: number; external: number; tunnels: number; cpu: NodeJS.CpuUsage };

export type HubChild = {
  child: ChildProcess;
  caFile: string;
  stats(): Promise<Stats>;
  cpu(): Promise<NodeJS.CpuUsage>;
};

export function startHubChild(dir: string, token: string, port: number): Promise<HubChild> {
  return freePort().then(
    (kcpPort) =>
      new Promise((resolve, reject) => {
        const child = fork(new URL('./edges-hub.ts', import.meta.url).pathname, [], {
          execArgv: ['--expose-gc'],
          env: {
            ...process.env,
            KEDGE_BENCH_HUB_PORT: String(port),
            KEDGE_BENCH_DIR: dir,
            KEDGE_BENCH_TOKEN: token,
            KEDGE_BENCH_KCP: join(bin, 'kcp'),
            KEDGE_BENCH_KCP_PORT: String(kcpPort),
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        const stats = (): Promise<Stats> =>
          new Promise((res) => {
            const on = (m: { type: string } & Stats): void => {
              if (m.type === 'stats') {
                child.off('message', on);
                res(m);
              }
            };
            child.on('message', on);
            child.send({ type: 'stats' });
          });
        const cpu = (): Promise<NodeJS.CpuUsage> =>
          new Promise((res) => {
            const on = (m: { type: string; cpu: NodeJS.CpuUsage }): void => {
              if (m.type === 'cpu') {
                child.off('message', on);
                res(m.cpu);
              }
            };
            child.on('message', on);
            child.send({ type: 'cpu' });
          });
        child.once('exit', (code) => reject(new Error(`hub child exited with ${code}`)));
        child.on('message', (m: { type: string; caFile?: string }) => {
          if (m.type === 'ready') resolve({ child, caFile: m.caFile ?? '', stats, cpu });
        });
      }),
  );
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** User + system CPU of another process in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
export function procCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function timedGets(client: KubeClient, path: string, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await client.get(path);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

export interface EdgesOptions {
  /** Sequential GETs each way (direct, via hub). */
  requests: number;
  /** Idle tunnels for the memory/CPU measurement; 0 skips it. */
  tunnels: number;
  edgeCluster: string;
  keepEdge: boolean;
  /** `process`: a real kedge-agent child process; `in-process`: the e2e test agent inside this process. */
  agent: 'process' | 'in-process';
}

export interface GetFigures {
  direct: { p50: number; p99: number };
  viaHub: { p50: number; p99: number };
  /** CPU ms per via-hub request in the hub process. */
  hubCpuMsPerRequest: number;
  /** CPU ms per via-hub request in the agent process (NaN for an in-process agent). */
  agentCpuMsPerRequest: number;
}

/** The HTTP/1.1 figures at the top level; the same GETs over HTTP/2 (what kubectl negotiates) in `http2`. */
export interface EdgesFigures extends GetFigures {
  http2?: GetFigures;
  /** Hub RSS per idle tunnel in KiB, when tunnels > 0. */
  kibPerIdleTunnel?: number;
}

export const edgesDefaults: EdgesOptions = {
  requests: 500,
  tunnels: 1000,
  edgeCluster: 'bench-edges',
  keepEdge: false,
  agent: 'process',
};

/** Starts the hub (own kcp) and the edge cluster, measures, tears down; prints through `out`, returns the figures. */
export async function benchEdges(
  options: Partial<EdgesOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<EdgesFigures> {
  const values = { ...edgesDefaults, ...options };
  const { requests, tunnels } = values;
  const edgeCluster = values.edgeCluster;
  const figures: EdgesFigures = {
    direct: { p50: NaN, p99: NaN },
    viaHub: { p50: NaN, p99: NaN },
    hubCpuMsPerRequest: NaN,
    agentCpuMsPerRequest: NaN,
  };
  const dir = mkdtempSync(join(tmpdir(), 'kedge-bench-edges-'));
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const hubURL = `https://127.0.0.1:${port}`;
  out(`# bench/edges.ts — ${new Date().toISOString()}, requests=${requests}, tunnels=${tunnels}`);
  const edgeUp = edgeScript('up', edgeCluster);
  const t0 = Date.now();
  const hub = await startHubChild(dir, token, port);
  out(`hub + kcp ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const ca = readFileSync(hub.caFile);
  const agents: TestAgent[] = [];
  const agentProcs: AgentProcess[] = [];
  try {
    const login = await request(`${hubURL}/auth/token-login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      dispatcher: new Agent({ connect: { ca } }),
    });
    if (login.statusCode !== 200) throw new Error(`token login: ${login.statusCode} ${await login.body.text()}`);
    const { workspace } = (await login.body.json()) as { workspace: string };
    const user = new KubeClient({ server: `${hubURL}/clusters/${workspace}`, token, ca, timeoutMs: 60_000 });
    await edgeUp;
    const edgeKubeconfig = (await edgeScript('kubeconfig', edgeCluster)).stdout.trim();

    const makeEdge = async (name: string): Promise<{ credential: string; cluster: string }> => {
      await user.create('/apis/kedge.faros.sh/v1alpha1/edges', {
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'Edge',
        metadata: { name },
        spec: { type: 'kubernetes' },
      });
      const j = await createJoinToken(user, hubURL, name, 3_600_000);
      const res = await request(`${agentBase(hubURL, j.cluster, name)}/join`, {
        method: 'POST',
        headers: { authorization: `Bearer ${j.token}` },
        dispatcher: new Agent({ connect: { ca } }),
      });
      if (res.statusCode !== 200) throw new Error(`join ${name}: ${res.statusCode} ${await res.body.text()}`);
      return { credential: ((await res.body.json()) as { token: string }).token, cluster: j.cluster };
    };

    // (1) latency
    const viaHubLatency = async (): Promise<void> => {
      await user.create('/apis/kedge.faros.sh/v1alpha1/edges', {
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'Edge',
        metadata: { name: 'e1' },
        spec: { type: 'kubernetes' },
      });
      const j = await createJoinToken(user, hubURL, 'e1', 3_600_000);
      let agentCpu = (): number => NaN;
      if (values.agent === 'in-process') {
        const res = await request(`${agentBase(hubURL, j.cluster, 'e1')}/join`, {
          method: 'POST',
          headers: { authorization: `Bearer ${j.token}` },
          dispatcher: new Agent({ connect: { ca } }),
        });
        const { token: credential } = (await res.body.json()) as { token: string };
        agents.push(await connectTunnel(agentBase(hubURL, j.cluster, 'e1'), hub.caFile, credential, edgeKubeconfig));
      } else {
        const a = startAgent({
          hubURL,
          cluster: j.cluster,
          edge: 'e1',
          token: j.token,
          kubeconfig: edgeKubeconfig,
          hubCAFile: hub.caFile,
          logLevel: 'info',
          heartbeatInterval: '30s',
          resyncInterval: '60s',
          keepaliveInterval: '15s',
          keepaliveTimeout: '10s',
        });
        agentProcs.push(a);
        await a.waitForOutput(/Tunnel connection established/, 60_000);
        agentCpu = () => procCpuUs(a.child?.pid ?? 0);
      }
      const path = '/api/v1/nodes/kwok-node-0';
      // kubectl negotiates HTTP/2 with the hub and with the edge's API server; HTTP/1.1 is what it falls back to.
      for (const http2 of [false, true]) {
        const proto = http2 ? 'HTTP/2' : 'HTTP/1.1';
        const viaHub = new KubeClient({
          server: edgesProxyURL(hubURL, j.cluster, 'e1', 'kubernetes'),
          token,
          ca,
          http2,
        });
        const direct = new KubeClient({ ...loadKubeconfig({ paths: [edgeKubeconfig] }), http2 });
        await timedGets(viaHub, path, 50);
        await timedGets(direct, path, 50);
        const hubMs: number[] = [];
        const directMs: number[] = [];
        const cpu = { hub: 0, agent: 0, client: 0, direct: 0 };
        for (let round = 0; round < 10; round++) {
          const [h0, a0, c0] = [await hub.cpu(), agentCpu(), process.cpuUsage()];
          hubMs.push(...(await timedGets(viaHub, path, Math.ceil(requests / 10))));
          const [h1, a1, c1] = [await hub.cpu(), agentCpu(), process.cpuUsage(c0)];
          cpu.hub += h1.user + h1.system - h0.user - h0.system;
          cpu.agent += a1 - a0;
          cpu.client += c1.user + c1.system;
          const d0 = process.cpuUsage();
          directMs.push(...(await timedGets(direct, path, Math.ceil(requests / 10))));
          const d1 = process.cpuUsage(d0);
          cpu.direct += d1.user + d1.system;
        }
        hubMs.sort((a, b) => a - b);
        directMs.sort((a, b) => a - b);
        const row = (what: string, a: number[]) =>
          `${what.padEnd(28)} p50 ${pct(a, 0.5).toFixed(2).padStart(6)} ms   p99 ${pct(a, 0.99).toFixed(2).padStart(6)} ms`;
        const perReq = (us: number) => (us / hubMs.length / 1000).toFixed(2);
        out();
        out(
          `GET ${path} over ${proto} (keep-alive, sequential, ${hubMs.length} each, interleaved in 10 rounds; agent: ${values.agent})`,
        );
        out(row('direct to edge apiserver', directMs));
        out(row('via hub + tunnel + agent', hubMs));
        out(
          `ratio via-hub/direct: p50 ${(pct(hubMs, 0.5) / pct(directMs, 0.5)).toFixed(2)}x, p99 ${(pct(hubMs, 0.99) / pct(directMs, 0.99)).toFixed(2)}x; added p50 ${(pct(hubMs, 0.5) - pct(directMs, 0.5)).toFixed(2)} ms`,
        );
        const measured = {
          direct: { p50: pct(directMs, 0.5), p99: pct(directMs, 0.99) },
          viaHub: { p50: pct(hubMs, 0.5), p99: pct(hubMs, 0.99) },
          hubCpuMsPerRequest: cpu.hub / hubMs.length / 1000,
          agentCpuMsPerRequest: values.agent === 'in-process' ? NaN : cpu.agent / hubMs.length / 1000,
        };
        if (http2) figures.http2 = measured;
        else Object.assign(figures, measured);
        out(
          `CPU ms per request: via hub — hub ${perReq(cpu.hub)}, agent ${values.agent === 'in-process' ? '(in the client process)' : perReq(cpu.agent)}, client ${perReq(cpu.client)}; direct — client ${perReq(cpu.direct)}`,
        );
        await viaHub.close();
        await direct.close();
      }
    };
    await viaHubLatency();

    // (2) idle tunnels
    if (tunnels > 0) {
      const names = Array.from({ length: tunnels }, (_, i) => `idle-${i}`);
      const creds: { name: string; credential: string; cluster: string }[] = [];
      const tj = Date.now();
      await forEachLimit(names, 16, async (name) => {
        creds.push({ name, ...(await makeEdge(name)) });
      });
      const joinS = (Date.now() - tj) / 1000;
      out();
      out(
        `${tunnels} edges created and joined (real SA + token Secret + TokenReview) in ${joinS.toFixed(1)} s (${(tunnels / joinS).toFixed(0)}/s, concurrency 16)`,
      );
      await new Promise((r) => setTimeout(r, 5000));
      const before = await hub.stats();
      const tc = Date.now();
      await forEachLimit(creds, 32, async (c) => {
        agents.push(await connectTunnel(agentBase(hubURL, c.cluster, c.name), hub.caFile, c.credential));
      });
      const connectS = (Date.now() - tc) / 1000;
      for (let i = 0; i < 100; i++) {
        if ((await hub.stats()).tunnels >= tunnels + 1) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 20_000)); // let Opened signals and first keepalives settle
      const after = await hub.stats();
      out(`${tunnels} tunnels connected in ${connectS.toFixed(1)} s; hub registry holds ${after.tunnels}`);
      out(
        `hub RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB: ${((after.rss - before.rss) / tunnels / 1024).toFixed(1)} KiB per idle tunnel` +
          ` (heap ${((after.heapUsed - before.heapUsed) / tunnels / 1024).toFixed(1)} KiB, external ${((after.external - before.external) / tunnels / 1024).toFixed(1)} KiB)`,
      );
      figures.kibPerIdleTunnel = (after.rss - before.rss) / tunnels / 1024;
      const idle0 = await hub.stats();
      await new Promise((r) => setTimeout(r, 30_000));
      const idle1 = await hub.stats();
      const cpuMs = (idle1.cpu.user + idle1.cpu.system - idle0.cpu.user - idle0.cpu.system) / 1000;
      out(
        `hub CPU with ${tunnels} idle tunnels (keepalive both ways): ${((cpuMs / 30_000) * 100).toFixed(1)} % of one core`,
      );
    }
  } finally {
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await Promise.all(agentProcs.map((a) => a.stop().catch(() => {})));
    hub.child.send({ type: 'stop' });
    await new Promise((r) => hub.child.once('exit', r));
    if (!values.keepEdge) await edgeScript('down', edgeCluster).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: String(edgesDefaults.requests) },
      tunnels: { type: 'string', default: String(edgesDefaults.tunnels) },
      'edge-cluster': { type: 'string', default: edgesDefaults.edgeCluster },
      'keep-edge': { type: 'boolean', default: false },
      agent: { type: 'string', default: edgesDefaults.agent },
    },
  });
  if (values.agent !== 'process' && values.agent !== 'in-process')
    throw new Error(`--agent must be process or in-process, not ${values.agent}`);
  await benchEdges({
    requests: Number(values.requests),
    tunnels: Number(values.tunnels),
    edgeCluster: values['edge-cluster'],
    keepEdge: values['keep-edge'],
    agent: values.agent,
  });
}
