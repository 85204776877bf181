// Workloads that really run (docs/real-node.md): kcp, the hub, a real `kedge-agent` and an edge cluster with a real
// kubelet node (`hack/edge-cluster.sh up NAME --real-node`: containerd, runc, a CNI bridge, kube-proxy). A
// VirtualWorkload placed on that edge runs the locally built kedge-web image (busybox httpd); through the hub,
// `kubectl logs`, `exec` and `port-forward` reach the real process, its Service answers through kube-proxy, pods reach
// the edge API server in-cluster, and deleting the VirtualWorkload stops the container in containerd.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_VIRTUAL_WORKLOAD } from '../src/api/constants.ts';
import { joinCommand, kedge, kedgeLogin, kubectl, kubectlJSON, kubectlOK, portForward, run } from './harness/cli.ts';
import { startAgent, startEdgeCluster, type AgentProcess, type EdgeCluster } from './harness/edges.ts';
import { toolsBin } from './harness/env.ts';
import { eventually } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const sfx = randomBytes(3).toString('hex');
const tenant = `rn-${sfx}`;
const token = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-real-node-'));
const [kc, edgeKc] = [join(dir, 'user.kubeconfig'), join(dir, 'edge.kubeconfig')];
const repo = new URL('../', import.meta.url).pathname;
const indexHTML = readFileSync(join(repo, 'hack/images/web/rootfs/www/index.html'), 'utf8');
const vwName = 'web';
let hub: TestHub;
let edge: EdgeCluster;
let agent: AgentProcess;
let other: EdgeCluster;
let webImage = '';

interface Pod {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: { podIP?: string; phase?: string; containerStatuses?: { containerID?: string; ready: boolean }[] };
}

/** GET http://host:port/path → [status, body]. */
function httpGet(host: string, port: number, path: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve([res.statusCode ?? 0, body]));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const workloadPod = async (): Promise<Pod> => {
  const pods = await kubectlJSON<{ items: Pod[] }>(edgeKc, [
    'get',
    'pods',
    '-n',
    'default',
    '-l',
    `${LABEL_VIRTUAL_WORKLOAD}=${vwName}`,
  ]);
  const running = pods.items.filter((p) => p.status.phase === 'Running');
  if (running.length !== 1) throw new Error(`want 1 running pod, have ${pods.items.length}`);
  return running[0] as Pod;
};

beforeAll(async () => {
  // Another (kwok) edge cluster beside the real node: `down` of the real one must leave it alone.
  const clusters = Promise.all([startEdgeCluster('rn', { realNode: true }), startEdgeCluster('rn-kwok')]);
  hub = await startTestHub([`${tenant}=${token}`]);
  await kedgeLogin(hub.hubURL, token, hub.caFile, kc);
  expect((await kedge(['edge', 'create', 'pi', '--labels', 'site=home', '--kubeconfig', kc])).code).toBe(0);
  const join = await joinCommand(kc, 'pi');
  [edge, other] = await clusters;
  webImage = edge.env.KEDGE_EDGE_WEB_IMAGE ?? '';
  agent = startAgent({
    hubURL: hub.hubURL,
    cluster: join.cluster,
    edge: 'pi',
    token: join.token,
    kubeconfig: edge.kubeconfig,
    hubCAFile: hub.caFile,
  });
  await agent.waitForOutput(/Tunnel connection established/, 60_000);
  const res = await kedge(['kubeconfig', 'edge', 'pi', '-o', edgeKc, '--kubeconfig', kc]);
  if (res.code !== 0) throw new Error(res.stderr);
}, 240_000);

afterAll(async () => {
  await agent?.stop().catch(() => {});
  await hub?.stop();
  await Promise.all([edge?.stop(), other?.stop()]);
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe('a real node behind the hub', () => {
  it('the edge cluster has one Ready kubelet node running containerd, and the Edge reports its version', async () => {
    const nodes = await kubectlJSON<{
      items: { metadata: { name: string }; status: { nodeInfo: { containerRuntimeVersion: string } } }[];
    }>(edgeKc, ['get', 'nodes']);
    expect(nodes.items.map((n) => n.metadata.name)).toEqual([edge.env.KEDGE_EDGE_NODE]);
    expect(nodes.items[0]?.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    await kubectlOK(edgeKc, ['wait', '--for=condition=Ready', `node/${edge.env.KEDGE_EDGE_NODE}`, '--timeout=30s']);
    const version = await kubectlOK(kc, ['get', 'edge', 'pi', '-o', 'jsonpath={.status.kubernetesVersion}']);
    expect(version).toMatch(/^v1\.36\.\d+$/);
  });

  it('a VirtualWorkload placed on the edge runs the real container', async () => {
    expect(webImage).toMatch(/^localhost\/kedge-web:[0-9a-f]{12}$/);
    await kubectlOK(
      kc,
      ['apply', '-f', '-'],
      `apiVersion: kedge.faros.sh/v1alpha1
kind: VirtualWorkload
metadata: {name: ${vwName}, namespace: default}
spec:
  simple: {image: "${webImage}", ports: [{containerPort: 8080}]}
  placement: {edgeSelector: {matchLabels: {site: home}}}
`,
    );
    await eventually(
      async () => {
        const ready = await kubectlOK(kc, ['get', 'vw', vwName, '-o', 'jsonpath={.status.readyReplicas}']);
        if (ready !== '1') throw new Error(`readyReplicas ${ready}`);
      },
      { what: 'VirtualWorkload ready', timeoutMs: 90_000, intervalMs: 500 },
    );
    const pod = await workloadPod();
    expect(pod.spec.nodeName).toBe(edge.env.KEDGE_EDGE_NODE);
    expect(pod.status.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
  }, 120_000);

  it('kubectl logs and exec through the hub reach the real process', async () => {
    const pod = await workloadPod();
    const logs = await kubectlOK(edgeKc, ['logs', '-n', 'default', pod.metadata.name]);
    expect(logs).toContain('kedge-web: serving /www on :8080');
    expect(await kubectlOK(edgeKc, ['exec', '-n', 'default', pod.metadata.name, '--', 'cat', '/www/index.html'])).toBe(
      indexHTML,
    );
    // Written by the container at start: the pod's own hostname, so the bytes cannot come from anywhere else.
    expect(await kubectlOK(edgeKc, ['exec', '-n', 'default', pod.metadata.name, '--', 'cat', '/www/pod.txt'])).toBe(
      `${pod.metadata.name}\n`,
    );
    const failing = await kubectl(edgeKc, ['exec', '-n', 'default', pod.metadata.name, '--', 'sh', '-c', 'exit 7']);
    expect(failing.code).toBe(7);
  });

  it('kubectl port-forward through the hub serves the real page', async () => {
    const pod = await workloadPod();
    const pf = await portForward(edgeKc, ['-n', 'default', `pod/${pod.metadata.name}`, ':8080']);
    try {
      const port = pf.localPort;
      expect(await httpGet('127.0.0.1', port, '/index.html')).toEqual([200, indexHTML]);
      expect(await httpGet('127.0.0.1', port, '/pod.txt')).toEqual([200, `${pod.metadata.name}\n`]);
      expect((await httpGet('127.0.0.1', port, '/missing'))[0]).toBe(404);
    } finally {
      pf.stop();
    }
    // httpd -vv logs each request ("url:/pod.txt"): the GET came through the forward into the container.
    await eventually(
      async () => {
        const logs = await kubectlOK(edgeKc, ['logs', '-n', 'default', pod.metadata.name]);
        if (!/url:\/pod\.txt/.test(logs)) throw new Error(logs);
      },
      { what: 'the GET in the container log', timeoutMs: 10_000 },
    );
  });

  it("the workload's Service answers through kube-proxy, from the node and from inside the pod", async () => {
    const pod = await workloadPod();
    const ip = await kubectlOK(edgeKc, ['get', 'service', '-n', 'default', vwName, '-o', 'jsonpath={.spec.clusterIP}']);
    expect(ip).toMatch(/^10\.96\./);
    await eventually(async () => expect(await httpGet(ip, 8080, '/pod.txt')).toEqual([200, `${pod.metadata.name}\n`]), {
      what: 'the ClusterIP answering from the node',
      timeoutMs: 30_000,
    });
    // Hairpin: the pod reaches itself through its own Service.
    const inPod = await kubectlOK(edgeKc, [
      'exec',
      '-n',
      'default',
      pod.metadata.name,
      '--',
      'wget',
      '-qO-',
      `http://${ip}:8080/index.html`,
    ]);
    expect(inPod).toBe(indexHTML);
  });

  it('a pod reaches the edge API server in-cluster (the kubernetes Service, its service account token)', async () => {
    // The static kubectl from the tool cache, mounted into the web image: in-cluster config, nothing else.
    const kubectlBin = realpathSync(join(toolsBin(), 'kubectl'));
    await kubectlOK(
      edge.kubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: {name: incluster, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: k
    image: "${webImage}"
    command: [/k/kubectl, auth, whoami, -o, "jsonpath={.status.userInfo.username}"]
    volumeMounts: [{name: k, mountPath: /k/kubectl, readOnly: true}]
  volumes: [{name: k, hostPath: {path: "${kubectlBin}", type: File}}]
`,
    );
    try {
      await eventually(
        async () => {
          const phase = await kubectlOK(edge.kubeconfig, ['get', 'pod', 'incluster', '-o', 'jsonpath={.status.phase}']);
          if (phase !== 'Succeeded') throw new Error(phase);
        },
        { what: 'the in-cluster pod to finish', timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(await kubectlOK(edge.kubeconfig, ['logs', 'incluster'])).toBe('system:serviceaccount:default:default');
    } finally {
      await kubectl(edge.kubeconfig, ['delete', 'pod', 'incluster', '--wait=false']);
    }
  }, 90_000);

  it('deleting the VirtualWorkload stops its containers in containerd: no task, no process left', async () => {
    const pod = await workloadPod();
    const id = (pod.status.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
    // `ctr tasks ls`: TASK PID STATUS, one line per running container (the app's and the pod's sandbox).
    const tasks = async (): Promise<Map<string, number>> =>
      new Map(
        (await edge.ctr(['tasks', 'ls'])).stdout
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length >= 3)
          .map((f) => [f[0] ?? '', Number(f[1])]),
      );
    const ofPod = (
      await edge.ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.uid"==${pod.metadata.uid}`])
    ).stdout
      .split('\n')
      .filter((l) => l !== '');
    expect(ofPod).toContain(id);
    expect(ofPod.length).toBe(2); // the app container and the sandbox
    const before = await tasks();
    const pids = ofPod.map((c) => before.get(c));
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(true);
    const t0 = Date.now();
    await kubectlOK(kc, ['delete', 'vw', vwName]);
    await eventually(
      async () => {
        const now = await tasks();
        for (const c of ofPod) expect(now.has(c)).toBe(false);
        for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
      },
      { what: "the pod's tasks and processes gone", timeoutMs: 60_000, intervalMs: 250 },
    );
    process.stderr.write(`[real-node] the pod's processes were gone ${Date.now() - t0} ms after the delete\n`);
    // The stopped container records are the kubelet's to remove, at its next garbage collection (every minute).
    const left = await kubectl(edgeKc, ['get', 'deployment,service', '-n', 'default', vwName]);
    expect(left.stdout).toBe('');
    expect(left.stderr).toMatch(/NotFound/);
  }, 90_000);

  it('down removes the node from the host and leaves the other edge cluster alone', async () => {
    await agent.kill(); // how the agent stops is not under test here
    await edge.stop();
    const hostState = async () => ({
      processes: (await run('pgrep', ['-f', `${edge.dir}/`])).stdout.trim(),
      bridge: (await run('ip', ['-o', 'link', 'show', 'kedge0'])).code,
      kubeChains: (await run('iptables-save', [])).stdout.split('\n').filter((l) => l.startsWith(':KUBE-')),
      mounts: readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes('/kedge-real-node')),
      dirs: ['/run/kedge-real-node', '/var/lib/kedge-real-node', edge.dir].filter((d) => existsSync(d)),
    });
    expect(await hostState()).toEqual({ processes: '', bridge: 1, kubeChains: [], mounts: [], dirs: [] });
    expect((await run('bash', [join(repo, 'hack/edge-cluster.sh'), 'status', other.name])).code).toBe(0);
    expect(await kubectlOK(other.kubeconfig, ['get', 'nodes', '-o', 'name'])).toBe('node/kwok-node-0\n');
  }, 90_000);
});
