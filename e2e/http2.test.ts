// HTTP/2 on the hub's listener, end to end: one HTTP/2 connection carries 100 concurrent watches to a tenant workspace
// (kcp) and 100 through the edges-proxy to a real edge cluster via a real agent, and each watch sees every event;
// kubectl negotiates h2 by itself and still works when forced to HTTP/1.1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as h2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinCommand, kedge, kedgeLogin, kubectl, run } from './harness/cli.ts';
import { startAgent, startEdgeCluster, type AgentProcess, type EdgeCluster } from './harness/edges.ts';
import { tool } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { edgesProxyURL } from '../src/hub/edges/paths.ts';
import { tenantPath } from '../src/hub/tenancy/tenants.ts';

const WATCHES = 100;
const OBJECTS = 3;
const sfx = randomBytes(3).toString('hex');
const tenant = `h2-${sfx}`;
const token = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-http2-'));
const kubeconfig = join(dir, 'config');
const edgeName = 'h2-edge';
let hub: TestHub;
let edge: EdgeCluster | undefined;
let agent: AgentProcess | undefined;
let edgeBase = '';

beforeAll(async () => {
  const edgeUp = startEdgeCluster('h2');
  hub = await startTestHub([`${tenant}=${token}`]);
  await kedgeLogin(hub.hubURL, token, hub.caFile, kubeconfig);
  edge = await edgeUp;
  const created = await kedge(['edge', 'create', edgeName, '--kubeconfig', kubeconfig]);
  if (created.code !== 0) throw new Error(`edge create: ${created.stderr}`);
  const join1 = await joinCommand(kubeconfig, edgeName);
  agent = startAgent({
    hubURL: hub.hubURL,
    cluster: join1.cluster,
    edge: edgeName,
    token: join1.token,
    kubeconfig: edge.kubeconfig,
    hubCAFile: hub.caFile,
    // 100 watches at once load the test process (which runs the hub) on a shared machine: the harness's 2 s keepalive
    // timeout would drop the tunnel, which is not what this suite is about.
    keepaliveInterval: '5s',
    keepaliveTimeout: '30s',
  });
  await agent.waitForOutput(/Tunnel connection established/, 60_000);
  edgeBase = new URL(edgesProxyURL(hub.hubURL, join1.cluster, edgeName, 'kubernetes')).pathname;
}, 300_000);

afterAll(async () => {
  await agent?.kill().catch(() => {});
  await hub?.stop();
  await edge?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The hub's `kedge_hub_connections_total` by protocol. */
async function connections(): Promise<Record<string, number>> {
  const r = await hubRequest(hub.hubURL, hub.caFile, 'GET', '/metrics');
  const out: Record<string, number> = {};
  for (const m of r.body.matchAll(/^kedge_hub_connections_total\{protocol="([^"]+)"\} (\d+)/gm))
    out[m[1] ?? ''] = Number(m[2]);
  return out;
}

/** One HTTP/2 connection to the hub; `tcpConnections` counts the TLS connections it opened (it must stay 1). */
async function h2Client(): Promise<{ session: ClientHttp2Session; tcpConnections: () => number }> {
  let opened = 0;
  const ca = readFileSync(hub.caFile);
  const session = h2Connect(hub.hubURL, {
    createConnection: (url: URL) => {
      opened++;
      return tlsConnect({ host: url.hostname, port: Number(url.port), ca, ALPNProtocols: ['h2'] });
    },
  });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  expect(session.alpnProtocol).toBe('h2');
  return { session, tcpConnections: () => opened };
}

function h2JSON<T>(session: ClientHttp2Session, method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': method,
      ':path': path,
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('end', () => {
      if (status >= 300) reject(new Error(`${method} ${path}: ${status} ${text}`));
      else resolve(JSON.parse(text) as T);
    });
    stream.on('error', reject);
    stream.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A watch on one stream: resolves `opened` on its response headers, collects ADDED object names. */
interface Watch {
  stream: ClientHttp2Stream;
  opened: Promise<number>;
  added: Set<string>;
}

function watch(session: ClientHttp2Session, path: string): Watch {
  const stream = session.request({ ':path': path, authorization: `Bearer ${token}` });
  const added = new Set<string>();
  let buffered = '';
  stream.on('data', (c: Buffer) => {
    buffered += c.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string } } };
      if (ev.type === 'ADDED' && ev.object.metadata?.name) added.add(ev.object.metadata.name);
    }
  });
  stream.on('error', () => {}); // the test closes the streams; an error shows as missing events
  const opened = new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
  return { stream, opened, added };
}

/**
 * Opens WATCHES watches on `base`/namespaces/`ns`/configmaps over one HTTP/2 connection, creates OBJECTS ConfigMaps
 * with `create`, and checks every watch saw each one ADDED, over one TCP connection.
 */
async function manyWatches(base: string, ns: string, create: (name: string) => Promise<void>): Promise<void> {
  const before = (await connections()).h2 ?? 0;
  const { session, tcpConnections } = await h2Client();
  try {
    const list = await eventually(
      () =>
        h2JSON<{ metadata: { resourceVersion: string } }>(session, 'GET', `${base}/api/v1/namespaces/${ns}/configmaps`),
      { what: `a list of ${base}/…/configmaps` },
    );
    const rv = list.metadata.resourceVersion;
    const path = `${base}/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv}`;
    const watches = Array.from({ length: WATCHES }, () => watch(session, path));
    expect(await Promise.all(watches.map((w) => w.opened))).toEqual(Array(WATCHES).fill(200));
    const names = Array.from({ length: OBJECTS }, (_, i) => `cm-${sfx}-${i}`);
    for (const name of names) await create(name);
    await eventually(
      async () => {
        const missing = watches.filter((w) => names.some((n) => !w.added.has(n))).length;
        if (missing > 0) throw new Error(`${missing} of ${WATCHES} watches have not seen all ${OBJECTS} objects`);
      },
      { what: 'every watch to see every ADDED event', timeoutMs: 60_000, intervalMs: 200 },
    );
    for (const w of watches) expect([...w.added].sort()).toEqual(names);
    expect(tcpConnections()).toBe(1);
    // The hub accepted one h2 connection in this time: this one.
    expect((await connections()).h2).toBe(before + 1);
    for (const w of watches) w.stream.close();
  } finally {
    session.close();
  }
}

describe('100 watches over one HTTP/2 connection', () => {
  it('through /clusters to the tenant workspace (kcp), each watch seeing every event', async () => {
    const base = `/clusters/${tenantPath(tenant)}`;
    const ns = `w-${sfx}`;
    const { session } = await h2Client();
    try {
      await h2JSON(session, 'POST', `${base}/api/v1/namespaces`, { metadata: { name: ns } });
      await manyWatches(base, ns, async (name) => {
        await h2JSON(session, 'POST', `${base}/api/v1/namespaces/${ns}/configmaps`, {
          metadata: { name },
          data: { k: 'v' },
        });
      });
    } finally {
      session.close();
    }
  }, 120_000);

  it('through the edges-proxy to a real edge cluster via its agent, each watch seeing every event', async () => {
    const ns = `w-${sfx}`;
    const edgeKubectl = (args: string[]) =>
      run(tool('kubectl'), ['--kubeconfig', edge?.kubeconfig ?? '', ...args], { timeoutMs: 30_000 });
    const made = await edgeKubectl(['create', 'namespace', ns]);
    expect(made.stderr).toBe('');
    await manyWatches(edgeBase, ns, async (name) => {
      const r = await edgeKubectl(['-n', ns, 'create', 'configmap', name, '--from-literal=k=v']);
      if (r.code !== 0) throw new Error(`create configmap ${name}: ${r.stderr}`);
    });
  }, 120_000);
});

describe('kubectl and HTTP/2', () => {
  it('negotiates h2 by default', async () => {
    const before = (await connections()).h2 ?? 0;
    const r = await kubectl(kubeconfig, ['get', 'namespaces', '-o', 'name']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`namespace/w-${sfx}`);
    expect((await connections()).h2).toBeGreaterThan(before);
  });

  it('still works forced to HTTP/1.1, opening no h2 connection', async () => {
    const before = await connections();
    // client-go configures HTTP/2 itself (golang.org/x/net/http2), so GODEBUG=http2client=0 alone still lets it
    // negotiate h2; DISABLE_HTTP2 is client-go's own switch. Both are set, as a user forcing HTTP/1.1 would.
    const r = await run(tool('kubectl'), ['get', 'namespaces', '-o', 'name'], {
      env: { KUBECONFIG: kubeconfig, GODEBUG: 'http2client=0', DISABLE_HTTP2: '1' },
    });
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^\S+ \S+ +\d+ http\.go:\d+\] HTTP2 has been explicitly disabled$/),
    });
    expect(r.stdout).toContain(`namespace/w-${sfx}`);
    const after = await connections();
    expect(after.h2 ?? 0).toBe(before.h2 ?? 0);
    // kubectl's connection and the one that read these metrics.
    expect(after['http/1.1'] ?? 0).toBeGreaterThanOrEqual((before['http/1.1'] ?? 0) + 2);
  });
});
