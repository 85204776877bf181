// Idle tunnels at scale (issue 12): hub memory per idle tunnel and hub CPU for their keepalives and for the periodic
// re-verification of their credentials, with N simulated agents (yamux client sessions over WebSockets, in this
// process) connected to the hub's real listener, edge service and tunnel endpoint in a child process
// (bench/idle-tunnels-hub.ts).
//
// The shortcut, and what it skips: kcp is replaced by a stub API server in this process that answers the hub's calls
// for each tunnel exactly as kcp would (GET Edge, TokenReview, GET ServiceAccount at connect and at every
// re-verification; PATCH status.URL, GET + PUT status for the Opened signal), so 10,000 tunnels connect in about two
// minutes instead of 10,000 real joins through kcp first (~5 min at 32/s, bench/edges.ts --tunnels). What kcp itself would
// spend on those calls is not measured (only their count, and the hub's side of them); the controllers, informers and
// agent heartbeats (PATCH status every 30 s through the agent-proxy) are not running. Tokens are JWT-shaped, the size
// of a kcp service-account token (the hub keeps each session's token to re-verify it).
// Run: node_modules/.bin/node bench/idle-tunnels.ts [--tunnels 10000] [--idle-seconds 60] [--windows 1] [--concurrency 32]
//      [--hub-src /tmp/kedge-before/src]   (the hub child runs another checkout's hub code)
// Export for bench/run.ts: benchIdleTunnels(options, out) → IdleTunnelsFigures.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import WebSocket from 'ws';
import { EDGE_NAMESPACE, serviceAccountName, serviceAccountUsername } from '../src/api/names.ts';
import { forEachLimit } from '../src/hub/controllers/parallel.ts';
import { CLUSTER_NAME_EXTRA } from '../src/hub/edges/credentials.ts';
import { createWebSocketSession, webSocketOptions, type TunnelSession } from '../src/tunnel/index.ts';
import { freePort } from '../src/util/free-port.ts';

export interface IdleTunnelsOptions {
  tunnels: number;
  /** Length of each CPU window with every tunnel idle (keepalive every 15 s each way). */
  idleSeconds: number;
  /** Tunnels being connected at once. */
  concurrency: number;
  /** Idle windows measured one after another (memory after each). */
  windows: number;
  /** The `src/` directory whose hub code the hub child runs ('' = this checkout's): before/after comparisons. */
  hubSrc: string;
}

export interface IdleTunnelsFigures {
  tunnels: number;
  connectSeconds: number;
  /** Hub RSS growth per idle tunnel, after a GC, 20 s after the last connect, in KiB. */
  kibAtConnect: number;
  /** The same after the last idle window (steady state; aim ≤ 40). */
  kibPerTunnel: number;
  /** Of which V8 heap, and memory outside it (Buffers, TLS, sockets), KiB per tunnel. */
  heapKibPerTunnel: number;
  /** Hub CPU with every tunnel idle and no re-verification in the window, % of one core, all tunnels together. */
  keepaliveCpuPercent: number;
  /** The same per tunnel (aim ≤ 0.01 %). */
  keepaliveCpuPercentPerTunnel: number;
  /** One re-verification pass over every session (the hub does one every 30 s): hub CPU ms and wall ms. */
  recheckCpuMs: number;
  recheckWallMs: number;
  /** Re-verification averaged over its 30 s period, % of one core. */
  recheckCpuPercent: number;
  /** API calls the hub made to kcp (the stub) per re-verification pass. */
  recheckKcpCalls: number;
}

export const idleTunnelsDefaults: IdleTunnelsOptions = {
  tunnels: 10_000,
  idleSeconds: 60,
  concurrency: 32,
  windows: 1,
  hubSrc: '',
};

const RECHECK_PERIOD_MS = 30_000; // the hub's default recheckIntervalMs
const CLUSTER = 'benchtenant';

type HubStats = {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  tunnels: number;
  reviews: number;
  cpu: NodeJS.CpuUsage;
};

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A JWT-shaped token the size of a kcp legacy service-account token, naming its edge (the stub reads it back). */
function fakeToken(edge: string): string {
  const claims = {
    iss: 'kubernetes/serviceaccount',
    'kubernetes.io/serviceaccount/namespace': EDGE_NAMESPACE,
    'kubernetes.io/serviceaccount/secret.name': `${serviceAccountName(edge)}-token-abcde`,
    'kubernetes.io/serviceaccount/service-account.name': serviceAccountName(edge),
    'kubernetes.io/serviceaccount/service-account.uid': saUID(edge),
    'kubernetes.io/serviceaccount/clusterName': CLUSTER,
    sub: serviceAccountUsername(edge),
  };
  return `${b64({ alg: 'RS256', kid: randomBytes(16).toString('hex') })}.${b64(claims)}.${randomBytes(256).toString('base64url')}`;
}

const uid = (kind: string, edge: string): string => {
  const h = createHash('sha256').update(`${kind}/${edge}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const edgeUID = (edge: string): string => uid('edge', edge);
const saUID = (edge: string): string => uid('sa', edge);

function edgeObject(name: string, rv: number): Record<string, unknown> {
  return {
    apiVersion: 'kedge.faros.sh/v1alpha1',
    kind: 'Edge',
    metadata: {
      name,
      uid: edgeUID(name),
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: '2026-12-02T00:00:00Z',
      annotations: { 'kcp.io/cluster': CLUSTER },
    },
    spec: { type: 'kubernetes' },
    status: { phase: 'Ready' },
  };
}

/** What kcp answers the hub's tunnel calls with; counts them. */
class StubKcp {
  calls = 0;
  readonly #server: Server;
  readonly #bySA = new Map<string, string>();
  #rv = 1000;

  constructor(edges: string[]) {
    for (const e of edges) this.#bySA.set(serviceAccountName(e), e);
    this.#server = createServer((req, res) => this.#handle(req, res));
    // Never close an idle keep-alive connection: with this process busy, the server's close raced the hub's next
    // request on it (ECONNRESET, a refused tunnel). kcp's own idle timeout is far longer than the bench.
    this.#server.keepAliveTimeout = 0;
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const addr = this.#server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.calls++;
      const path = (req.url ?? '').split('?')[0] ?? '';
      const send = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const edge = /\/apis\/kedge\.faros\.sh\/v1alpha1\/edges\/([^/]+)(\/status)?$/.exec(path);
      if (edge?.[1]) return send(200, edgeObject(edge[1], this.#rv++));
      if (path.endsWith('/apis/authentication.k8s.io/v1/tokenreviews')) {
        const review = JSON.parse(Buffer.concat(chunks).toString()) as { spec: { token: string } };
        const claims = JSON.parse(Buffer.from(review.spec.token.split('.')[1] ?? '', 'base64url').toString()) as {
          sub: string;
          'kubernetes.io/serviceaccount/service-account.name': string;
        };
        const name = this.#bySA.get(claims['kubernetes.io/serviceaccount/service-account.name']) ?? '';
        return send(201, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          metadata: {},
          status: {
            authenticated: true,
            user: { username: claims.sub, uid: saUID(name), extra: { [CLUSTER_NAME_EXTRA]: [CLUSTER] } },
          },
        });
      }
      const sa = /\/api\/v1\/namespaces\/[^/]+\/serviceaccounts\/([^/]+)$/.exec(path);
      const owner = sa?.[1] ? this.#bySA.get(sa[1]) : undefined;
      if (owner !== undefined) {
        return send(200, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: {
            name: sa?.[1],
            namespace: EDGE_NAMESPACE,
            uid: saUID(owner),
            ownerReferences: [
              { apiVersion: 'kedge.faros.sh/v1alpha1', kind: 'Edge', name: owner, uid: edgeUID(owner) },
            ],
          },
        });
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
  }
}

function startHub(kcpURL: string, port: number, hubSrc: string) {
  const child = fork(new URL('./idle-tunnels-hub.ts', import.meta.url).pathname, [], {
    // KEDGE_BENCH_HUB_PROF=<dir>: a V8 CPU profile of the hub child, written when it stops.
    execArgv: [
      '--expose-gc',
      ...(process.env.KEDGE_BENCH_HUB_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KEDGE_BENCH_HUB_PROF}`] : []),
    ],
    env: {
      ...process.env,
      KEDGE_BENCH_HUB_PORT: String(port),
      KEDGE_BENCH_KCP_URL: kcpURL,
      KEDGE_BENCH_HUB_SRC: hubSrc,
      // No periodic re-verification: the bench triggers one pass itself and measures it apart from the keepalives.
      KEDGE_BENCH_RECHECK_MS: String(24 * 3_600_000),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: { type: string } & T): void => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ type });
    });
  return new Promise<{
    caFile: string;
    stats(): Promise<HubStats>;
    cpu(): Promise<NodeJS.CpuUsage>;
    recheck(): Promise<{ ms: number; cpu: NodeJS.CpuUsage }>;
    snapshot(): Promise<string>;
    stop(): Promise<void>;
  }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hub child exited with ${code}`)));
    child.on('message', (m: { type: string; caFile?: string }) => {
      if (m.type !== 'ready') return;
      resolve({
        caFile: m.caFile ?? '',
        stats: () => ask<HubStats>('stats'),
        cpu: () => ask<{ cpu: NodeJS.CpuUsage }>('cpu').then((r) => r.cpu),
        recheck: () => ask<{ ms: number; cpu: NodeJS.CpuUsage }>('recheck'),
        snapshot: () => ask<{ file: string }>('snapshot').then((r) => r.file),
        stop: async () => {
          child.removeAllListeners('exit');
          const exited = new Promise((r) => child.once('exit', r));
          child.send({ type: 'stop' });
          await exited;
        },
      });
    });
  });
}

const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user + b.system - a.user - a.system) / 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the stub kcp and the hub child, connects and measures, tears down; prints through `out`. */
export async function benchIdleTunnels(
  options: Partial<IdleTunnelsOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<IdleTunnelsFigures> {
  const { tunnels, idleSeconds, concurrency, windows, hubSrc } = { ...idleTunnelsDefaults, ...options };
  const names = Array.from({ length: tunnels }, (_, i) => `idle-${String(i).padStart(5, '0')}`);
  const stub = new StubKcp(names);
  const kcpURL = await stub.start();
  const port = await freePort();
  const hub = await startHub(kcpURL, port, hubSrc);
  const hubURL = `wss://127.0.0.1:${port}`;
  // One TLS context for every agent (ws hands its options to tls.connect): a CA per connection would cost this process
  // a context each.
  const tlsOptions: WebSocket.ClientOptions = {
    secureContext: createSecureContext({ ca: readFileSync(hub.caFile) }),
  } as WebSocket.ClientOptions;
  const log = pino({ level: 'warn' });
  const sessions: TunnelSession[] = [];
  out(
    `# bench/idle-tunnels.ts — ${new Date().toISOString()}, tunnels=${tunnels}, idle window ${idleSeconds} s, hub code ${hubSrc || 'this checkout'}`,
  );
  try {
    await sleep(2_000);
    // KEDGE_BENCH_HUB_SNAP=<dir>: V8 heap snapshots of the hub before and after connecting (to diff by constructor).
    if (process.env.KEDGE_BENCH_HUB_SNAP) out(`heap snapshot: ${await hub.snapshot()}`);
    const before = await hub.stats();
    const t0 = performance.now();
    // A refused or failed attempt is retried after a second, as an agent reconnects; the failures are counted.
    const failures = new Map<string, number>();
    const connect = (name: string): Promise<TunnelSession> => {
      const ws = new WebSocket(
        `${hubURL}/services/agent-proxy/clusters/${CLUSTER}/apis/kedge.faros.sh/v1alpha1/edges/${name}/proxy`,
        { headers: { authorization: `Bearer ${fakeToken(name)}` }, ...tlsOptions, ...webSocketOptions() },
      );
      const session = createWebSocketSession(ws, { role: 'client', logger: log });
      return new Promise<TunnelSession>((resolve, reject) => {
        ws.once('open', () => resolve(session));
        ws.once('unexpected-response', (_req, res) => {
          void session.close();
          reject(new Error(`HTTP ${res.statusCode}`));
        });
        ws.once('error', reject);
      });
    };
    await forEachLimit(names, concurrency, async (name) => {
      for (let attempt = 1; ; attempt++) {
        try {
          sessions.push(await connect(name));
          return;
        } catch (err) {
          const why = (err as Error).message;
          failures.set(why, (failures.get(why) ?? 0) + 1);
          if (attempt >= 5) throw new Error(`tunnel ${name}: ${why} (attempt ${attempt})`, { cause: err });
          await sleep(1_000);
        }
      }
    });
    if (failures.size > 0)
      out(`connect attempts that failed and were retried: ${JSON.stringify(Object.fromEntries(failures))}`);
    const connectSeconds = (performance.now() - t0) / 1000;
    let registered = 0;
    for (let i = 0; i < 300 && registered < tunnels; i++) {
      registered = (await hub.stats()).tunnels;
      if (registered < tunnels) await sleep(200);
    }
    const connectCalls = stub.calls;
    await sleep(20_000); // Opened signals applied, first keepalives exchanged both ways
    const after = await hub.stats();
    const closed = sessions.filter((s) => s.closed).length;
    out(
      `${tunnels} tunnels connected in ${connectSeconds.toFixed(1)} s (${(tunnels / connectSeconds).toFixed(0)}/s, ${concurrency} at once); hub registry holds ${after.tunnels}; ${closed} closed; ${connectCalls} stub kcp calls (${(connectCalls / tunnels).toFixed(1)} per tunnel)`,
    );
    if (process.env.KEDGE_BENCH_HUB_SNAP) out(`heap snapshot: ${await hub.snapshot()}`);
    const per = (a: number, b: number): number => (b - a) / tunnels / 1024;
    const kibAtConnect = per(before.rss, after.rss);
    out(
      `hub RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB after GC, 20 s after connecting: ${kibAtConnect.toFixed(1)} KiB per idle tunnel` +
        ` (V8 heap ${per(before.heapUsed, after.heapUsed).toFixed(1)} KiB, external ${per(before.external, after.external).toFixed(1)} KiB of which ArrayBuffers ${per(before.arrayBuffers, after.arrayBuffers).toFixed(1)} KiB)`,
    );

    // Each window: hub CPU over it, then RSS after a GC (the first window also outlives the connect-time requests'
    // 30 s timeout timers). Several windows show whether memory keeps growing while the tunnels idle.
    let keepaliveCpuPercent = 0;
    let settled = after;
    for (let w = 1; w <= windows; w++) {
      const c0 = await hub.cpu();
      await sleep(idleSeconds * 1000);
      keepaliveCpuPercent = (cpuMs(c0, await hub.cpu()) / (idleSeconds * 1000)) * 100;
      settled = await hub.stats();
      out(
        `idle window ${w} (${idleSeconds} s, yamux ping every 15 s each way): hub CPU ${keepaliveCpuPercent.toFixed(1)} % of one core, ${(keepaliveCpuPercent / tunnels).toFixed(5)} % per tunnel; then RSS ${(settled.rss / 2 ** 20).toFixed(0)} MiB = ${per(before.rss, settled.rss).toFixed(1)} KiB per tunnel (V8 heap ${per(before.heapUsed, settled.heapUsed).toFixed(1)} KiB, external ${per(before.external, settled.external).toFixed(1)} KiB)`,
      );
    }
    const kibPerTunnel = per(before.rss, settled.rss);
    const heapKibPerTunnel = per(before.heapUsed, settled.heapUsed);

    const calls0 = stub.calls;
    const recheck = await hub.recheck();
    const recheckCpuMs = (recheck.cpu.user + recheck.cpu.system) / 1000;
    const recheckKcpCalls = stub.calls - calls0;
    const recheckCpuPercent = (recheckCpuMs / RECHECK_PERIOD_MS) * 100;
    out(
      `credential re-verification of ${tunnels} sessions (the hub runs one every 30 s): ${recheck.ms.toFixed(0)} ms wall, hub CPU ${recheckCpuMs.toFixed(0)} ms = ${recheckCpuPercent.toFixed(1)} % of one core over 30 s; ${recheckKcpCalls} kcp calls (${((recheckKcpCalls / RECHECK_PERIOD_MS) * 1000).toFixed(0)}/s averaged over 30 s)`,
    );
    const still = sessions.filter((s) => s.closed).length;
    if (still > 0) out(`warning: ${still} agent sessions closed during the bench`);
    return {
      tunnels,
      connectSeconds,
      kibAtConnect,
      kibPerTunnel,
      heapKibPerTunnel,
      keepaliveCpuPercent,
      keepaliveCpuPercentPerTunnel: keepaliveCpuPercent / tunnels,
      recheckCpuMs,
      recheckWallMs: recheck.ms,
      recheckCpuPercent,
      recheckKcpCalls,
    };
  } finally {
    await hub.stop(); // first: the agents' closes would otherwise send Closed signals to a stopping hub
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
    await stub.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tunnels: { type: 'string', default: String(idleTunnelsDefaults.tunnels) },
      'idle-seconds': { type: 'string', default: String(idleTunnelsDefaults.idleSeconds) },
      concurrency: { type: 'string', default: String(idleTunnelsDefaults.concurrency) },
      windows: { type: 'string', default: String(idleTunnelsDefaults.windows) },
      'hub-src': { type: 'string', default: '' },
    },
  });
  await benchIdleTunnels({
    tunnels: Number(values.tunnels),
    idleSeconds: Number(values['idle-seconds']),
    concurrency: Number(values.concurrency),
    windows: Number(values.windows),
    hubSrc: values['hub-src'],
  });
}
