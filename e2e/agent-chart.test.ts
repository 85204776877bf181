// The kedge-agent Helm chart (deploy/charts/kedge-agent) on the real stack: helm lint and template for each values
// profile, every rendered object judged by a real kube-apiserver (server-side dry-run), and a real install into the
// real-node edge cluster (docs/real-node.md) from the lines `kedge edge join-command` prints. The pods run the
// kedge-agent image built from the Dockerfile (hack/images/build.sh) and imported into the node's containerd, with
// the chart's ServiceAccount and RBAC only. Two replicas elect one tunnel holder through a Lease; deleting the leader
// hands the tunnel to the standby, deleting every pod makes the new ones reuse the credential kept in a Secret, and the
// spent join token is refused. The CLI image (`kedge`) runs `kedge version` in a pod beside them.
//
// The hub of this suite listens on 127.0.0.1 (kcp's webhook trusts that address and the harness CA), so the agent pods
// run with hostNetwork=true: the node's loopback is the hub's. The chart offers hostNetwork for real sites too.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kedge, kedgeLogin, kubectl, kubectlJSON, kubectlOK, run } from './harness/cli.ts';
import { startAgent, startEdgeCluster, type EdgeCluster } from './harness/edges.ts';
import { toolsBin } from './harness/env.ts';
import { helm, helmLint, helmTemplate, serverDryRun, HelmError } from './harness/helm.ts';
import { eventually } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { condition, edgeStatus } from './harness/ssh.ts';
import { microTime } from '../src/kube/leader-election.ts';

const repo = new URL('../', import.meta.url).pathname;
const chart = join(repo, 'deploy/charts/kedge-agent');
const sfx = randomBytes(3).toString('hex');
const tenant = `ach-${sfx}`;
const userToken = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-agent-chart-'));
const [kc, edgeKc, caFile] = [join(dir, 'user.kubeconfig'), join(dir, 'edge.kubeconfig'), join(dir, 'hub-ca.crt')];
const NS = 'kedge-agent';
const EDGE = 'site';
const base = { hub: { url: 'https://hub.example:8443' }, edge: { cluster: 'abc', name: 'e1' } };
let hub: TestHub;
let edge: EdgeCluster;
let image = { repository: '', tag: '' };
let cliImage = '';
let join_: { cluster: string; token: string };

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { serviceAccountName?: string; containers: { image: string; args: string[] }[] };
  status: { phase?: string; containerStatuses?: { ready: boolean }[] };
}

const kube = (args: string[], input?: string): Promise<string> => kubectlOK(edge.kubeconfig, args, input);
const agentPods = async (): Promise<Pod[]> =>
  (
    await kubectlJSON<{ items: Pod[] }>(edge.kubeconfig, [
      '-n',
      NS,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/instance=kedge-agent',
    ])
  ).items.filter((p) => p.metadata.deletionTimestamp === undefined);
const leaseHolder = async (): Promise<string> =>
  kube(['-n', NS, 'get', 'lease', 'kedge-agent', '-o', 'jsonpath={.spec.holderIdentity}']);
/** The pod part of a holder identity (`<pod>_<random>`). */
const podOf = (holder: string): string => holder.replace(/_[0-9a-f]+$/, '');
const storedCredential = async (): Promise<{ token: string; joinedAt: string }> => {
  const b64 = await kube([
    '-n',
    NS,
    'get',
    'secret',
    'kedge-agent-credential',
    '-o',
    'jsonpath={.data.credential\\.json}',
  ]);
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as { token: string; joinedAt: string };
};

/** The agent pods, their events and logs: what a failed wait prints. */
async function diagnose(): Promise<string> {
  const out = [await kubectl(edge.kubeconfig, ['-n', NS, 'get', 'pods,lease,secrets', '-o', 'wide'])];
  out.push(await kubectl(edge.kubeconfig, ['-n', NS, 'get', 'events', '--sort-by=.lastTimestamp']));
  for (const p of await agentPods().catch(() => []))
    out.push(await kubectl(edge.kubeconfig, ['-n', NS, 'logs', p.metadata.name, '--tail=30']));
  return out.map((r) => r.stdout + r.stderr).join('\n');
}

/** The Edge is Ready and its tunnel (re)connected at or after `sinceMs`; kubectl through the hub reaches the edge. */
async function edgeReadySince(sinceMs: number): Promise<void> {
  const s = await edgeStatus(kc, EDGE);
  const tunnel = condition(s, 'TunnelConnected') as { status?: string; lastTransitionTime?: string };
  if (s.phase !== 'Ready' || tunnel.status !== 'True') throw new Error(`edge ${s.phase}, tunnel ${tunnel.status}`);
  if (Date.parse(tunnel.lastTransitionTime ?? '') < Math.floor(sinceMs / 1000) * 1000)
    throw new Error(`tunnel connected at ${tunnel.lastTransitionTime}, before the change`);
  await kubectlOK(edgeKc, ['get', 'namespace', NS, '-o', 'name']);
}

beforeAll(async () => {
  const cluster = startEdgeCluster('agentchart', { realNode: true });
  // The agent's image and the CLI's (the same build; only the entrypoint differs).
  const built = await run('bash', [join(repo, 'hack/images/build.sh'), 'kedge-agent', 'kedge'], { timeoutMs: 900_000 });
  if (built.code !== 0) throw new Error(`building the images failed:\n${built.stderr.slice(-3000)}`);
  const images = built.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/));
  const [, ref = '', tar = ''] = images.find((i) => i[0] === 'kedge-agent') ?? [];
  const [, cliRef = '', cliTar = ''] = images.find((i) => i[0] === 'kedge') ?? [];
  const [repository = '', tag = ''] = ref.split(/:(?=[^:]+$)/);
  image = { repository, tag };
  cliImage = cliRef;
  hub = await startTestHub([`${tenant}=${userToken}`]);
  await kedgeLogin(hub.hubURL, userToken, hub.caFile, kc);
  expect((await kedge(['edge', 'create', EDGE, '--labels', 'site=chart', '--kubeconfig', kc])).code).toBe(0);
  edge = await cluster;
  for (const t of [tar, cliTar]) {
    const imported = await edge.ctr(['images', 'import', t]);
    if (imported.code !== 0) throw new Error(`ctr images import ${t}: ${imported.stderr}`);
  }
  const res = await kedge(['kubeconfig', 'edge', EDGE, '-o', edgeKc, '--kubeconfig', kc]);
  if (res.code !== 0) throw new Error(res.stderr);
}, 960_000);

afterAll(async () => {
  await hub?.stop();
  await edge?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe('the kedge-agent chart', () => {
  it('lints and renders each profile, and a real API server accepts every object', async () => {
    const profiles: Record<string, Record<string, unknown>> = {
      daemonset: { ...base, joinToken: { existingSecret: 'join' } },
      deployment: { ...base, joinToken: { value: 'tok' }, mode: 'deployment', replicas: 3, hostNetwork: true },
      'no-default-rbac': {
        ...base,
        joinToken: { existingSecret: 'join' },
        defaultEdgeRbac: false,
        hub: { url: 'https://hub.example:8443', ca: '-----BEGIN CERTIFICATE-----\n' },
        extraArgs: ['--heartbeat-interval=15s'],
      },
    };
    await kube(['create', 'namespace', 'chart-dry-run']);
    for (const [name, values] of Object.entries(profiles)) {
      await helmLint(chart, values);
      const yaml = await helmTemplate(chart, 'kedge-agent', 'chart-dry-run', values);
      const kinds = [...yaml.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
      expect(kinds).toContain(name === 'deployment' ? 'Deployment' : 'DaemonSet');
      const accepted = await serverDryRun(edge.kubeconfig, yaml);
      expect(accepted.split('\n').filter((l) => l.includes('(server dry run)')).length).toBe(kinds.length);
      if (name === 'deployment') expect(yaml).toMatch(/^ {4}tok\b|"tok"/m);
      if (name === 'no-default-rbac') {
        expect(yaml).toContain('--no-default-edge-rbac');
        expect(yaml).not.toContain('clusterrolebindings');
        expect(yaml).toContain('--hub-ca-file=/etc/kedge-agent/hub-ca/ca.crt');
      }
      // The join token never reaches the container's arguments.
      expect(yaml).not.toMatch(/--token[= ]/);
    }
    await kube(['delete', 'namespace', 'chart-dry-run', '--wait=false']);
  }, 120_000);

  it('refuses bad values with the value named, and a missing join token with the fix', async () => {
    const bad = { hub: { url: 'ftp://hub' }, edge: { cluster: 'abc', name: 'Bad_Name' }, mode: 'statefulset' };
    const err = await helmLint(chart, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelmError);
    const msg = (err as Error).message;
    expect(msg).toContain("at '/hub/url'");
    expect(msg).toContain("at '/edge/name'");
    expect(msg).toContain("at '/mode'");
    const noToken = await helmTemplate(chart, 'r', 'ns', base).catch((e: unknown) => e);
    expect((noToken as Error).message).toContain('joinToken.existingSecret (a Secret with the join token)');
  });

  it('installs from the join command; two replicas, one holds the Lease and the tunnel, the Edge turns Ready', async () => {
    const printed = await kedge(['edge', 'join-command', EDGE, '--write-ca', caFile, '--kubeconfig', kc]);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n').map((l) => l.trim());
    const install = lines.filter((l) => /^(kubectl create namespace|printf|helm install) /.test(l));
    expect(install).toHaveLength(3);
    const m = /--cluster (\S+) --edge \S+ --token (\S+)/.exec(printed.stdout);
    join_ = { cluster: m?.[1] ?? '', token: m?.[2] ?? '' };
    expect(install[2]).not.toContain(join_.token);
    // The printed lines as a user runs them, plus this machine's image and the two-replica profile.
    const script = [
      ...install.slice(0, 2),
      `${install[2]} --set mode=deployment --set replicas=2 --set hostNetwork=true --set image.repository=${image.repository} --set image.tag=${image.tag}`,
    ].join('\n');
    const h = mkdtempSync(join(dir, 'helm-'));
    const res = await run('bash', ['-euo', 'pipefail', '-c', script], {
      env: {
        PATH: `${toolsBin()}:${process.env.PATH}`,
        KUBECONFIG: edge.kubeconfig,
        HELM_CACHE_HOME: join(h, 'cache'),
        HELM_CONFIG_HOME: join(h, 'config'),
        HELM_DATA_HOME: join(h, 'data'),
      },
      timeoutMs: 120_000,
    });
    if (res.code !== 0) throw new Error(`install failed:\n${res.stderr}${res.stdout}`);
    const started = Date.now();
    await eventually(() => edgeReadySince(0), { what: 'Edge Ready through the chart', timeoutMs: 120_000 }).catch(
      async (err: unknown) => {
        throw new Error(`${(err as Error).message}\n${await diagnose()}`);
      },
    );
    console.log(`[agent-chart] helm install → Edge Ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pods = await agentPods();
    expect(pods).toHaveLength(2);
    expect(pods.map((p) => p.metadata.name)).toContain(podOf(await leaseHolder()));
  }, 180_000);

  it("runs the agent image under the chart's ServiceAccount, with nothing beyond the chart's rights", async () => {
    for (const p of await agentPods()) {
      expect(p.spec.serviceAccountName).toBe('kedge-agent');
      expect(p.spec.containers[0]?.image).toBe(`${image.repository}:${image.tag}`);
      expect(p.spec.containers[0]?.args.join(' ')).not.toContain(join_.token);
    }
    const sa = `system:serviceaccount:${NS}:kedge-agent`;
    const can = async (args: string[]): Promise<string> =>
      (await kubectl(edge.kubeconfig, ['auth', 'can-i', ...args, '--as', sa])).stdout.trim();
    expect(await can(['get', 'secret/kedge-agent-credential', '-n', NS])).toBe('yes');
    expect(await can(['get', 'secret/kedge-agent-join', '-n', NS])).toBe('no');
    expect(await can(['get', 'secrets', '-n', 'kube-system'])).toBe('no');
    expect(await can(['update', 'lease/kedge-agent', '-n', NS])).toBe('yes');
    expect(await can(['update', 'lease/other', '-n', NS])).toBe('no');
    expect(await can(['delete', 'nodes'])).toBe('no');
    expect(await can(['create', 'deployments', '-n', 'shop'])).toBe('yes');
    expect(await can(['get', 'pods', '-n', 'shop'])).toBe('no');
    // The credential the leader stored, and the default edge bindings it created with the chart's bind right.
    expect((await storedCredential()).token).not.toBe('');
    expect(await kube(['get', 'clusterrolebinding', 'kedge:edge:view', '-o', 'jsonpath={.roleRef.name}'])).toBe('view');
  });

  it('a VirtualWorkload placed on the edge runs a real container', async () => {
    const web = edge.env.KEDGE_EDGE_WEB_IMAGE ?? '';
    await kubectlOK(
      kc,
      ['apply', '-f', '-'],
      `apiVersion: kedge.faros.sh/v1alpha1
kind: VirtualWorkload
metadata: {name: web, namespace: default}
spec:
  simple: {image: "${web}", ports: [{containerPort: 8080}]}
  placement: {edgeSelector: {matchLabels: {site: chart}}}
`,
    );
    await eventually(
      async () => {
        const ready = await kubectlOK(kc, ['get', 'vw', 'web', '-o', 'jsonpath={.status.readyReplicas}']);
        if (ready !== '1') throw new Error(`readyReplicas ${ready}`);
      },
      { what: 'VirtualWorkload ready', timeoutMs: 90_000, intervalMs: 500 },
    );
  }, 120_000);

  it('deleting the leader pod hands the tunnel to the standby: Ready again within 20 s, no new join', async () => {
    const before = await storedCredential();
    const leader = podOf(await leaseHolder());
    const t0 = Date.now();
    await kube(['-n', NS, 'delete', 'pod', leader, '--wait=false']);
    let successor = '';
    await eventually(
      async () => {
        successor = podOf(await leaseHolder());
        if (successor === leader || successor === '') throw new Error(`lease still held by ${successor || 'nobody'}`);
        await edgeReadySince(t0);
      },
      { what: 'the standby to take over', timeoutMs: 20_000, intervalMs: 200 },
    );
    console.log(
      `[agent-chart] leader pod deleted → Edge Ready via ${successor} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(await storedCredential()).toEqual(before);
    const logs = await kube(['-n', NS, 'logs', successor]);
    expect(logs).toContain('a stored credential exists and the hub accepts it; the join token is not used');
    // The old leader (Node as PID 1 of its container) handled SIGTERM: it stopped and released the Lease, so the
    // successor found it free rather than waiting for it to lapse (then the line would name the previous holder).
    const acquired = logs.split('\n').find((l) => l.includes('"acquired the lease"'));
    expect(acquired).toBeDefined();
    expect(acquired).not.toContain('"previous"');
  }, 60_000);

  it('a leader that loses the Lease closes its tunnel at once; the Lease lapses and a pod leads again', async () => {
    const leader = podOf(await leaseHolder());
    const t0 = Date.now();
    // Another holder appears (as after a network partition): renewTime now, so it is valid for 15 s.
    const patch = {
      spec: { holderIdentity: 'intruder_0', renewTime: microTime(Date.now()), leaseDurationSeconds: 15 },
    };
    await kube(['-n', NS, 'patch', 'lease', 'kedge-agent', '--type', 'merge', '-p', JSON.stringify(patch)]);
    await eventually(
      async () => {
        const tunnel = condition(await edgeStatus(kc, EDGE), 'TunnelConnected');
        if (tunnel.status !== 'False') throw new Error(`tunnel ${tunnel.status}`);
      },
      { what: 'the tunnel to close', timeoutMs: 10_000, intervalMs: 200 },
    );
    console.log(`[agent-chart] Lease taken → tunnel closed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await kube(['-n', NS, 'logs', leader])).toContain('no longer leading: closing the tunnel');
    await eventually(
      async () => {
        if ((await leaseHolder()) === 'intruder_0') throw new Error('the intruder still holds the Lease');
        await edgeReadySince(t0);
      },
      { what: 'a pod to lead again after the Lease lapsed', timeoutMs: 40_000, intervalMs: 500 },
    );
    console.log(`[agent-chart] Lease taken → Edge Ready again in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('deleting every pod: the new ones reuse the stored credential', async () => {
    const before = await storedCredential();
    const old = (await agentPods()).map((p) => p.metadata.name);
    const t0 = Date.now();
    await kube(['-n', NS, 'delete', 'pods', '-l', 'app.kubernetes.io/instance=kedge-agent', '--wait=false']);
    await eventually(
      async () => {
        const holder = podOf(await leaseHolder());
        if (holder === '' || old.includes(holder)) throw new Error(`lease held by ${holder || 'nobody'}`);
        await edgeReadySince(t0);
      },
      { what: 'a new pod to lead', timeoutMs: 90_000, intervalMs: 500 },
    );
    console.log(`[agent-chart] all pods deleted → Edge Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await storedCredential()).toEqual(before);
  }, 120_000);

  it('helm upgrade to the default DaemonSet mode: its pod leads with the stored credential', async () => {
    const before = await storedCredential();
    const t0 = Date.now();
    const args = ['upgrade', 'kedge-agent', chart, '-n', NS, '--reuse-values', '--set', 'mode=daemonset'];
    const res = await helm(args, { env: { KUBECONFIG: edge.kubeconfig } });
    if (res.code !== 0) throw new Error(`helm upgrade failed:\n${res.stderr}${res.stdout}`);
    await eventually(
      async () => {
        const pods = await agentPods();
        const holder = podOf(await leaseHolder());
        if (pods.length !== 1 || holder !== pods[0]?.metadata.name) throw new Error(`pods ${pods.length}, ${holder}`);
        await edgeReadySince(t0);
      },
      { what: "the DaemonSet's pod to lead", timeoutMs: 90_000, intervalMs: 500 },
    ).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${await diagnose()}`);
    });
    expect((await kube(['-n', NS, 'get', 'daemonset,deployment', '-o', 'name'])).trim()).toBe(
      'daemonset.apps/kedge-agent',
    );
    expect(await storedCredential()).toEqual(before);
  }, 120_000);

  it('the kedge image runs the CLI as documented: non-root, read-only root filesystem', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'kedge-cli', namespace: NS },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true },
        containers: [
          {
            name: 'kedge',
            image: cliImage,
            args: ['version'],
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          },
        ],
      },
    };
    await kube(['apply', '-f', '-'], JSON.stringify(pod));
    await eventually(
      async () => {
        const phase = await kube(['-n', NS, 'get', 'pod', 'kedge-cli', '-o', 'jsonpath={.status.phase}']);
        if (phase !== 'Succeeded') throw new Error(`phase ${phase}`);
      },
      { what: 'the kedge CLI pod to succeed', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(await kube(['-n', NS, 'logs', 'kedge-cli'])).toMatch(/^kedge \d+\.\d+\.\d+/);
  }, 90_000);

  it('the spent join token is refused', async () => {
    const again = startAgent({
      hubURL: hub.hubURL,
      cluster: join_.cluster,
      edge: EDGE,
      token: join_.token,
      kubeconfig: edge.kubeconfig,
      hubCAFile: hub.caFile,
    });
    try {
      expect(await again.exited()).toBe(3);
      expect(again.output()).toMatch(/KEDGE_AGENT_JOIN_REFUSED|join token/i);
    } finally {
      await again.stop();
    }
  }, 60_000);
});
