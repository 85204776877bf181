// Each caller's own rights on the edge (docs/agent-protocol.md "Identity on the edge"), on the real stack: kcp, the
// hub, a real `kedge-agent` and a real edge kube-apiserver (hack/edge-cluster.sh). The owner (tenant admin) acts as
// cluster-admin on the edge; bob, given `kedge:workspace:view` in the owner's workspace by `kedge workspace share
// <bob> --role view`, reads but may not delete or exec, and the edge API server names him in its refusal;
// whatever impersonation a caller asks for itself is dropped; unsharing ends his access at the hub. Also the
// workspace side of that view role against kcp itself: bob enters the workspace, lists but cannot create.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEdgeIdentity } from '../src/api/edge-identity.ts';
import { joinCommand, kedge, kedgeLogin, kubectl, kubectlOK, run } from './harness/cli.ts';
import { startAgent, startEdgeCluster, type AgentProcess, type EdgeCluster } from './harness/edges.ts';
import { loadTestEnv, tool } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const sfx = randomBytes(3).toString('hex');
const [owner, bob] = [`io-${sfx}`, `ib-${sfx}`];
const [ownerUser, bobUser] = [`kedge:static:${owner}`, `kedge:static:${bob}`];
const [tokenO, tokenB] = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
const dir = mkdtempSync(join(tmpdir(), 'kedge-edge-identity-'));
const [kcO, kcB] = [join(dir, 'owner.kubeconfig'), join(dir, 'bob.kubeconfig')];
const [edgeKcO, edgeKcB, kcpKcB] = [
  join(dir, 'owner-edge.kubeconfig'),
  join(dir, 'bob-edge.kubeconfig'),
  join(dir, 'bob-kcp.kubeconfig'),
];
let hub: TestHub;
let edge: EdgeCluster;
let agent: AgentProcess;
let lc = '';
let edgePath = '';

const hubReq = (path: string, opts: Parameters<typeof hubRequest>[4] = {}) =>
  hubRequest(hub.hubURL, hub.caFile, 'GET', path, opts);
const secrets = () => `${edgePath}/api/v1/namespaces/kube-system/secrets`;

beforeAll(async () => {
  const up = startEdgeCluster('eid');
  hub = await startTestHub([`${owner}=${tokenO}`, `${bob}=${tokenB}`]);
  await Promise.all([kedgeLogin(hub.hubURL, tokenO, hub.caFile, kcO), kedgeLogin(hub.hubURL, tokenB, hub.caFile, kcB)]);
  expect((await kedge(['edge', 'create', 'e1', '--kubeconfig', kcO])).code).toBe(0);
  const join = await joinCommand(kcO, 'e1');
  lc = join.cluster;
  edgePath = `/services/edges-proxy/clusters/${lc}/apis/kedge.faros.sh/v1alpha1/edges/e1/k8s`;
  edge = await up;
  agent = startAgent({
    hubURL: hub.hubURL,
    cluster: lc,
    edge: 'e1',
    token: join.token,
    kubeconfig: edge.kubeconfig,
    hubCAFile: hub.caFile,
  });
  // Pods to read, exec into and delete (kwok runs them; ClusterExec runs exec locally in `dir`).
  const setup = await kubectl(edge.kubeconfig, ['apply', '-f', '-'], {
    input: `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {name: e2e-all}
spec: {selector: {}, execs: [{containers: [], local: {workDir: ${dir}}}]}
${['p1', 'p2'].map((p) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${p}, namespace: default}\nspec: {containers: [{name: c, image: busybox}]}\n`).join('')}`,
  });
  if (setup.code !== 0) throw new Error(setup.stderr);
  await agent.waitForOutput(/Tunnel connection established/, 60_000);
  const res = await kedge(['kubeconfig', 'edge', 'e1', '-o', edgeKcO, '--kubeconfig', kcO]);
  if (res.code !== 0) throw new Error(res.stderr);
  // bob's kubeconfig for the owner's edge: the same server, bob's own token (what he would get once shared).
  writeFileSync(edgeKcB, readFileSync(edgeKcO, 'utf8').replace(tokenO, tokenB), { mode: 0o600 });
  // bob straight at kcp in the owner's workspace: kcp authenticates him through the hub's TokenReview webhook.
  const env = loadTestEnv();
  writeFileSync(
    kcpKcB,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kcp',
          cluster: {
            server: `${env.kcpURL}/clusters/root:kedge:tenants:${owner}`,
            'certificate-authority': env.kcpCAFile,
          },
        },
      ],
      users: [{ name: 'bob', user: { token: tokenB } }],
      contexts: [{ name: 'kcp', context: { cluster: 'kcp', user: 'bob' } }],
      'current-context': 'kcp',
    }),
    { mode: 0o600 },
  );
}, 240_000);

afterAll(async () => {
  await agent?.kill().catch(() => {});
  await hub?.stop();
  await edge?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Whoami {
  status: { userInfo: { username: string; uid?: string; groups: string[] } };
}

describe('identity on the edge', () => {
  it('the agent created the default edge RBAC once, labelled as its own', async () => {
    const crbs = JSON.parse(
      await kubectlOK(edge.kubeconfig, [
        'get',
        'clusterrolebindings',
        '-l',
        'app.kubernetes.io/managed-by=kedge-agent',
        '-o',
        'json',
      ]),
    ) as {
      items: { metadata: { name: string }; roleRef: { name: string }; subjects: { kind: string; name: string }[] }[];
    };
    expect(crbs.items.map((b) => [b.metadata.name, b.roleRef.name, b.subjects]).sort()).toEqual([
      [
        'kedge:edge:admin',
        'cluster-admin',
        [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:admin' }],
      ],
      ['kedge:edge:edit', 'edit', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:edit' }]],
      ['kedge:edge:view', 'view', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:view' }]],
    ]);
    expect(agent.output().match(/created the default edge RBAC/g)).toHaveLength(1);
  });

  it('the owner acts as itself with the admin role: whoami, get, exec and delete pods', async () => {
    const who = JSON.parse(await kubectlOK(edgeKcO, ['auth', 'whoami', '-o', 'json'])) as Whoami;
    expect(who.status.userInfo.username).toBe(ownerUser);
    expect(who.status.userInfo.uid).toBe(`static-${owner}`);
    expect(who.status.userInfo.groups).toEqual(
      expect.arrayContaining(['kedge:users', `kedge:tenant:${owner}`, 'kedge:edge:admin', 'system:authenticated']),
    );
    expect(who.status.userInfo.groups.filter((g) => g.startsWith('kedge:edge:'))).toEqual(['kedge:edge:admin']);
    expect(await kubectlOK(edgeKcO, ['get', 'pods'])).toMatch(/p1\s/);
    const exec = await eventually(
      async () => {
        const r = await kubectl(edgeKcO, ['exec', 'p1', '--', 'sh', '-c', 'echo out-$((6*7))']);
        if (r.code !== 0) throw new Error(r.stderr);
        return r;
      },
      { what: 'owner exec', timeoutMs: 30_000 },
    );
    expect(exec.stdout).toContain('out-42');
    expect((await kubectl(edgeKcO, ['delete', 'pod', 'p2', '--wait=false'])).stdout).toContain('pod "p2" deleted');
  });

  it('bob, not shared, is refused by the hub', async () => {
    const r = await hubReq(`${edgePath}/api/v1/namespaces/default/pods`, { token: tokenB });
    expect(r.status).toBe(403);
    expect(r.body).toContain(`${bobUser} may not proxy to edge e1`);
  });

  it("shared as view (kedge:workspace:view): bob enters the owner's workspace at kcp, lists VirtualWorkloads, cannot create", async () => {
    const shared = await kedge(['workspace', 'share', bobUser, '--role', 'view', '--kubeconfig', kcO]);
    expect(shared.stderr).toBe('');
    expect(shared.stdout).toContain(`with user ${bobUser} as view`);
    const list = await eventually(
      async () => {
        const r = await kubectl(kcpKcB, ['get', 'virtualworkloads', '-A']);
        if (r.code !== 0) throw new Error(r.stderr);
        return r;
      },
      { what: 'bob lists VirtualWorkloads', timeoutMs: 20_000 },
    );
    expect(list.stderr).toContain('No resources found');
    const create = await kubectl(kcpKcB, ['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'kedge.faros.sh/v1alpha1',
        kind: 'VirtualWorkload',
        metadata: { name: 'nope', namespace: 'default' },
        spec: { simple: { image: 'nginx' } },
      }),
    });
    expect(create.code).not.toBe(0);
    expect(create.stderr).toMatch(/forbidden/i);
    // `kubectl ws` (kcp's plugin): bob switches into the owner's workspace by path and is shown there.
    const wsKc = join(dir, 'bob-ws.kubeconfig');
    writeFileSync(
      wsKc,
      readFileSync(kcpKcB, 'utf8').replace(`/clusters/root:kedge:tenants:${owner}`, '/clusters/root'),
    );
    const use = await run(tool('kubectl'), ['ws', 'use', `:root:kedge:tenants:${owner}`], {
      env: { KUBECONFIG: wsKc },
    });
    expect({ code: use.code, out: use.stdout + use.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`root:kedge:tenants:${owner}`),
    });
    const cur = await run(tool('kubectl'), ['ws', '.'], { env: { KUBECONFIG: wsKc } });
    expect({ code: cur.code, out: cur.stdout + cur.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining(`root:kedge:tenants:${owner}`),
    });
  });

  it('bob, shared as view, reads on the edge as himself; delete and exec are Forbidden by the edge, naming him', async () => {
    const pods = await eventually(
      async () => {
        const r = await kubectl(edgeKcB, ['get', 'pods']);
        if (r.code !== 0) throw new Error(r.stderr);
        return r.stdout;
      },
      { what: 'bob reads pods through the hub (the hub caches a denial briefly)', timeoutMs: 20_000 },
    );
    expect(pods).toMatch(/p1\s/);
    const who = JSON.parse(await kubectlOK(edgeKcB, ['auth', 'whoami', '-o', 'json'])) as Whoami;
    expect(who.status.userInfo.username).toBe(bobUser);
    expect(who.status.userInfo.groups).toEqual(
      expect.arrayContaining([`kedge:tenant:${bob}`, `kedge:tenant:${owner}`, 'kedge:edge:view']),
    );
    expect(who.status.userInfo.groups.filter((g) => g.startsWith('kedge:edge:'))).toEqual(['kedge:edge:view']);
    const del = await kubectl(edgeKcB, ['delete', 'pod', 'p1', '--wait=false']);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain(`User "${bobUser}" cannot delete resource "pods"`);
    const exec = await kubectl(edgeKcB, ['exec', 'p1', '--', 'echo', 'hi']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain(`User "${bobUser}" cannot create resource "pods/exec"`);
    expect(exec.stdout).not.toContain('hi');
  });

  it("a caller's own Impersonate-* or kedge-identity headers give it nothing more", async () => {
    // Reading kube-system Secrets needs more than view: the owner may, bob may not, whatever he asserts.
    expect((await hubReq(secrets(), { token: tokenO })).status).toBe(200);
    const forged = encodeEdgeIdentity({ user: ownerUser, groups: ['kedge:users'], tenant: owner, role: 'admin' });
    const attempts: Record<string, string>[] = [
      { 'impersonate-user': 'system:admin' },
      { 'impersonate-user': ownerUser, 'impersonate-group': 'system:masters' },
      { 'impersonate-group': 'kedge:edge:admin' },
      { 'kedge-identity': forged },
    ];
    for (const headers of attempts) {
      const r = await hubReq(secrets(), { token: tokenB, headers });
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(r.body).toContain(`User \\"${bobUser}\\" cannot list resource \\"secrets\\"`);
    }
  });

  it('unshared, bob is refused by the hub again', async () => {
    const unshared = await kedge(['workspace', 'unshare', bobUser, '--kubeconfig', kcO]);
    expect(unshared.stdout).toContain(`from user ${bobUser}`);
    await eventually(
      async () => {
        const r = await hubReq(`${edgePath}/api/v1/namespaces/default/pods`, { token: tokenB });
        if (r.status !== 403) throw new Error(`${r.status}`);
      },
      { what: 'the hub to refuse bob (its allow cache expires)', timeoutMs: 20_000 },
    );
  });
});
