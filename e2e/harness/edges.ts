// Edge-side parts for e2e suites: edge clusters (hack/edge-cluster.sh), real agents as child processes
// (bin/kedge-agent.js), and a TCP relay a test can freeze to cut a connection without a FIN or RST.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.ts';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import { run, type RunResult } from './cli.ts';
import { toolsBin } from './env.ts';
import { poll, sleep } from '../../src/util/wait.ts';

const repo = new URL('../../', import.meta.url).pathname;
const script = join(repo, 'hack', 'edge-cluster.sh');

// ---- edge clusters -------------------------------------------------------------------------------------------

export interface EdgeCluster {
  /** The name given to hack/edge-cluster.sh (unique per run; not necessarily the Edge's name on the hub). */
  name: string;
  dir: string;
  kubeconfig: string;
  server: string;
  token: string;
  caFile: string;
  env: Record<string, string>;
  /** Admin client on the edge's kube-apiserver (close it, or call stop()). */
  client: KubeClient;
  /** `ctr` against the real node's containerd (k8s.io namespace); only for a cluster started with `realNode`. */
  ctr(args: string[]): Promise<RunResult>;
  /** Kills kube-apiserver (TERM) and starts it again with the same flags; resolves once /readyz answers. */
  restartApiServer(opts?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts an edge cluster (`hack/edge-cluster.sh up`). Names get a random suffix so parallel runs and leftovers
 * never collide; stop() runs `down` (processes stopped, directory removed unless KEDGE_TEST_KEEP is set).
 * `realNode`: a kubelet node with containerd instead of kwok (`up NAME --real-node`, docs/real-node.md; root only,
 * one per machine); its env names the local test images (KEDGE_EDGE_WEB_IMAGE) and the node.
 */
export async function startEdgeCluster(prefix: string, opts: { realNode?: boolean } = {}): Promise<EdgeCluster> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
  const up = await run('bash', [script, 'up', name, ...(opts.realNode ? ['--real-node'] : [])], { timeoutMs: 240_000 });
  if (up.code !== 0) throw new Error(`edge-cluster up ${name} failed (${up.code}):\n${up.stderr.slice(-3000)}`);
  const envOut = await run('bash', [script, 'env', name]);
  if (envOut.code !== 0) throw new Error(`edge-cluster env ${name} failed: ${envOut.stderr}`);
  const env: Record<string, string> = {};
  for (const line of envOut.stdout.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
  }
  const need = (k: string): string => {
    const v = env[k];
    if (v === undefined) throw new Error(`edge-cluster env ${name}: ${k} missing`);
    return v;
  };
  const kubeconfig = need('KEDGE_EDGE_KUBECONFIG');
  const dir = need('KEDGE_EDGE_CLUSTER_DIR');
  const client = new KubeClient({ ...loadKubeconfig({ path: kubeconfig }), userAgent: 'kedge-e2e' });
  const cluster: EdgeCluster = {
    name,
    dir,
    kubeconfig,
    env,
    client,
    server: need('KEDGE_EDGE_SERVER'),
    token: need('KEDGE_EDGE_TOKEN'),
    caFile: need('KEDGE_EDGE_CA_FILE'),
    ctr: (args) => run('ctr', ['--address', need('KEDGE_EDGE_CONTAINERD_ADDRESS'), '--namespace', 'k8s.io', ...args]),
    async restartApiServer(opts = {}) {
      const pidFile = join(dir, 'kube-apiserver.pid');
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .filter((a) => a !== '');
      if (!argv.some((a) => a.includes(`${dir}/`))) throw new Error(`pid ${pid} is not this cluster's kube-apiserver`);
      process.kill(pid, 'SIGTERM');
      const killer = setTimeout(() => alive(pid) && process.kill(pid, 'SIGKILL'), 15_000);
      await waitFor(() => !alive(pid), 30_000, 'kube-apiserver to exit');
      clearTimeout(killer);
      await sleep(opts.downMs ?? 0);
      const log = openSync(join(dir, 'kube-apiserver.log'), 'a');
      const [cmd, ...args] = argv;
      const child = spawn(cmd ?? 'kube-apiserver', args, { detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      child.unref();
      writeFileSync(pidFile, `${child.pid}\n`);
      await waitFor(
        async () => (await run('bash', [script, 'status', name])).code === 0,
        60_000,
        'kube-apiserver /readyz',
      );
    },
    async stop() {
      await client.close();
      const args = [script, 'down', name];
      if (process.env.KEDGE_TEST_KEEP) return;
      await run('bash', args, { timeoutMs: 60_000 });
    },
  };
  return cluster;
}

// ---- agents --------------------------------------------------------------------------------------------------

export interface AgentOptions {
  hubURL: string;
  /** Logical cluster of the tenant workspace. */
  cluster: string;
  edge: string;
  /** Join token (first start only; later starts reuse the credential in stateDir). */
  token?: string;
  /** Default: a fresh temporary directory (kept across restart()). */
  stateDir?: string;
  kubeconfig?: string;
  hubCAFile?: string;
  /** Defaults chosen for tests: heartbeat 2s, keepalive 1s/2s, resync 5s. */
  heartbeatInterval?: string;
  keepaliveInterval?: string;
  keepaliveTimeout?: string;
  resyncInterval?: string;
  type?: 'kubernetes' | 'server';
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Log level of the child (default debug; its output goes to `logFile`). */
  logLevel?: string;
}

export interface AgentProcess {
  readonly opts: AgentOptions & { stateDir: string };
  readonly logFile: string;
  /** The running child, if any. */
  readonly child: ChildProcess | undefined;
  /** Everything the current and earlier children wrote (stdout + stderr), in order. */
  output(): string;
  /** Resolves with the exit code (or signal name) of the current child. */
  exited(): Promise<number | string>;
  /** Resolves once `pattern` appears in the output (since `sinceOffset`, default 0); rejects after timeoutMs. */
  waitForOutput(pattern: RegExp, timeoutMs?: number, sinceOffset?: number): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye to the hub. */
  kill(): Promise<void>;
  /** Starts a new child with the same options but WITHOUT the join token (the credential in stateDir is reused). */
  restart(extra?: Partial<AgentOptions>): void;
}

const agentBin = join(repo, 'bin', 'kedge-agent.js');

export function agentArgs(o: AgentOptions & { stateDir: string }): string[] {
  const args = ['--hub-url', o.hubURL, '--cluster', o.cluster, '--edge', o.edge, '--state-dir', o.stateDir];
  if (o.token !== undefined) args.push('--token', o.token);
  if (o.kubeconfig !== undefined) args.push('--kubeconfig', o.kubeconfig);
  if (o.hubCAFile !== undefined) args.push('--hub-ca-file', o.hubCAFile);
  args.push('--heartbeat-interval', o.heartbeatInterval ?? '2s');
  args.push('--keepalive-interval', o.keepaliveInterval ?? '1s', '--keepalive-timeout', o.keepaliveTimeout ?? '2s');
  // --resync-interval is a kubernetes-mode flag: the agent refuses it in server mode.
  if (o.type !== 'server') args.push('--resync-interval', o.resyncInterval ?? '5s');
  if (o.type !== undefined) args.push('--type', o.type);
  return [...args, ...(o.extraArgs ?? [])];
}

/** Starts `kedge-agent` as a child process (Node 24, the test's own execPath). */
export function startAgent(options: AgentOptions): AgentProcess {
  const opts = {
    ...options,
    stateDir: options.stateDir ?? mkdtempSync(join(tmpdir(), `kedge-agent-${options.edge}-`)),
  };
  const logFile = join(opts.stateDir, 'agent.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  let out = '';
  let child: ChildProcess | undefined;
  let exit: Promise<number | string> = Promise.resolve(0);

  const launch = (o: AgentOptions & { stateDir: string }): void => {
    const c = spawn(process.execPath, [agentBin, ...agentArgs(o)], {
      cwd: repo,
      env: {
        ...process.env,
        PATH: `${toolsBin()}:${process.env.PATH}`,
        KEDGE_LOG_LEVEL: o.logLevel ?? 'debug',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      log.write(b);
    };
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onData);
    exit = new Promise((resolve) => c.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    child = c;
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };

  const agent: AgentProcess = {
    opts,
    logFile,
    get child() {
      return child;
    },
    output: () => out,
    exited: () => exit,
    async waitForOutput(pattern, timeoutMs = 30_000, sinceOffset = 0) {
      await waitFor(
        () => pattern.test(out.slice(sinceOffset)),
        timeoutMs,
        `agent ${opts.edge} output ${pattern}`,
        () => out.slice(-4000),
      );
    },
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart(extra = {}) {
      if (child !== undefined && child.exitCode === null && child.signalCode === null)
        throw new Error('agent still running');
      const next = { ...opts, ...extra, token: extra.token };
      launch(next);
    },
  };
  launch(opts);
  return agent;
}

// ---- a relay that can go silent ------------------------------------------------------------------------------

export interface FreezableRelay {
  /** Connect here instead of `target` (e.g. `https://127.0.0.1:<port>` as the agent's hub URL). */
  port: number;
  /** Connections relayed so far (accepted). */
  readonly connections: number;
  /** Stops moving bytes in both directions and keeps every socket open: a cut cable, no FIN, no RST. */
  freeze(): void;
  /** Moves bytes again (only for connections made after thaw() if the frozen ones were given up). */
  thaw(): void;
  /** Destroys every relayed connection (RST-like) and keeps listening. */
  cutAll(): void;
  close(): Promise<void>;
}

/** A TCP relay 127.0.0.1:<port> → target host:port. */
export async function startRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableRelay> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  let count = 0;
  const server: Server = createServer((down) => {
    count++;
    const up = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (b: Buffer) => {
        if (!frozen) to.write(b);
      });
      from.on('end', () => {
        if (!frozen) to.end();
      });
    };
    forward(down, up);
    forward(up, down);
    const done = (): void => {
      pairs.delete(pair);
      if (!frozen) {
        down.destroy();
        up.destroy();
      }
    };
    down.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('relay has no port');
  return {
    port: addr.port,
    get connections() {
      return count;
    },
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
    },
    cutAll() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- small utilities -----------------------------------------------------------------------------------------

/** Running (a zombie counts as gone: its parent, the edge-cluster script, exited and nobody may reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  detail?: () => string,
): Promise<void> {
  try {
    await poll(async () => ((await cond()) ? true : undefined), { what, timeoutMs, intervalMs: 100 });
  } catch (err) {
    throw detail ? new Error(`${(err as Error).message}\n${detail()}`, { cause: err }) : err;
  }
}
