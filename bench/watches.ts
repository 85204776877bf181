// Many watches from one client: N concurrent watches on /clusters/<workspace>/…/configmaps through a real hub (child
// process, own kcp) over HTTP/2 (one connection, a stream per watch) vs HTTP/1.1 (Node https.Agent with keep-alive,
// a connection per watch). Per protocol: TCP connections used, time until all N watches had their response headers,
// time until all N saw one new object ADDED, and the memory growth (RSS; JS heap + external) of the hub and of this
// (client) process while the N watches are open (each after a GC). The protocols alternate over `reps` rounds; figures are the rounds' means.
// Run: node_modules/.bin/node bench/watches.ts [--watches 100] [--reps 2]
// bench/run.ts can call benchWatches() (headline: connections and time-to-establish, HTTP/2 vs HTTP/1.1).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as h2Connect, type ClientHttp2Session } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeClient } from '../src/kube/client.ts';
import { freePort } from '../src/util/free-port.ts';
import { poll } from '../src/util/wait.ts';
import { startHubChild } from './edges.ts';

export type WatchProtocol = 'h2' | 'http/1.1';

export interface WatchesOptions {
  /** Concurrent watches from the one client. */
  watches: number;
  /** Rounds; each runs both protocols, in alternating order. */
  reps: number;
}

export interface WatchRow {
  protocol: WatchProtocol;
  /** TCP connections the client opened for the N watches. */
  connections: number;
  /** From the first request to the last watch's response headers. */
  establishMs: number;
  /** From creating one ConfigMap to the last watch seeing it ADDED. */
  fanOutMs: number;
  /** Hub RSS growth with the N watches open, MiB (after a GC in the hub). */
  hubRssMiB: number;
  /** Its JS heap + external (Buffers) growth, MiB: less noisy than RSS, which the allocator gives back late. */
  hubHeapMiB: number;
  /** This process's RSS growth with the N watches open, MiB (after a GC). */
  clientRssMiB: number;
  clientHeapMiB: number;
}

export interface WatchesFigures {
  watches: number;
  h2: WatchRow;
  http1: WatchRow;
}

const MiB = 2 ** 20;

export const watchesDefaults: WatchesOptions = { watches: 100, reps: 2 };

/** An open set of watches: every ADDED name each has seen, and a way to close them all. */
interface OpenWatches {
  connections: number;
  seen: Set<string>[];
  close(): void;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function clientMemory(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

/** Feeds newline-delimited watch events to `seen` (names of ADDED objects). */
function eventReader(seen: Set<string>): (chunk: Buffer) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const ev = JSON.parse(buffered.slice(0, nl)) as { type: string; object: { metadata?: { name?: string } } };
      buffered = buffered.slice(nl + 1);
      if (ev.type === 'ADDED' && ev.object.metadata?.name) seen.add(ev.object.metadata.name);
    }
  };
}

async function openH2(hubURL: string, ca: Buffer, token: string, path: string, n: number): Promise<OpenWatches> {
  let connections = 0;
  const session: ClientHttp2Session = h2Connect(hubURL, {
    createConnection: (url: URL) => {
      connections++;
      return tlsConnect({ host: url.hostname, port: Number(url.port), ca, ALPNProtocols: ['h2'] });
    },
  });
  session.on('error', () => {});
  const seen = Array.from({ length: n }, () => new Set<string>());
  await Promise.all(
    seen.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          const stream = session.request({ ':path': path, authorization: `Bearer ${token}` });
          stream.once('response', (h) =>
            h[':status'] === 200 ? resolve() : reject(new Error(`h2 watch: ${h[':status']}`)),
          );
          stream.on('data', eventReader(s));
          stream.on('error', reject);
        }),
    ),
  );
  return { connections, seen, close: () => session.destroy() };
}

async function openHttp1(hubURL: string, ca: Buffer, token: string, path: string, n: number): Promise<OpenWatches> {
  const agent = new HttpsAgent({ keepAlive: true, ca });
  const sockets = new Set<Socket>();
  const seen = Array.from({ length: n }, () => new Set<string>());
  await Promise.all(
    seen.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          const req = httpsRequest(`${hubURL}${path}`, { agent, headers: { authorization: `Bearer ${token}` } });
          req.once('socket', (socket: Socket) => sockets.add(socket));
          req.once('response', (res) => {
            if (res.statusCode !== 200) return reject(new Error(`HTTP/1.1 watch: ${res.statusCode}`));
            res.on('data', eventReader(s));
            res.on('error', () => {});
            resolve();
          });
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  return { connections: sockets.size, seen, close: () => agent.destroy() };
}

/** Starts the hub (own kcp), measures both protocols `reps` times, tears down; prints through `out`. */
export async function benchWatches(
  options: Partial<WatchesOptions> = {},
  out: (line?: string) => void = (l = '') => void process.stdout.write(`${l}\n`),
): Promise<WatchesFigures> {
  const { watches: n, reps } = { ...watchesDefaults, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'kedge-bench-watches-'));
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const hubURL = `https://127.0.0.1:${port}`;
  out(`# bench/watches.ts — ${new Date().toISOString()}, watches=${n}, reps=${reps}`);
  const t0 = Date.now();
  const hub = await startHubChild(dir, token, port);
  out(`hub + kcp ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const ca = readFileSync(hub.caFile);
  const rows: WatchRow[] = [];
  try {
    const login = await loginWorkspace(hubURL, ca, token);
    const user = new KubeClient({ server: `${hubURL}/clusters/${login}`, token, ca, timeoutMs: 60_000 });
    const ns = 'bench-watches';
    await user.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const cms = `/api/v1/namespaces/${ns}/configmaps`;
    let created = 0;
    for (let rep = 0; rep < reps; rep++) {
      const order: WatchProtocol[] = rep % 2 === 0 ? ['http/1.1', 'h2'] : ['h2', 'http/1.1'];
      for (const protocol of order) {
        const list = await user.get<{ metadata: { resourceVersion: string } }>(cms);
        const path = `/clusters/${login}${cms}?watch=1&resourceVersion=${list.metadata.resourceVersion}`;
        const hubBefore = await hub.stats();
        const clientBefore = clientMemory();
        const t = performance.now();
        const open = await (protocol === 'h2' ? openH2 : openHttp1)(hubURL, ca, token, path, n);
        const establishMs = performance.now() - t;
        const name = `cm-${created++}`;
        const tc = performance.now();
        await user.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
        await poll(async () => open.seen.every((s) => s.has(name)) || undefined, {
          what: `${n} ${protocol} watches to see ${name}`,
          timeoutMs: 60_000,
          intervalMs: 5,
        });
        const fanOutMs = performance.now() - tc;
        const hubAfter = await hub.stats();
        const clientAfter = clientMemory();
        open.close();
        rows.push({
          protocol,
          connections: open.connections,
          establishMs,
          fanOutMs,
          hubRssMiB: (hubAfter.rss - hubBefore.rss) / MiB,
          hubHeapMiB: (hubAfter.heapUsed + hubAfter.external - hubBefore.heapUsed - hubBefore.external) / MiB,
          clientRssMiB: (clientAfter.rss - clientBefore.rss) / MiB,
          clientHeapMiB: (clientAfter.heap - clientBefore.heap) / MiB,
        });
      }
    }
    await user.close();
  } finally {
    hub.child.send({ type: 'stop' });
    await new Promise((r) => hub.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  const figures: WatchesFigures = { watches: n, h2: mean(rows, 'h2'), http1: mean(rows, 'http/1.1') };
  printTable(figures, out);
  return figures;
}

async function loginWorkspace(hubURL: string, ca: Buffer, token: string): Promise<string> {
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${hubURL}/auth/token-login`, {
      method: 'POST',
      ca,
      agent: false,
      headers: { authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`token login: ${text}`))));
    });
    req.on('error', reject);
    req.end();
  });
  return (JSON.parse(body) as { workspace: string }).workspace;
}

function mean(rows: WatchRow[], protocol: WatchProtocol): WatchRow {
  const mine = rows.filter((r) => r.protocol === protocol);
  const avg = (k: keyof Omit<WatchRow, 'protocol'>): number => mine.reduce((a, r) => a + r[k], 0) / mine.length;
  return {
    protocol,
    connections: avg('connections'),
    establishMs: avg('establishMs'),
    fanOutMs: avg('fanOutMs'),
    hubRssMiB: avg('hubRssMiB'),
    hubHeapMiB: avg('hubHeapMiB'),
    clientRssMiB: avg('clientRssMiB'),
    clientHeapMiB: avg('clientHeapMiB'),
  };
}

function printTable(f: WatchesFigures, out: (line?: string) => void): void {
  const mib = (v: number): string => `${v.toFixed(1)} MiB`;
  out();
  out(`${f.watches} concurrent watches from one client through the hub (/clusters, kcp)`);
  out(
    '| protocol | TCP connections | all established | one event seen by all | hub RSS Δ | hub heap Δ | client RSS Δ | client heap Δ |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of [f.h2, f.http1])
    out(
      `| ${r.protocol} | ${r.connections.toFixed(0)} | ${r.establishMs.toFixed(0)} ms | ${r.fanOutMs.toFixed(0)} ms | ` +
        `${mib(r.hubRssMiB)} | ${mib(r.hubHeapMiB)} | ${mib(r.clientRssMiB)} | ${mib(r.clientHeapMiB)} |`,
    );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      watches: { type: 'string', default: String(watchesDefaults.watches) },
      reps: { type: 'string', default: String(watchesDefaults.reps) },
    },
  });
  await benchWatches({ watches: Number(values.watches), reps: Number(values.reps) });
}
