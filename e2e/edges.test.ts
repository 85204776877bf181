// Edges end to end on a real kcp + hub + edge cluster (hack/edge-cluster.sh): `kedge edge …`, the join exchange,
// the agent-proxy and edges-proxy auth matrices, the tunnel with real `kedge-agent` child processes (Edge Ready/URL,
// replacement, revocation), and kubectl through `kedge kubeconfig edge` (get, get -w, apply, logs, exec over WebSocket
// and SPDY incl. stdin, port-forward). An in-test yamux peer remains only where a test misbehaves on purpose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { joinCommand as joinCommandOf, kedge, kedgeLogin, kubectl, portForward, run } from './harness/cli.ts';
import { startAgent, type AgentProcess } from './harness/edges.ts';
import { toolsBin } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { agentBase, connectTunnel, rawTunnel, type TestAgent } from './edges-test-agent.ts';

const repo = new URL('../', import.meta.url).pathname;
const sfx = randomBytes(3).toString('hex');
const [tenantA, tenantB] = [`ea-${sfx}`, `eb-${sfx}`];
const [tokenA, tokenB] = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
const dir = mkdtempSync(join(tmpdir(), 'kedge-edges-'));
const [kcA, kcB] = [join(dir, 'a.kubeconfig'), join(dir, 'b.kubeconfig')];
const edgeCluster = `ee-${sfx}`;
let edgeKubeconfig = '';
let hub: TestHub;
let lcA = '';
const agents: TestAgent[] = [];
const agentProcs: AgentProcess[] = [];

const sh = promisify(execFile);
const edgeScript = (...args: string[]) =>
  sh(join(repo, 'hack/edge-cluster.sh'), args, {
    env: { ...process.env, PATH: `${toolsBin()}:${process.env.PATH}` },
    timeout: 120_000,
  });
const req = (method: string, path: string, opts: Parameters<typeof hubRequest>[4] = {}) =>
  hubRequest(hub.hubURL, hub.caFile, method, path, opts);
const pathOf = (url: string) => new URL(url).pathname;

async function joinCommand(name: string, kc = kcA, ttl = '1h'): Promise<{ token: string; cluster: string }> {
  return joinCommandOf(kc, name, ['--ttl', ttl]);
}

/** A real `kedge-agent` for `edge` on the edge cluster, joined with a fresh join token. */
async function realAgent(edge: string): Promise<AgentProcess> {
  const { token, cluster } = await joinCommand(edge);
  const a = startAgent({ hubURL: hub.hubURL, cluster, edge, token, kubeconfig: edgeKubeconfig, hubCAFile: hub.caFile });
  agentProcs.push(a);
  await a.waitForOutput(/Tunnel connection established/, 60_000);
  return a;
}

/** The edge credential the agent stored after joining. */
function storedCredential(a: AgentProcess): string {
  return (JSON.parse(readFileSync(join(a.opts.stateDir, 'credential.json'), 'utf8')) as { token: string }).token;
}

/** The agent's exit code, or 'running' if it has not exited within `ms`. */
function exitWithin(a: AgentProcess, ms: number): Promise<number | string> {
  return Promise.race([a.exited(), new Promise<string>((r) => setTimeout(() => r('running'), ms).unref())]);
}

function tunnelCount(a: AgentProcess): number {
  return a.output().match(/Tunnel connection established/g)?.length ?? 0;
}

interface Bounded {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a command, killed after `timeoutMs` (a hang fails fast and says so). */
function runBounded(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<Bounded> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

async function join1(name: string, kc = kcA): Promise<{ credential: string; cluster: string }> {
  const { token, cluster } = await joinCommand(name, kc);
  const r = await req('POST', pathOf(agentBase(hub.hubURL, cluster, name)) + '/join', { token });
  if (r.status !== 200) throw new Error(`join ${name}: ${r.status} ${r.body}`);
  const body = r.json<{ token: string; cluster: string; edge: string; hubURL: string }>();
  expect(body).toMatchObject({ cluster, edge: name, hubURL: hub.hubURL });
  return { credential: body.token, cluster };
}

beforeAll(async () => {
  const up = edgeScript('up', edgeCluster);
  hub = await startTestHub([`${tenantA}=${tokenA}`, `${tenantB}=${tokenB}`]);
  for (const [kc, t] of [
    [kcA, tokenA],
    [kcB, tokenB],
  ] as const) {
    await kedgeLogin(hub.hubURL, t, hub.caFile, kc);
  }
  await up;
  edgeKubeconfig = (await edgeScript('kubeconfig', edgeCluster)).stdout.trim();
}, 240_000);

afterAll(async () => {
  for (const a of agentProcs) await a.kill().catch(() => {});
  for (const a of agents) await a.close().catch(() => {});
  await hub?.stop();
  await edgeScript('down', edgeCluster).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('kedge edge (CLI)', () => {
  it('creates, lists and gets edges; errors say what to do', async () => {
    const c = await kedge(['edge', 'create', 'e1', '--labels', 'region=eu,tier=edge', '--kubeconfig', kcA]);
    expect(c.stderr).toBe('');
    expect(c.stdout).toContain('edge/e1 created');
    expect((await kedge(['edge', 'create', 'e2', '--kubeconfig', kcA])).code).toBe(0);
    expect(
      (await kedge(['edge', 'create', 's1', '--type', 'server', '--ssh-port', '2222', '--kubeconfig', kcA])).code,
    ).toBe(0);
    const list = await kedge(['edge', 'list', '--kubeconfig', kcA]);
    expect(list.stdout).toMatch(/^NAME\s+TYPE\s+PHASE\s+CONNECTED\s+AGE\s+LABELS/);
    expect(list.stdout).toMatch(/\ne1\s+kubernetes\s+Pending\s+false\s+\S+\s+region=eu,tier=edge/);
    const got = JSON.parse((await kedge(['edge', 'get', 's1', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
      spec: unknown;
      metadata: { annotations: Record<string, string> };
    };
    expect(got.spec).toEqual({ type: 'server', server: { sshPort: 2222 } });
    lcA = got.metadata.annotations['kcp.io/cluster'] ?? '';
    expect(lcA).toMatch(/^[a-z0-9]+$/);
    const dup = await kedge(['edge', 'create', 'e1', '--kubeconfig', kcA]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists.*\[KEDGE_CLI_ALREADY_EXISTS\]/);
    const missing = await kedge(['edge', 'get', 'nope', '--kubeconfig', kcA]);
    expect(missing.stderr).toContain("edge nope not found: 'kedge edge list' shows your edges [KEDGE_CLI_NOT_FOUND]");
    const badType = await kedge(['edge', 'create', 'x', '--type', 'vm', '--kubeconfig', kcA]);
    expect(badType.stderr).toMatch(/--type must be kubernetes or server.*\[KEDGE_CLI_FLAGS_INVALID\]/);
    // Tenant B sees none of A's edges.
    expect((await kedge(['edge', 'list', '--kubeconfig', kcB])).stdout).toContain('No edges yet');
  });
});

describe('join', () => {
  it('exchanges a join token once; wrong, reused and expired tokens get 401', async () => {
    const { token, cluster } = await joinCommand('e2');
    expect(cluster).toBe(lcA);
    const path = pathOf(agentBase(hub.hubURL, cluster, 'e2')) + '/join';
    expect((await req('POST', path, {})).status).toBe(401);
    expect((await req('POST', path, { token: `${token}x` })).status).toBe(401);
    expect((await req('POST', path, { token: tokenA })).status).toBe(401);
    expect((await req('GET', path, { token })).status).toBe(405);
    // Another edge's path with this token.
    expect((await req('POST', pathOf(agentBase(hub.hubURL, cluster, 'e1')) + '/join', { token })).status).toBe(401);
    const [first, second] = await Promise.all([req('POST', path, { token }), req('POST', path, { token })]);
    expect([first.status, second.status].sort()).toEqual([200, 401]);
    expect((await req('POST', path, { token })).status).toBe(401);
    const ok = first.status === 200 ? first : second;
    expect(ok.json<{ token: string }>().token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(ok.body).not.toContain(token);

    const short = await joinCommand('e2', kcA, '1s');
    // Time passing is the condition itself here, and the token is single-use, so it cannot be polled: wait past its
    // 1 s lifetime once (bounded), then the one attempt must be refused.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await req('POST', path, { token: short.token })).status).toBe(401);
  });

  it('sets the Edge URL at join, and joining again returns the same credential', async () => {
    const a = await join1('e1');
    const b = await join1('e1');
    expect(b.credential).toBe(a.credential);
    const edge = JSON.parse((await kedge(['edge', 'get', 'e1', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
      status: { URL: string };
    };
    expect(edge.status.URL).toBe(
      `${hub.hubURL}/services/edges-proxy/clusters/${lcA}/apis/kedge.faros.sh/v1alpha1/edges/e1/k8s`,
    );
  });
});

describe('agent-proxy with the edge credential', () => {
  let cred1 = '';
  let cred2 = '';
  let base1 = '';
  beforeAll(async () => {
    cred1 = (await join1('e1')).credential;
    cred2 = (await join1('e2')).credential;
    base1 = pathOf(agentBase(hub.hubURL, lcA, 'e1'));
  }, 60_000);

  it("auth matrix: only this edge's credential reads this edge", async () => {
    const unsigned =
      [
        { alg: 'none', typ: 'JWT' },
        {
          iss: 'kubernetes/serviceaccount',
          sub: 'system:serviceaccount:kedge-system:edge-e1',
          'kubernetes.io/serviceaccount/clusterName': lcA,
        },
      ]
        .map((p) => Buffer.from(JSON.stringify(p)).toString('base64url'))
        .join('.') + '.x';
    const cases: [string | undefined, number][] = [
      [undefined, 401],
      ['garbage', 401],
      [unsigned, 401],
      [tokenA, 401],
      [cred2, 401],
      [cred1, 200],
    ];
    for (const [token, code] of cases) {
      const r = await req('GET', base1, token === undefined ? {} : { token });
      expect({ token: token?.slice(0, 8), code: r.status }).toEqual({ token: token?.slice(0, 8), code });
      if (code !== 200) {
        expect(r.json()).toMatchObject({
          kind: 'Status',
          code,
          details: { causes: [{ type: 'KEDGE_HUB_UNAUTHORIZED' }] },
        });
        expect(r.body).not.toContain('e1"'); // nothing about the edge leaks
      }
    }
    expect(JSON.parse((await req('GET', base1, { token: cred1 })).body)).toMatchObject({
      kind: 'Edge',
      metadata: { name: 'e1' },
    });
    // The credential is pinned to its workspace: the same edge name in tenant B's workspace refuses it.
    expect((await kedge(['edge', 'create', 'e1', '--kubeconfig', kcB])).code).toBe(0);
    const bEdge = JSON.parse((await kedge(['edge', 'get', 'e1', '-o', 'json', '--kubeconfig', kcB])).stdout) as {
      metadata: { annotations: Record<string, string> };
    };
    const lcB = bEdge.metadata.annotations['kcp.io/cluster'] ?? '';
    expect((await req('GET', pathOf(agentBase(hub.hubURL, lcB, 'e1')), { token: cred1 })).status).toBe(401);
  });

  it("allows only the contract's operations (403 otherwise)", async () => {
    for (const [method, rest] of [
      ['PUT', ''],
      ['DELETE', ''],
      ['GET', '/namespaces/kedge-system/secrets/edge-e1-token'],
      ['GET', '/k8s/api'],
      ['POST', '/placements'],
      ['GET', '/status'],
    ]) {
      const r = await req(method ?? 'GET', base1 + rest, { token: cred1, body: {} });
      expect({ method, rest, code: r.status }).toEqual({ method, rest, code: 403 });
    }
    expect((await req('GET', `${base1}/../e2`, { token: cred1 })).status).toBe(400);
    expect((await req('GET', `${base1}/%2e%2e/e2`, { token: cred1 })).status).toBe(400);
  });

  it('status: keeps agent-owned fields, stamps the heartbeat with the hub clock', async () => {
    const before = Date.now();
    const r = await req('PATCH', `${base1}/status`, {
      token: cred1,
      headers: { 'content-type': 'application/merge-patch+json' },
      body: {
        status: {
          hostname: 'pi-1',
          agentVersion: '9.9',
          phase: 'Ready',
          connected: true,
          lastHeartbeatTime: '2099-01-01T00:00:00Z',
          URL: 'https://evil',
        },
      },
    });
    expect(r.status).toBe(200);
    const st = r.json<{ status: Record<string, unknown> }>().status;
    expect(st).toMatchObject({ hostname: 'pi-1', agentVersion: '9.9' });
    expect(st.phase).not.toBe('Ready');
    expect(st.connected).not.toBe(true);
    expect(String(st.URL)).toContain('/services/edges-proxy/');
    expect(Date.parse(String(st.lastHeartbeatTime))).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(String(st.lastHeartbeatTime))).toBeLessThan(Date.now() + 1000);
  });

  it('placements: list, watch, status of its own only; VirtualWorkloads its placements reference', async () => {
    for (const [name, region] of [
      ['web', 'eu'],
      ['other', 'us'],
    ]) {
      const res = await kubectl(kcA, ['apply', '-f', '-'], {
        input: `apiVersion: kedge.faros.sh/v1alpha1\nkind: VirtualWorkload\nmetadata: {name: ${name}, namespace: default}\nspec:\n  simple: {image: nginx}\n  placement: {edgeSelector: {matchLabels: {region: ${region}}}}\n`,
      });
      expect(res.stderr).toBe('');
    }
    await kubectl(kcA, ['label', 'edge', 'e2', 'region=us']);
    type PL = {
      items: { metadata: { name: string; namespace: string; resourceVersion: string }; spec: { edgeName: string } }[];
      metadata: { resourceVersion: string };
    };
    const list = await eventually(
      async () => {
        const r = await req('GET', `${base1}/placements`, { token: cred1 });
        const l = r.json<PL>();
        if (l.items.length !== 1) throw new Error(`${l.items.length} placements`);
        return l;
      },
      { what: 'the placement of e1', timeoutMs: 60_000 },
    );
    expect(list.items[0]?.spec.edgeName).toBe('e1');
    // The caller's selector cannot widen the list.
    expect(
      (await req('GET', `${base1}/placements?labelSelector=&fieldSelector=`, { token: cred1 })).json<PL>().items,
    ).toHaveLength(1);
    const pl = list.items[0]!;
    const put = await req('PUT', `${base1}/namespaces/default/placements/${pl.metadata.name}/status`, {
      token: cred1,
      body: {
        metadata: { name: pl.metadata.name, namespace: 'default', resourceVersion: pl.metadata.resourceVersion },
        status: { phase: 'Running', readyReplicas: 1 },
      },
    });
    expect(put.status).toBe(200);
    expect(put.json<{ status: unknown }>().status).toMatchObject({ phase: 'Running', readyReplicas: 1 });
    const stale = await req('PUT', `${base1}/namespaces/default/placements/${pl.metadata.name}/status`, {
      token: cred1,
      body: { metadata: { resourceVersion: pl.metadata.resourceVersion }, status: { phase: 'Failed' } },
    });
    expect(stale.status).toBe(409);
    // e2's placement: invisible to e1 and not writable.
    const e2pl = await eventually(
      async () => {
        const l = (
          await req('GET', `${pathOf(agentBase(hub.hubURL, lcA, 'e2'))}/placements`, { token: cred2 })
        ).json<PL>();
        if (l.items.length !== 1) throw new Error('no placement for e2 yet');
        return l.items[0]!;
      },
      { what: 'the placement of e2', timeoutMs: 60_000 },
    );
    expect(
      (
        await req('PUT', `${base1}/namespaces/default/placements/${e2pl.metadata.name}/status`, {
          token: cred1,
          body: { status: { phase: 'Failed' } },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await req('PUT', `${base1}/namespaces/default/placements/does-not-exist/status`, {
          token: cred1,
          body: { status: {} },
        })
      ).status,
    ).toBe(403);
    expect(
      (await req('GET', `${base1}/namespaces/default/virtualworkloads/web`, { token: cred1 })).json(),
    ).toMatchObject({ kind: 'VirtualWorkload', metadata: { name: 'web' } });
    expect((await req('GET', `${base1}/namespaces/default/virtualworkloads/other`, { token: cred1 })).status).toBe(403);

    // A watch streams: a change to e1's placement arrives as an event.
    const events: string[] = [];
    const url = new URL(
      `${hub.hubURL}${base1}/placements?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`,
    );
    const ctl = new AbortController();
    const { request } = await import('node:https');
    const got = new Promise<void>((resolve, reject) => {
      const r = request(
        url,
        { headers: { authorization: `Bearer ${cred1}` }, ca: readFileSync(hub.caFile), signal: ctl.signal },
        (res) => {
          res.on('data', (c: Buffer) => {
            events.push(c.toString());
            if (events.join('').includes('"MODIFIED"')) resolve();
          });
          res.on('error', () => {});
        },
      );
      r.on('error', (e) => {
        if (!ctl.signal.aborted) reject(e);
      });
      r.end();
    });
    await kubectl(kcA, ['patch', 'vw', 'web', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await got;
    ctl.abort();
    expect(events.join('')).toContain(pl.metadata.name);
  }, 120_000);
});

describe('tunnel and edges-proxy', () => {
  let cred1 = '';
  let edgeKc = '';
  let base1 = '';
  const proxyBase = () => `/services/edges-proxy/clusters/${lcA}/apis/kedge.faros.sh/v1alpha1/edges`;
  let agent1: AgentProcess;
  beforeAll(async () => {
    agent1 = await realAgent('e1');
    cred1 = storedCredential(agent1);
    base1 = agentBase(hub.hubURL, lcA, 'e1');
    edgeKc = join(dir, 'e1.kubeconfig');
    const res = await kedge(['kubeconfig', 'edge', 'e1', '-o', edgeKc, '--kubeconfig', kcA]);
    if (res.code !== 0) throw new Error(res.stderr);
  }, 60_000);

  it('the tunnel makes the Edge Ready and connected', async () => {
    await eventually(
      async () => {
        const e = JSON.parse((await kedge(['edge', 'get', 'e1', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
          status: { phase: string; connected: boolean };
        };
        if (e.status.phase !== 'Ready' || !e.status.connected) throw new Error(JSON.stringify(e.status));
      },
      { what: 'e1 Ready', timeoutMs: 30_000 },
    );
  });

  it('refuses the tunnel without a valid credential or with an Origin', async () => {
    await expect(connectTunnel(base1, hub.caFile, 'garbage')).rejects.toThrow('401');
    await expect(connectTunnel(base1, hub.caFile, tokenA)).rejects.toThrow('401');
    const ws = new WebSocket(`${base1.replace(/^https/, 'wss')}/proxy`, {
      headers: { authorization: `Bearer ${cred1}`, origin: 'https://evil.example' },
      ca: readFileSync(hub.caFile),
    });
    const code = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    expect(code).toBe(403);
  });

  it('edges-proxy auth matrix', async () => {
    const nodes = `${proxyBase()}/e1/k8s/api/v1/nodes`;
    expect((await req('GET', nodes)).status).toBe(401);
    expect((await req('GET', nodes, { token: 'garbage-garbage-garbage' })).status).toBe(401);
    expect((await req('GET', nodes, { token: cred1 })).status).toBe(401); // an agent credential is not a user
    const other = await req('GET', nodes, { token: tokenB });
    expect(other.status).toBe(403);
    expect(other.body).not.toContain('kwok');
    expect((await req('GET', `${proxyBase()}/nope/k8s/api`, { token: tokenB })).status).toBe(403); // existence does not leak
    expect((await req('GET', `${proxyBase()}/nope/k8s/api`, { token: tokenA })).status).toBe(404);
    const down = await req('GET', `${proxyBase()}/e2/k8s/api`, { token: tokenA });
    expect([down.status, down.json()]).toMatchObject([
      502,
      { details: { causes: [{ type: 'KEDGE_HUB_EDGE_NOT_CONNECTED' }] } },
    ]);
    expect((await req('GET', `${proxyBase()}/s1/k8s/api`, { token: tokenA })).status).toBe(404);
    expect((await req('GET', `${proxyBase()}/e1/k8s/../../e2/k8s/api`, { token: tokenA })).status).toBe(400);
    const ok = await req('GET', nodes, { token: tokenA, headers: { 'impersonate-user': 'nobody' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('kwok-node-0');
  });

  it("/metrics counts the tunnel session, the edges-proxy outcomes and the controllers' work queues, with no edge names as labels", async () => {
    const res = await req('GET', '/metrics');
    expect(res.status).toBe(200);
    const valueIn = (body: string, series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN);
    const value = (series: string): number => valueIn(res.body, series);
    expect(value('kedge_hub_tunnel_sessions')).toBeGreaterThanOrEqual(1);
    expect(value('kedge_hub_tunnel_connects_total')).toBeGreaterThanOrEqual(1);
    expect(value('kedge_hub_edges_proxy_requests_total{outcome="forwarded"}')).toBeGreaterThanOrEqual(1);
    expect(value('kedge_hub_edges_proxy_requests_total{outcome="not_connected"}')).toBeGreaterThanOrEqual(1);
    expect(value('kedge_hub_agent_proxy_requests_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
    // The controllers' work queues (kedge_workqueue_*{name}): every series of both queues exists, and once the
    // controllers run, the Edge queue has taken and finished the Edges' keys.
    for (const name of ['workload', 'edge']) {
      for (const series of [
        'kedge_workqueue_depth',
        'kedge_workqueue_adds_total',
        'kedge_workqueue_retries_total',
        'kedge_workqueue_queue_duration_seconds_count',
        'kedge_workqueue_work_duration_seconds_count',
      ]) {
        expect({ series: `${series}{name="${name}"}`, present: value(`${series}{name="${name}"}`) >= 0 }).toEqual({
          series: `${series}{name="${name}"}`,
          present: true,
        });
      }
    }
    await hub.controllers?.whenRunning();
    await eventually(
      async () => {
        const body = (await req('GET', '/metrics')).body;
        const got = {
          adds: valueIn(body, 'kedge_workqueue_adds_total{name="edge"}'),
          worked: valueIn(body, 'kedge_workqueue_work_duration_seconds_count{name="edge"}'),
        };
        if (!(got.adds >= 1 && got.worked >= 1)) throw new Error(JSON.stringify(got));
      },
      { what: 'the edge work queue to count its keys' },
    );
    expect(res.body).not.toContain(lcA);
    expect(res.body).not.toContain('e1"');
  });

  it('kubectl through the hub: get nodes, apply (lands on the edge only), get -w streams', async () => {
    const nodes = await kubectl(edgeKc, ['get', 'nodes']);
    expect(nodes.stderr).toBe('');
    expect(nodes.stdout).toMatch(/kwok-node-0\s+Ready/);
    const apply = await kubectl(edgeKc, ['apply', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: via-hub, namespace: default}\ndata: {a: "1"}\n',
    });
    expect(apply.stdout).toContain('configmap/via-hub created');
    expect((await kubectl(edgeKubeconfig, ['get', 'cm', 'via-hub', '-o', 'jsonpath={.data.a}'])).stdout).toBe('1');
    expect((await kubectl(kcA, ['get', 'cm', 'via-hub'])).stderr).toContain('NotFound');

    const watch = spawn(
      join(toolsBin(), 'kubectl'),
      ['--kubeconfig', edgeKc, 'get', 'cm', '-w', '--output-watch-events'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    watch.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await eventually(
        async () => {
          if (!out.includes('via-hub')) throw new Error(out);
        },
        { what: 'watch started', timeoutMs: 20_000 },
      );
      await kubectl(edgeKubeconfig, ['create', 'cm', 'during-watch']);
      await eventually(
        async () => {
          if (!/ADDED\s+during-watch/.test(out)) throw new Error(out);
        },
        { what: 'watch event', timeoutMs: 20_000 },
      );
    } finally {
      watch.kill();
    }
  });

  it('logs, exec (WebSocket and SPDY) and port-forward', async () => {
    const logFile = join(dir, 'pod.log');
    writeFileSync(logFile, '2026-01-01T00:00:00.000000000Z stdout F hello from kwok\n');
    const echo: Server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as { port: number }).port;
    const kwokObjects = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: e2e-all}
spec: {selector: {}, logs: [{containers: [], logsFile: ${logFile}, follow: false}]}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {name: e2e-all}
spec: {selector: {}, execs: [{containers: [], local: {workDir: ${dir}}}]}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata: {name: e2e-all}
spec: {selector: {}, forwards: [{target: {address: 127.0.0.1, port: ${echoPort}}}]}
`;
    try {
      expect((await kubectl(edgeKubeconfig, ['apply', '-f', '-'], { input: kwokObjects })).code).toBe(0);
      expect((await kubectl(edgeKc, ['run', 'p1', '--image=busybox', '--restart=Never'])).code).toBe(0);
      await eventually(
        async () => {
          const r = await kubectl(edgeKc, ['get', 'pod', 'p1', '-o', 'jsonpath={.status.phase}']);
          if (r.stdout !== 'Running') throw new Error(r.stdout);
        },
        { what: 'pod Running', timeoutMs: 30_000 },
      );

      const logs = await eventually(
        async () => {
          const r = await kubectl(edgeKc, ['logs', 'p1']);
          if (!r.stdout.includes('hello from kwok')) throw new Error(r.stderr || r.stdout);
          return r;
        },
        { what: 'kubectl logs', timeoutMs: 20_000 },
      );
      expect(logs.stdout).toContain('hello from kwok');

      const execWS = await eventually(
        async () => {
          const r = await kubectl(edgeKc, ['exec', 'p1', '--', 'sh', '-c', 'echo out-$((6*7)); echo err >&2']);
          if (r.code !== 0) throw new Error(r.stderr);
          return r;
        },
        { what: 'kubectl exec', timeoutMs: 20_000 },
      );
      expect(execWS.stdout).toContain('out-42');
      expect(execWS.stderr).toContain('err');
      const execSPDY = await run(
        join(toolsBin(), 'kubectl'),
        ['--kubeconfig', edgeKc, 'exec', 'p1', '--', 'echo', 'spdy-ok'],
        { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
      );
      expect(execSPDY.stderr).toBe('');
      expect(execSPDY.stdout).toContain('spdy-ok');
      // stdin: a command that ends once it has read its input exits 0 with it, over WebSocket and SPDY, promptly.
      const input = 'piped-through-stdin';
      for (const websockets of ['true', 'false']) {
        const r = await runBounded(
          join(toolsBin(), 'kubectl'),
          ['--kubeconfig', edgeKc, 'exec', '-i', 'p1', '--', 'head', '-c', String(input.length)],
          { input, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets }, timeoutMs: 15_000 },
        );
        expect({ websockets, code: r.code, timedOut: r.timedOut, stdout: r.stdout }).toEqual({
          websockets,
          code: 0,
          timedOut: false,
          stdout: input,
        });
      }
      // `exec -i … -- cat` never ends on kwok, DIRECTLY against the edge API server too: kwok's local exec copies stdin
      // into the process's stdin pipe and never closes it at EOF (sigs.k8s.io/kwok pkg/utils/exec, v0.8.0), so cat
      // waits forever. Through the hub it behaves exactly as it does directly: the bytes arrive, the end does not.
      const kubectlBin = join(toolsBin(), 'kubectl');
      const [viaCat, directCat] = await Promise.all([
        runBounded(kubectlBin, ['--kubeconfig', edgeKc, 'exec', '-i', 'p1', '--', 'cat'], { input, timeoutMs: 4_000 }),
        runBounded(kubectlBin, ['--kubeconfig', edgeKubeconfig, 'exec', '-i', 'p1', '--', 'cat'], {
          input,
          timeoutMs: 4_000,
        }),
      ]);
      expect(directCat.stdout).toBe(input);
      expect(viaCat.stdout).toBe(input);
      expect(viaCat.timedOut).toBe(directCat.timedOut);
      // The exit status comes through as the edge reports it (kwok's local exec: compare with a direct call).
      const failing = await kubectl(edgeKc, ['exec', 'p1', '--', 'sh', '-c', 'exit 3']);
      const failingDirect = await kubectl(edgeKubeconfig, ['exec', 'p1', '--', 'sh', '-c', 'exit 3']);
      expect(failing.code).not.toBe(0);
      expect(failing.code).toBe(failingDirect.code);

      const pf = await portForward(edgeKc, ['pod/p1', ':80']);
      try {
        const localPort = pf.localPort;
        const payload = randomBytes(256 * 1024);
        const echoed = await new Promise<Buffer>((resolve, reject) => {
          const s = connect(localPort, '127.0.0.1');
          const chunks: Buffer[] = [];
          let n = 0;
          s.on('data', (c: Buffer) => {
            chunks.push(c);
            n += c.length;
            if (n >= payload.length) {
              s.destroy();
              resolve(Buffer.concat(chunks));
            }
          });
          s.on('error', reject);
          s.write(payload);
        });
        expect(echoed.equals(payload)).toBe(true);
      } finally {
        pf.stop();
      }
    } finally {
      echo.close();
    }
  }, 120_000);

  it('a garbage frame closes only that session; a new session replaces the old one', async () => {
    const cred2 = (await join1('e2')).credential;
    const base2 = agentBase(hub.hubURL, lcA, 'e2');
    const raw = await rawTunnel(base2, hub.caFile, cred2);
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.send(Buffer.from('this is not yamux at all, not even close......'));
    await closed;
    expect((await kubectl(edgeKc, ['get', 'nodes'])).stdout).toContain('kwok-node-0');

    // Another session with e1's credential replaces the agent's; the agent reconnects and replaces it in turn.
    const before = tunnelCount(agent1);
    const intruder = await connectTunnel(base1, hub.caFile, cred1, edgeKubeconfig);
    agents.push(intruder);
    await agent1.waitForOutput(
      /Tunnel connection established/,
      30_000,
      agent1.output().lastIndexOf('Tunnel connection established') + 1,
    );
    expect(tunnelCount(agent1)).toBe(before + 1);
    await eventually(
      async () => {
        if (!intruder.session.closed) throw new Error('still open');
      },
      { what: 'replaced session closed', timeoutMs: 10_000 },
    );
    await hub.edges?.tunnels.settled();
    const e = JSON.parse((await kedge(['edge', 'get', 'e1', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
      status: { phase: string };
    };
    expect(e.status.phase).toBe('Ready');
    expect((await kubectl(edgeKc, ['get', 'nodes'])).stdout).toContain('kwok-node-0');
  }, 60_000);

  it('stopping the agent makes the Edge Disconnected and the proxy answer 502', async () => {
    await agent1.stop();
    expect(await exitWithin(agent1, 15_000)).toBe(0);
    await eventually(
      async () => {
        const e = JSON.parse((await kedge(['edge', 'get', 'e1', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
          status: { phase: string; connected: boolean };
        };
        if (e.status.phase !== 'Disconnected' || e.status.connected) throw new Error(JSON.stringify(e.status));
      },
      { what: 'e1 Disconnected', timeoutMs: 30_000 },
    );
    expect((await req('GET', `${proxyBase()}/e1/k8s/api`, { token: tokenA })).status).toBe(502);
  });
});

describe('revocation', () => {
  let agent2: AgentProcess;

  it('rotate-credentials revokes the old credential and its tunnel: the agent exits 3; re-joined it works again', async () => {
    agent2 = await realAgent('e2');
    const credential = storedCredential(agent2);
    const base2 = agentBase(hub.hubURL, lcA, 'e2');
    const rot = await kedge(['edge', 'rotate-credentials', 'e2', '--kubeconfig', kcA]);
    expect(rot.stdout).toContain('is revoked');
    const m = /--token (\S+)/.exec(rot.stdout);
    await eventually(
      async () => {
        const r = await req('GET', pathOf(base2), { token: credential });
        if (r.status !== 401) throw new Error(String(r.status));
      },
      { what: 'old credential refused', timeoutMs: 40_000 },
    );
    await hub.edges?.tunnels.recheck();
    await eventually(
      async () => {
        if (hub.edges?.tunnels.session(lcA, 'e2')) throw new Error('open');
      },
      { what: 'revoked tunnel closed', timeoutMs: 10_000 },
    );
    expect(await exitWithin(agent2, 20_000)).toBe(3);
    expect(agent2.output()).toContain('kedge edge join-command e2');

    // The agent started again with the new join token: the stored credential is refused, it joins, the tunnel is back.
    const from = agent2.output().length;
    agent2.restart({ token: m?.[1] ?? '' });
    await agent2.waitForOutput(/Tunnel connection established/, 60_000, from);
    expect(storedCredential(agent2)).not.toBe(credential);
    await eventually(
      async () => {
        const e = JSON.parse((await kedge(['edge', 'get', 'e2', '-o', 'json', '--kubeconfig', kcA])).stdout) as {
          status: { phase: string };
        };
        if (e.status.phase !== 'Ready') throw new Error(e.status.phase);
      },
      { what: 'e2 Ready again', timeoutMs: 30_000 },
    );
  }, 120_000);

  it('deleting the Edge revokes its credential (GC) and closes its tunnel: the agent exits 3', async () => {
    const credential = storedCredential(agent2);
    const base2 = agentBase(hub.hubURL, lcA, 'e2');
    expect((await kedge(['edge', 'delete', 'e2', '--kubeconfig', kcA])).stdout).toContain('deleted');
    expect((await req('GET', pathOf(base2), { token: credential })).status).toBe(401);
    await hub.edges?.tunnels.recheck();
    await eventually(
      async () => {
        if (hub.edges?.tunnels.session(lcA, 'e2')) throw new Error('open');
      },
      { what: 'revoked tunnel closed', timeoutMs: 10_000 },
    );
    expect(await exitWithin(agent2, 20_000)).toBe(3);
    // Re-creating an Edge of the same name does not bring the old credential back.
    expect((await kedge(['edge', 'create', 'e2', '--kubeconfig', kcA])).code).toBe(0);
    await eventually(
      async () => {
        const r = await kubectl(kcA, ['get', 'serviceaccount', '-n', 'kedge-system', 'edge-e2']);
        if (r.code === 0) throw new Error('ServiceAccount not collected yet');
      },
      { what: 'garbage collection of the SA', timeoutMs: 40_000 },
    );
    expect((await req('GET', pathOf(base2), { token: credential })).status).toBe(401);
  }, 90_000);
});
