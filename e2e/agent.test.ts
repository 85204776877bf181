// The agent end to end: real kcp + in-process hub (controllers on) + two edge clusters (eu, us) + two real
// `kedge-agent` child processes joined with `kedge edge join-command`. Workloads land by label, turn Ready (kwok),
// move on relabel, come back when their namespace is deleted on the edge and are cleaned up (also while an agent
// was down); agents survive kills, hub restarts, local API server restarts and a silently cut TCP connection
// (keepalive), and exit when their credential is revoked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hub } from '../src/hub/hub.ts';
import { startTestHub as startHarnessHub } from './harness/hub.ts';
import type { Edge, Placement, VirtualWorkload } from '../src/api/types.ts';
import type { Deployment } from '../src/agent/workload/desired.ts';
import { isNotFound } from '../src/kube/api-error.ts';
import { joinCommand, kedge, kedgeLogin, kubectl, kubectlJSON, kubectlOK } from './harness/cli.ts';
import {
  startAgent,
  startEdgeCluster,
  startRelay,
  type AgentProcess,
  type EdgeCluster,
  type FreezableRelay,
} from './harness/edges.ts';
import { loadTestEnv } from './harness/env.ts';
import { eventually } from './harness/http.ts';

const sfx = randomBytes(3).toString('hex');
const tenant = `ag-${sfx}`;
const userToken = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-agent-e2e-'));
const kc = join(dir, 'user.kubeconfig');
const env = loadTestEnv();
const hubURL = `https://127.0.0.1:${env.hubPort}`;

let hub: Hub | undefined;
let eu: EdgeCluster;
let us: EdgeCluster;
let relay: FreezableRelay;
let cluster = '';
const agents: Record<'eu' | 'us', AgentProcess | undefined> = { eu: undefined, us: undefined };

function startTestHub(): Promise<Hub> {
  return startHarnessHub([`${tenant}=${userToken}`], { controllers: { heartbeatIntervalMs: 5_000 } });
}

const k = (args: string[], input?: string): Promise<string> => kubectlOK(kc, args, input);
const getJSON = <T>(args: string[]): Promise<T> => kubectlJSON<T>(kc, args);

async function joinToken(edge: string): Promise<{ token: string; cluster: string }> {
  return joinCommand(kc, edge);
}

async function edgeStatus(name: string): Promise<NonNullable<Edge['status']>> {
  return (await getJSON<Edge>(['get', 'edge', name])).status ?? {};
}

async function waitEdge(name: string, phase: 'Ready' | 'Disconnected', timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  await eventually(
    async () => {
      const s = await edgeStatus(name);
      if (s.phase !== phase) throw new Error(`edge ${name} is ${s.phase}`);
    },
    { what: `edge ${name} ${phase}`, timeoutMs, intervalMs: 250 },
  );
  return Date.now() - t0;
}

async function localDeployment(c: EdgeCluster, ns: string, name: string): Promise<Deployment | undefined> {
  try {
    return await c.client.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function vwYAML(name: string, region: string, extra: Partial<VirtualWorkload['spec']> = {}): string {
  return JSON.stringify({
    apiVersion: 'kedge.faros.sh/v1alpha1',
    kind: 'VirtualWorkload',
    metadata: { name, namespace: 'default' },
    spec: {
      simple: { image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 80 }] },
      placement: { edgeSelector: { matchLabels: { region } } },
      ...extra,
    },
  });
}

function agentFor(
  edge: 'eu' | 'us',
  url: string,
  token: string | undefined,
  c: EdgeCluster,
  stateDir?: string,
): AgentProcess {
  return startAgent({
    hubURL: url,
    cluster,
    edge,
    token,
    kubeconfig: c.kubeconfig,
    hubCAFile: env.hubCAFile,
    stateDir,
  });
}

beforeAll(async () => {
  const clusters = Promise.all([startEdgeCluster(`eu-${sfx}`), startEdgeCluster(`us-${sfx}`)]);
  hub = await startTestHub();
  await kedgeLogin(hubURL, userToken, env.hubCAFile, kc);
  for (const [name, region] of [
    ['eu', 'eu'],
    ['us', 'us'],
  ] as const) {
    const r = await kedge(['edge', 'create', name, '--labels', `region=${region}`, '--kubeconfig', kc]);
    if (r.code !== 0) throw new Error(`edge create ${name}: ${r.stderr}`);
  }
  [eu, us] = await clusters;
  relay = await startRelay(env.hubPort);
}, 300_000);

afterAll(async () => {
  for (const a of Object.values(agents)) await a?.kill().catch(() => {});
  await hub?.stop();
  await relay?.close();
  await Promise.allSettled([eu?.stop(), us?.stop()]);
  if (!process.env.KEDGE_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('kedge-agent', () => {
  it('joins with the join command, stores the credential 0600, and the Edges turn Ready with facts', async () => {
    const euJoin = await joinToken('eu');
    cluster = euJoin.cluster;
    const usJoin = await joinToken('us');
    agents.eu = agentFor('eu', hubURL, euJoin.token, eu);
    // The us agent goes through a relay the keepalive test freezes later.
    agents.us = agentFor('us', `https://127.0.0.1:${relay.port}`, usJoin.token, us);
    await Promise.all([waitEdge('eu', 'Ready', 60_000), waitEdge('us', 'Ready', 60_000)]);
    const s = await eventually(
      async () => {
        const st = await edgeStatus('eu');
        if (!st.kubernetesVersion) throw new Error('no facts yet');
        return st;
      },
      { what: 'edge facts' },
    );
    expect(s).toMatchObject({
      connected: true,
      agentVersion: expect.any(String),
      hostname: expect.any(String),
      kubernetesVersion: 'v1.36.4',
    });
    expect(s.lastHeartbeatTime).toBeDefined();
    const credFile = join(agents.eu.opts.stateDir, 'credential.json');
    expect(statSync(credFile).mode & 0o777).toBe(0o600);
    expect(agents.eu.output()).not.toContain(euJoin.token);
  }, 120_000);

  it('places a VirtualWorkload with edgeSelector region=eu on the eu edge only; it turns Ready and the hub shows Running', async () => {
    await k(['apply', '-f', '-'], vwYAML('web', 'eu'));
    const dep = await eventually(
      async () => {
        const d = await localDeployment(eu, 'default', 'web');
        if (d?.status?.readyReplicas !== 1) throw new Error(`eu deployment ${JSON.stringify(d?.status)}`);
        return d;
      },
      { what: 'Deployment web Ready on eu', timeoutMs: 60_000 },
    );
    expect(dep.metadata.labels).toMatchObject({
      'kedge.faros.sh/placement': 'web-eu',
      'kedge.faros.sh/virtualworkload': 'web',
      'kedge.faros.sh/cluster': cluster,
    });
    expect(dep.metadata.annotations?.['kedge.faros.sh/placement-uid']).toBeDefined();
    const svc = await eu.client.get<{ spec: { ports: { port: number }[] } } & { metadata: { name: string } }>(
      '/api/v1/namespaces/default/services/web',
    );
    expect(svc.spec.ports[0]?.port).toBe(80);
    const vw = await eventually(
      async () => {
        const v = await getJSON<VirtualWorkload>(['get', 'vw', 'web']);
        if (v.status?.phase !== 'Running') throw new Error(`vw ${JSON.stringify(v.status)}`);
        return v;
      },
      { what: 'VW web Running', timeoutMs: 60_000 },
    );
    expect(vw.status?.readyReplicas).toBe(1);
    const table = await k(['get', 'vw', 'web']);
    expect(table).toMatch(/web\s+Running\s+1\s+1/);
    const pl = await getJSON<Placement>(['get', 'placements.kedge.faros.sh', 'web-eu']);
    expect(pl.status).toMatchObject({
      phase: 'Running',
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: pl.metadata.generation,
    });
    expect(await localDeployment(us, 'default', 'web')).toBeUndefined();
  }, 120_000);

  it('moves the workload when the edges are relabelled', async () => {
    await k(['label', 'edge', 'eu', 'region=ap', '--overwrite']);
    await k(['label', 'edge', 'us', 'region=eu', '--overwrite']);
    await eventually(
      async () => {
        const d = await localDeployment(us, 'default', 'web');
        if (d?.status?.readyReplicas !== 1) throw new Error('not on us yet');
        if (await localDeployment(eu, 'default', 'web')) throw new Error('still on eu');
      },
      { what: 'web moved from eu to us', timeoutMs: 60_000 },
    );
    await eventually(
      async () => {
        const v = await getJSON<VirtualWorkload>(['get', 'vw', 'web']);
        if (v.status?.phase !== 'Running' || v.status.edges?.[0]?.edgeName !== 'us')
          throw new Error(JSON.stringify(v.status));
      },
      { what: 'VW Running on us' },
    );
    await k(['label', 'edge', 'eu', 'region=eu', '--overwrite']);
    await k(['label', 'edge', 'us', 'region=us', '--overwrite']);
    await eventually(
      async () => {
        if ((await localDeployment(eu, 'default', 'web'))?.status?.readyReplicas !== 1)
          throw new Error('not back on eu');
        if (await localDeployment(us, 'default', 'web')) throw new Error('still on us');
      },
      { what: 'web back on eu', timeoutMs: 60_000 },
    );
  }, 180_000);

  it('serves kubectl through the hub as the calling user, impersonated by the agent (kedge kubeconfig edge)', async () => {
    const edgeKc = join(dir, 'eu-edge.kubeconfig');
    const r = await kedge(['kubeconfig', 'edge', 'eu', '-o', edgeKc, '--kubeconfig', kc]);
    if (r.code !== 0) throw new Error(`kedge kubeconfig edge: ${r.stderr}`);
    const dep = await kubectl(edgeKc, ['get', 'deployment', 'web', '-n', 'default', '-o', 'json']);
    expect(dep.stderr).toBe('');
    expect((JSON.parse(dep.stdout) as Deployment).status?.readyReplicas).toBe(1);
    const who = await kubectl(edgeKc, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    // The edge sees the hub's user (impersonated with the agent's own credentials), never the hub user's token.
    expect(who.stdout).toBe(`kedge:static:${tenant}`);
  }, 60_000);

  it('recreates a namespace deleted on the edge: the workload comes back and its Placement is Running again', async () => {
    // Issue 7: the agent cached "namespace made" for its lifetime, so after the namespace was deleted on the edge
    // every apply failed (404) and the Placement stayed Failed until the agent restarted.
    await k(['create', 'namespace', 'gone']);
    await k(['apply', '-f', '-'], vwYAML('nsweb', 'eu').replace('"namespace":"default"', '"namespace":"gone"'));
    const before = await eventually(
      async () => {
        const d = await localDeployment(eu, 'gone', 'nsweb');
        if (d?.status?.readyReplicas !== 1) throw new Error(`eu deployment ${JSON.stringify(d?.status)}`);
        return d;
      },
      { what: 'Deployment gone/nsweb Ready on eu', timeoutMs: 60_000 },
    );
    await kubectlOK(eu.kubeconfig, ['delete', 'namespace', 'gone', '--wait=true', '--timeout=90s']);
    const after = await eventually(
      async () => {
        const d = await localDeployment(eu, 'gone', 'nsweb');
        if (d === undefined || d.metadata.uid === before.metadata.uid) throw new Error('no new Deployment yet');
        if (d.status?.readyReplicas !== 1) throw new Error(`new deployment ${JSON.stringify(d.status)}`);
        return d;
      },
      { what: 'Deployment gone/nsweb made again and Ready', timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(after.metadata.namespace).toBe('gone');
    await eventually(
      async () => {
        const pl = await getJSON<Placement>(['get', 'placements.kedge.faros.sh', 'nsweb-eu', '-n', 'gone']);
        if (pl.status?.phase !== 'Running' || pl.status.readyReplicas !== 1)
          throw new Error(`placement ${JSON.stringify(pl.status)}`);
      },
      { what: 'Placement gone/nsweb-eu Running again', timeoutMs: 60_000 },
    );
    await k(['delete', 'vw', 'nsweb', '-n', 'gone', '--wait=true']);
  }, 240_000);

  it('a killed agent makes its Edge Disconnected within seconds; restarted without a join token it is Ready again', async () => {
    const a = agents.eu;
    if (!a) throw new Error('no agent');
    const credBefore = readFileSync(join(a.opts.stateDir, 'credential.json'), 'utf8');
    await a.kill();
    const down = await waitEdge('eu', 'Disconnected', 15_000);
    a.restart();
    const up = await waitEdge('eu', 'Ready', 30_000);
    expect(readFileSync(join(a.opts.stateDir, 'credential.json'), 'utf8')).toBe(credBefore);
    process.stderr.write(`[agent e2e] kill → Disconnected ${down} ms, restart → Ready ${up} ms\n`);
    expect(down).toBeLessThan(5_000);
  }, 90_000);

  it('removes local objects of Placements deleted while the agent was down', async () => {
    await k(['apply', '-f', '-'], vwYAML('batch', 'eu', { replicas: 2 }));
    await eventually(
      async () => {
        if ((await localDeployment(eu, 'default', 'batch'))?.status?.readyReplicas !== 2) throw new Error('not ready');
      },
      { what: 'batch Ready on eu', timeoutMs: 60_000 },
    );
    const a = agents.eu;
    if (!a) throw new Error('no agent');
    await a.stop();
    await k(['delete', 'vw', 'batch', '--wait=true']);
    await eventually(
      async () => {
        const pls = await getJSON<{ items: Placement[] }>(['get', 'placements.kedge.faros.sh']);
        if (pls.items.some((p) => p.spec.workloadRef.name === 'batch')) throw new Error('placement still there');
      },
      { what: 'batch placements gone' },
    );
    expect(await localDeployment(eu, 'default', 'batch')).toBeDefined(); // nobody removed it while the agent was down
    a.restart();
    await eventually(
      async () => {
        if (await localDeployment(eu, 'default', 'batch')) throw new Error('orphan still there');
      },
      { what: 'orphan batch removed after restart', timeoutMs: 30_000 },
    );
    expect((await localDeployment(eu, 'default', 'web'))?.status?.readyReplicas).toBe(1); // the live one is kept
  }, 150_000);

  it('survives a restart of its local API server and applies changes afterwards', async () => {
    await eu.restartApiServer({ downMs: 3_000 });
    await k(['patch', 'vw', 'web', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await eventually(
      async () => {
        const d = await localDeployment(eu, 'default', 'web');
        if (d?.spec?.replicas !== 2 || d.status?.readyReplicas !== 2) throw new Error(JSON.stringify(d?.status));
      },
      { what: 'web scaled to 2 on eu after the API server restart', timeoutMs: 60_000 },
    );
    await eventually(
      async () => {
        const v = await getJSON<VirtualWorkload>(['get', 'vw', 'web']);
        if (v.status?.phase !== 'Running' || v.status.readyReplicas !== 2) throw new Error(JSON.stringify(v.status));
      },
      { what: 'VW Running with 2 ready' },
    );
    expect(agents.eu?.child?.exitCode).toBeNull();
  }, 120_000);

  it('reconnects every agent after a hub restart, and nothing is lost', async () => {
    const marks = Object.values(agents).map((a) => [a, a?.output().length ?? 0] as const);
    await hub?.stop();
    hub = undefined;
    for (const [a, mark] of marks) await a?.waitForOutput(/tunnel session lost|tunnel dial failed/, 30_000, mark);
    hub = await startTestHub();
    for (const [a, mark] of marks) await a?.waitForOutput(/Tunnel connection established/, 60_000, mark);
    await Promise.all([waitEdge('eu', 'Ready', 60_000), waitEdge('us', 'Ready', 60_000)]);
    const v = await getJSON<VirtualWorkload>(['get', 'vw', 'web']);
    expect(v.status).toMatchObject({ phase: 'Running', readyReplicas: 2 });
    expect((await localDeployment(eu, 'default', 'web'))?.status?.readyReplicas).toBe(2);
    expect(agents.eu?.child?.exitCode).toBeNull();
    expect(agents.us?.child?.exitCode).toBeNull();
  }, 150_000);

  it('detects a connection cut without a close (frozen relay) by keepalive, and comes back when it thaws', async () => {
    const a = agents.us;
    if (!a) throw new Error('no agent');
    const mark = a.output().length;
    const t0 = Date.now();
    relay.freeze();
    await a.waitForOutput(/KEDGE_TUNNEL_KEEPALIVE_TIMEOUT/, 15_000, mark);
    const agentDetect = Date.now() - t0;
    const hubDetect = (await waitEdge('us', 'Disconnected', 45_000)) + agentDetect;
    relay.cutAll();
    relay.thaw();
    const back = await waitEdge('us', 'Ready', 60_000);
    process.stderr.write(
      `[agent e2e] frozen relay: agent detected in ${agentDetect} ms, hub marked Disconnected after ~${hubDetect} ms, Ready again ${back} ms after thaw\n`,
    );
    expect(agentDetect).toBeLessThan(6_000);
  }, 150_000);

  it('exits with a clear message when its Edge is deleted (credential revoked)', async () => {
    const a = agents.us;
    if (!a) throw new Error('no agent');
    const r = await kedge(['edge', 'delete', 'us', '--kubeconfig', kc]);
    expect(r.code).toBe(0);
    const code = await Promise.race([a.exited(), new Promise((res) => setTimeout(() => res('timeout'), 60_000))]);
    expect(code).toBe(3);
    expect(a.output()).toContain('get a new join command');
  }, 90_000);
});

// Local-cluster kubeconfigs the agent reads through client-node: an exec credential plugin, and a $KUBECONFIG list.
// These run last, on the us cluster: the us agent has exited by then (its Edge was deleted), and with -t alone the
// cluster was never used. Each joins a new Edge, so the join itself goes through the kubeconfig under test.
describe('kedge-agent local kubeconfigs', () => {
  async function joinOnUs(edge: string, local: { kubeconfig?: string; env?: Record<string, string> }): Promise<void> {
    const r = await kedge(['edge', 'create', edge, '--labels', `region=${edge}`, '--kubeconfig', kc]);
    if (r.code !== 0) throw new Error(`edge create ${edge}: ${r.stderr}`);
    const j = await joinToken(edge);
    const a = startAgent({ hubURL, cluster: j.cluster, edge, token: j.token, hubCAFile: env.hubCAFile, ...local });
    try {
      await waitEdge(edge, 'Ready', 60_000);
      await k(['apply', '-f', '-'], vwYAML(`w-${edge}`, edge));
      await eventually(
        async () => {
          const d = await localDeployment(us, 'default', `w-${edge}`);
          if (d?.status?.readyReplicas !== 1) throw new Error(`deployment ${JSON.stringify(d?.status)}`);
        },
        { what: `Deployment w-${edge} Ready on the us cluster`, timeoutMs: 60_000 },
      );
      await eventually(
        async () => {
          const v = await getJSON<VirtualWorkload>(['get', 'vw', `w-${edge}`]);
          if (v.status?.phase !== 'Running') throw new Error(`vw ${JSON.stringify(v.status)}`);
        },
        { what: `VW w-${edge} Running`, timeoutMs: 60_000 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nagent output:\n${a.output().slice(-4000)}`, { cause: err });
    } finally {
      await a.stop();
      await kubectl(kc, ['delete', 'vw', `w-${edge}`, '--ignore-not-found', '--wait=false']);
    }
  }

  it('joins with a kubeconfig whose user is an exec plugin printing an ExecCredential', async () => {
    const runs = join(dir, 'exec-plugin.runs');
    const plugin = join(dir, 'exec-plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh
echo run >> '${runs}'
printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${us.token}"}}'
`,
      { mode: 0o755 },
    );
    const execKc = join(dir, 'exec.kubeconfig');
    writeFileSync(
      execKc,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'edge',
        clusters: [{ name: 'edge', cluster: { server: us.server, 'certificate-authority': us.caFile } }],
        users: [
          {
            name: 'plugin',
            user: {
              exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
            },
          },
        ],
        contexts: [{ name: 'edge', context: { cluster: 'edge', user: 'plugin' } }],
      }),
      { mode: 0o600 },
    );
    await joinOnUs(`ex-${sfx}`, { kubeconfig: execKc });
    // The credential has no expiry: client-node caches it, so one agent process runs the plugin once.
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['run']);
  }, 180_000);

  it('joins with KUBECONFIG=a:b, the context and cluster in one file and the user in the other', async () => {
    const a = join(dir, 'split-a.kubeconfig');
    const b = join(dir, 'split-b.kubeconfig');
    writeFileSync(
      a,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'edge',
        clusters: [{ name: 'edge', cluster: { server: us.server, 'certificate-authority': us.caFile } }],
        contexts: [{ name: 'edge', context: { cluster: 'edge', user: 'admin' } }],
      }),
      { mode: 0o600 },
    );
    writeFileSync(
      b,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'elsewhere',
        users: [{ name: 'admin', user: { token: us.token } }],
      }),
      { mode: 0o600 },
    );
    await joinOnUs(`split-${sfx}`, { env: { KUBECONFIG: `${a}:${b}` } });
  }, 180_000);
});
