// The kedge-hub Helm chart (deploy/charts/kedge-hub) against real parts: the real helm (lint, template, install),
// a real kube-apiserver judging every rendered object (server-side dry-run), and installs on the real-node edge
// cluster (docs/real-node.md: kubelet + containerd) running the kedge-hub image built from the Dockerfile and the
// kcp image built from the tools' kcp (hack/images/build.sh), imported into the node's containerd (pullPolicy Never:
// nothing can come from a registry).
//
// External-kcp mode uses the run's shared kcp (global setup). That kcp listens on 127.0.0.1 and sends TokenReviews to
// https://127.0.0.1:<hubPort> trusting the harness's hub CA: so the hub pod runs with hostNetwork on that port with
// the harness's serving certificate, CA and webhook token (as Secrets the chart mounts), and the admin kubeconfig of
// that kcp as the chart's kcp.external.kubeconfigSecret. This is the simplest honest setup: the pod really is the
// hub kcp calls back (a user request through it only works if kcp's webhook reaches the pod), and it costs no second
// kcp. Suites run one at a time (--runInBand), so no other hub holds the port meanwhile.
// Sidecar mode runs kcp in the pod (pod network, NodePort Service), its data on a PersistentVolumeClaim bound to a
// static hostPath PersistentVolume the test makes (the real node has no provisioner).
//
// The real node is one per machine: when another suite or engineer holds it, `up` is retried every 10 s for up to
// 15 min; the node is brought up only after the images are built and taken down in afterAll.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kedge, kedgeLogin, kubectl, kubectlJSON, kubectlOK, run } from './harness/cli.ts';
import { startEdgeCluster, type EdgeCluster } from './harness/edges.ts';
import { loadTestEnv, toolsBin } from './harness/env.ts';
import { helm, helmLint, helmTemplate, helmValuesArgs, serverDryRun, type HelmValues } from './harness/helm.ts';
import { eventually, hubRequest } from './harness/http.ts';

const repo = new URL('../', import.meta.url).pathname;
const chart = join(repo, 'deploy', 'charts', 'kedge-hub');
const sfx = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'kedge-hub-chart-'));
const env = loadTestEnv();
let cluster: EdgeCluster;
const images: Record<'kedge-hub' | 'kcp', { repository: string; tag: string; tar: string }> = {
  'kedge-hub': { repository: '', tag: '', tar: '' },
  kcp: { repository: '', tag: '', tar: '' },
};

function secretFile(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** `kubectl create secret generic NAME -n NS --from-file=KEY=FILE…` (values never in argv). */
async function createSecret(ns: string, name: string, files: Record<string, string>, type?: string): Promise<void> {
  const from = Object.entries(files).map(([k, f]) => `--from-file=${k}=${f}`);
  await kubectlOK(cluster.kubeconfig, [
    'create',
    'secret',
    'generic',
    name,
    '-n',
    ns,
    ...from,
    ...(type ? [`--type=${type}`] : []),
  ]);
}

/** The owner of the machine's real node, if one is up (docs/real-node.md). */
function realNodeOwner(): string | undefined {
  try {
    const owner = readFileSync('/var/lib/kedge-real-node/owner', 'utf8').trim();
    return existsSync(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The real node is a machine-wide singleton: wait while another cluster holds it (polling its owner file, then
 * `up`, which refuses a held node), every 10 s with jitter so two waiting suites do not start `up` together.
 */
async function startRealNode(): Promise<EdgeCluster> {
  const deadline = Date.now() + 15 * 60_000;
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 7_000 + Math.random() * 6_000));
  for (;;) {
    const owner = realNodeOwner();
    if (owner === undefined) {
      try {
        return await startEdgeCluster('hubchart', { realNode: true });
      } catch (err) {
        const busy = /the real node is in use|iptables already has KUBE-\* chains/.test((err as Error).message);
        if (!busy || Date.now() > deadline) throw err;
      }
    } else if (Date.now() > deadline) throw new Error(`the real node is still held by ${owner} after 15 min`);
    process.stderr.write(`[hub-chart] the real node is in use (${owner ?? 'by another cluster'}); waiting\n`);
    await pause();
  }
}

async function podOf(ns: string): Promise<{
  metadata: { name: string; uid: string };
  spec: Record<string, unknown>;
  status: { phase?: string; startTime?: string; containerStatuses?: { name: string; imageID: string }[] };
}> {
  const pods = await kubectlJSON<{ items: Awaited<ReturnType<typeof podOf>>[] }>(cluster.kubeconfig, [
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    'app.kubernetes.io/name=kedge-hub',
  ]);
  if (pods.items.length !== 1) throw new Error(`want 1 hub pod in ${ns}, have ${pods.items.length}`);
  return pods.items[0] as Awaited<ReturnType<typeof podOf>>;
}

/** What the pod's containers said, for a failure message. */
async function podLogs(ns: string, containers: string[]): Promise<string> {
  const out: string[] = [];
  const describe = await kubectl(cluster.kubeconfig, ['describe', 'pods', '-n', ns]);
  out.push(describe.stdout.slice(-3000));
  for (const c of containers) {
    const r = await kubectl(cluster.kubeconfig, ['logs', '-n', ns, '-l', 'app.kubernetes.io/name=kedge-hub', '-c', c]);
    out.push(`--- ${c}:\n${(r.stdout + r.stderr).slice(-3000)}`);
  }
  return out.join('\n');
}

/** helm install; resolves with what helm printed (NOTES.txt rendered for these values). */
async function install(ns: string, release: string, values: HelmValues): Promise<string> {
  const args = ['install', release, chart, '-n', ns, '--kubeconfig', cluster.kubeconfig, ...helmValuesArgs(values)];
  const res = await helm(args);
  if (res.code !== 0) throw new Error(`helm install ${release}: ${res.stderr}${res.stdout}`);
  return res.stdout;
}

/** Polls the hub's /readyz until 200; returns the ms since `since` (the install's return). */
async function waitReady(
  ns: string,
  hubURL: string,
  caFile: string,
  containers: string[],
  since: number,
): Promise<number> {
  try {
    await eventually(
      async () => {
        const r = await hubRequest(hubURL, caFile, 'GET', '/readyz');
        if (r.status !== 200) throw new Error(`/readyz ${r.status}: ${r.body}`);
      },
      { what: `${ns} hub /readyz`, timeoutMs: 240_000, intervalMs: 500 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await podLogs(ns, containers)}`, { cause: err });
  }
  return Date.now() - since;
}

/** The pod's hub process: uid, whether / is writable, whether a service account token is mounted. */
async function hubProcessFacts(ns: string): Promise<{ uid: number; gid: number; rootWrite: string; saToken: boolean }> {
  const pod = await podOf(ns);
  const script = `const fs=require('fs');let w='ok';try{fs.writeFileSync('/app/x','')}catch(e){w=e.code}
console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),rootWrite:w,
saToken:fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount')}))`;
  const out = await kubectlOK(cluster.kubeconfig, [
    'exec',
    '-n',
    ns,
    pod.metadata.name,
    '-c',
    'hub',
    '--',
    'node',
    '-e',
    script,
  ]);
  return JSON.parse(out) as { uid: number; gid: number; rootWrite: string; saToken: boolean };
}

/** When the pod's phases happened, in seconds after the pod was created (the API's timestamps have 1 s resolution). */
async function podTimeline(ns: string): Promise<string> {
  interface State {
    running?: { startedAt: string };
    terminated?: { startedAt: string; finishedAt: string };
  }
  interface Status {
    name: string;
    state: State;
  }
  const list = await kubectlJSON<{
    items: {
      metadata: { creationTimestamp: string };
      status: {
        conditions: { type: string; lastTransitionTime: string }[];
        initContainerStatuses?: Status[];
        containerStatuses?: Status[];
      };
    }[];
  }>(cluster.kubeconfig, ['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/name=kedge-hub']);
  const pod = list.items[0];
  if (pod === undefined) return 'no pod';
  const t0 = Date.parse(pod.metadata.creationTimestamp);
  const at = (t: string | undefined): string => (t === undefined ? '?' : `${(Date.parse(t) - t0) / 1000}s`);
  const cond = (type: string): string => at(pod.status.conditions.find((c) => c.type === type)?.lastTransitionTime);
  const statuses = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])];
  const started = (name: string): string => {
    const s = statuses.find((c) => c.name === name)?.state;
    return at(s?.running?.startedAt ?? s?.terminated?.startedAt);
  };
  const finished = (name: string): string => at(statuses.find((c) => c.name === name)?.state.terminated?.finishedAt);
  return [
    `scheduled ${cond('PodScheduled')}`,
    `kcp-auth ${started('kcp-auth')}–${finished('kcp-auth')}`,
    `kcp started ${started('kcp')}`,
    `hub started ${started('hub')}`,
    `Ready ${cond('Ready')}`,
  ].join(', ');
}

/** Objects of a rendered manifest: kind/name. */
function kinds(yaml: string): string[] {
  return [...yaml.matchAll(/^kind: (\S+)\n(?:[\s\S]*?)^ {2}name: (\S+)$/gm)].map((m) => `${m[1]}/${m[2]}`);
}

// The sidecar-mode install (its suite is last): started as soon as the images are on the node, so kcp's first start
// in the pod overlaps the suites before it.
const sc = {
  ns: 'hubchart-sc',
  tenant: `hubchart-sc-${sfx}`,
  userToken: randomBytes(24).toString('base64url'),
  nodePort: 30000 + Math.floor(Math.random() * 2700),
  kc: join(work, 'sc-user.kubeconfig'),
  caFile: join(work, 'sc-ca.crt'),
  pvDir: join(work, 'kcp-pv'),
};
let sidecarInstall: Promise<{ hubURL: string; values: HelmValues; notes: string; at: number }>;

async function installSidecar(): Promise<{ hubURL: string; values: HelmValues; notes: string; at: number }> {
  const hubURL = `https://${cluster.env.KEDGE_EDGE_NODE_IP}:${sc.nodePort}`;
  await kubectlOK(cluster.kubeconfig, ['create', 'namespace', sc.ns]);
  // A static volume for kcp's data, owned by the pod's uid (hostPath is not chowned to fsGroup).
  await run('mkdir', ['-m', '0700', sc.pvDir]);
  chownSync(sc.pvDir, 65532, 65532);
  await kubectlOK(
    cluster.kubeconfig,
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: PersistentVolume
metadata: {name: hubchart-${sfx}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: hubchart-static
  hostPath: {path: "${sc.pvDir}", type: Directory}
`,
  );
  const values: HelmValues = {
    image: { ...images['kedge-hub'], tar: undefined, pullPolicy: 'Never' },
    kcp: { image: { ...images.kcp, tar: undefined, pullPolicy: 'Never' } },
    persistence: { storageClass: 'hubchart-static', size: '1Gi' },
    service: { type: 'NodePort', nodePort: sc.nodePort },
    externalURL: hubURL,
    // Inline tokens: the chart renders them into its own Secret (existingSecret is covered by the external suite).
    staticTokens: { tokens: [`${sc.tenant}=${sc.userToken}`] },
  };
  const notes = await install(sc.ns, 'sc', values);
  return { hubURL, values, notes, at: Date.now() };
}

beforeAll(async () => {
  // Built before the node is taken (a cold kedge-hub build takes minutes); a cached tar returns at once.
  let t = Date.now();
  const took = (what: string): void => {
    process.stderr.write(`[hub-chart] ${what} in ${Date.now() - t} ms\n`);
    t = Date.now();
  };
  const built = await run('bash', [join(repo, 'hack/images/build.sh'), 'kedge-hub', 'kcp'], { timeoutMs: 1_200_000 });
  if (built.code !== 0) throw new Error(`hack/images/build.sh kedge-hub kcp failed:\n${built.stderr.slice(-3000)}`);
  for (const line of built.stdout.trim().split('\n')) {
    const [name, ref, tar] = line.split(' ');
    const m = /^(.+):([^:]+)$/.exec(ref ?? '');
    if ((name === 'kedge-hub' || name === 'kcp') && m?.[1] && m[2] && tar)
      images[name] = { repository: m[1], tag: m[2], tar };
  }
  took('hack/images/build.sh kedge-hub kcp');
  cluster = await startRealNode();
  took('real node up (with any wait for it)');
  for (const img of Object.values(images)) {
    const r = await cluster.ctr(['images', 'import', img.tar]);
    if (r.code !== 0) throw new Error(`ctr images import ${img.tar}: ${r.stderr}`);
  }
  const listed = (await cluster.ctr(['images', 'ls', '-q'])).stdout.split('\n');
  for (const img of Object.values(images))
    if (!listed.includes(`${img.repository}:${img.tag}`))
      throw new Error(`${img.repository}:${img.tag} is not in the node's containerd after importing ${img.tar}`);
  took('images imported into the node');
  sidecarInstall = installSidecar();
  // Awaited (and any failure reported) by the sidecar suite's beforeAll.
  sidecarInstall.catch(() => undefined);
}, 1_500_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('kedge-hub chart: values profiles', () => {
  const ns = 'hubchart-dry';
  const profiles: Record<string, HelmValues> = {
    'sidecar kcp (defaults)': {},
    'external kcp': { kcp: { external: { kubeconfigSecret: 'kcp-admin' } }, hostNetwork: true },
    'TLS, static tokens, OIDC, ingress, NodePort': {
      externalURL: 'https://hub.example.com',
      tls: { existingSecret: 'hub-tls' },
      staticTokens: { existingSecret: 'hub-users', key: 'tokens.txt' },
      oidc: {
        issuerURL: 'https://dex.example.com/dex',
        clientID: 'kedge',
        caSecret: 'dex-ca',
        usernameClaim: 'preferred_username',
        groupsClaim: 'roles',
        prefix: 'corp:',
      },
      ingress: {
        enabled: true,
        className: 'nginx',
        host: 'hub.example.com',
        annotations: { 'nginx.ingress.kubernetes.io/ssl-passthrough': 'true' },
      },
      service: { type: 'NodePort', nodePort: 31443 },
      persistence: { enabled: false },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kedge', effect: 'NoSchedule' }],
      hub: { port: 9443, logLevel: 'debug', extraArgs: ['--failover-grace=2m'] },
    },
    'generated certificate with SANs, inline static tokens, existing claim': {
      tls: { generate: { sans: ['hub.internal', '10.0.0.7'], days: 30 } },
      staticTokens: { tokens: ['team-a=aaaaaaaaaaaaaaaaaaaaaaaa'] },
      persistence: { existingClaim: 'kcp-data', storageClass: '-' },
      kcp: { extraArgs: ['--embedded-etcd-client-port=22379'] },
    },
  };

  beforeAll(async () => {
    await kubectlOK(cluster.kubeconfig, ['create', 'namespace', ns]);
  });

  for (const [name, values] of Object.entries(profiles)) {
    it(`${name}: helm lint passes, and the API server accepts every rendered object`, async () => {
      await helmLint(chart, values);
      const yaml = await helmTemplate(chart, 'hub', ns, values);
      const out = await serverDryRun(cluster.kubeconfig, yaml);
      const objects = kinds(yaml);
      // One line per object, each accepted.
      expect(out.trim().split('\n')).toHaveLength(objects.length);
      // No RBAC at all: the hub talks to kcp, not to this cluster.
      expect(objects.filter((o) => /^(Cluster)?Role(Binding)?\//.test(o))).toEqual([]);
      expect(yaml).toContain('automountServiceAccountToken: false');
      const sidecar = !JSON.stringify(values).includes('kubeconfigSecret');
      expect(yaml.includes('- name: kcp\n')).toBe(sidecar);
    });
  }

  it('renders the values into the pod: flags, files instead of token arguments, probes, security context', async () => {
    const yaml = await helmTemplate(chart, 'hub', ns, profiles['TLS, static tokens, OIDC, ingress, NodePort']);
    for (const flag of [
      '--external-url=https://hub.example.com',
      '--port=9443',
      '--static-tokens-file=/etc/kedge/static-tokens/tokens',
      '--oidc-issuer-url=https://dex.example.com/dex',
      '--oidc-client-id=kedge',
      '--oidc-ca-file=/etc/kedge/oidc/ca.crt',
      '--oidc-username-claim=preferred_username',
      '--oidc-groups-claim=roles',
      '--oidc-prefix=corp:',
      '--kcp-webhook-token-file=/etc/kedge/secrets/webhook-token',
      '--log-level=debug',
      '"--failover-grace=2m"',
    ])
      expect(yaml).toContain(flag);
    expect(yaml).not.toMatch(/--static-token[= ]|--token[= ]/);
    expect(yaml).toContain('nodePort: 31443');
    expect(yaml).toMatch(/httpGet: \{path: \/livez, port: https, scheme: HTTPS\}/);
    expect(yaml).toMatch(/httpGet: \{path: \/readyz, port: https, scheme: HTTPS\}/);
    for (const s of ['runAsNonRoot: true', 'runAsUser: 65532', 'readOnlyRootFilesystem: true', 'type: RuntimeDefault'])
      expect(yaml).toContain(s);
    expect(yaml).toMatch(/drop:\n\s+- ALL/);

    // Generated tokens and certificate: random at first, kept across renders by lookup in a real install (below).
    const gen = await helmTemplate(
      chart,
      'hub',
      ns,
      profiles['generated certificate with SANs, inline static tokens, existing claim'],
    );
    const crt = /tls\.crt: (\S+)/.exec(gen)?.[1] ?? '';
    const pem = Buffer.from(crt, 'base64').toString();
    const text = await run('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: pem });
    expect(text.stdout).toMatch(/DNS:hub-kedge-hub\.hubchart-dry\.svc/);
    expect(text.stdout).toMatch(/DNS:hub\.internal/);
    expect(text.stdout).toMatch(/IP Address:10\.0\.0\.7/);
    expect(text.stdout).toMatch(/IP Address:127\.0\.0\.1/);
    expect(gen).toContain('claimName: kcp-data');
    // The init container's script (files/kcp-token-file.js, comments dropped) writes kcp's token file.
    const script = /command: \["node", "-e", ("(?:[^"\\]|\\.)*")\]/.exec(gen)?.[1] ?? '""';
    const code = JSON.parse(script) as string;
    expect(code).toMatch(/^const fs = require\('node:fs'\);\n/);
    expect(code).toContain("const target = '/run/kedge/kcp-auth/tokens.csv';");
    expect(code).toContain('`${token},kedge-hub,kedge-hub,"system:kcp:admin"\\n`');
    expect(gen).not.toContain('kind: PersistentVolumeClaim');
  });

  it('refuses bad values with the schema (or the chart) naming what is wrong', async () => {
    const refusal = async (values: HelmValues): Promise<string> => {
      const err = await helmTemplate(chart, 'hub', ns, values).catch((e: unknown) => e);
      if (!(err instanceof Error)) throw new Error(`accepted: ${JSON.stringify(values)}`);
      return err.message;
    };
    expect(await refusal({ hub: { port: 0 } })).toMatch(/at '\/hub\/port': minimum: got 0, want 1/);
    expect(await refusal({ service: { type: 'ExternalName' } })).toMatch(/at '\/service\/type': value must be one of/);
    expect(await refusal({ persistance: { enabled: false } })).toMatch(
      /additional properties 'persistance' not allowed/,
    );
    expect(await refusal({ kcp: { external: { kubeconfig: 'x' } } })).toMatch(
      /at '\/kcp\/external': additional properties 'kubeconfig' not allowed/,
    );
    expect(await refusal({ oidc: { issuerURL: 'http://dex.example.com', clientID: 'k' } })).toMatch(
      /at '\/oidc\/issuerURL': 'http:\/\/dex\.example\.com' does not match pattern/,
    );
    expect(await refusal({ oidc: { issuerURL: 'https://dex.example.com' } })).toMatch(
      /oidc\.clientID is required with oidc\.issuerURL/,
    );
    expect(await refusal({ oidc: { prefix: 'system:x' } })).toMatch(/at '\/oidc\/prefix': 'not' failed/);
    expect(await refusal({ staticTokens: { tokens: ['short'] } })).toMatch(
      /at '\/staticTokens\/tokens\/0': 'short' does not match pattern/,
    );
    expect(await refusal({ service: { type: 'NodePort', nodePort: 80 } })).toMatch(
      /at '\/service\/nodePort': minimum: got 80, want 30,000/,
    );
    expect(await refusal({ externalURL: 'http://hub.example.com' })).toMatch(
      /at '\/externalURL': 'http:\/\/hub\.example\.com' does not match pattern/,
    );
    expect(await refusal({ ingress: { enabled: true } })).toMatch(/ingress\.host is required with ingress\.enabled/);
  });
});

describe('helm install kedge-hub with an external kcp (the run’s shared kcp)', () => {
  const ns = 'hubchart-ext';
  const tenant = `hubchart-${sfx}`;
  const userToken = randomBytes(24).toString('base64url');
  const hubURL = `https://127.0.0.1:${env.hubPort}`;
  const kc = join(work, 'ext-user.kubeconfig');
  let readyMs = 0;
  let notes = '';

  beforeAll(async () => {
    await kubectlOK(cluster.kubeconfig, ['create', 'namespace', ns]);
    const shared = JSON.parse(readFileSync(join(env.hubDataDir, 'secrets.json'), 'utf8')) as {
      kcpAdminToken: string;
      webhookToken: string;
    };
    const kcpKubeconfig = secretFile(
      'kcp-admin.kubeconfig',
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'kcp',
            cluster: {
              server: env.kcpURL,
              'certificate-authority-data': readFileSync(env.kcpCAFile).toString('base64'),
            },
          },
        ],
        users: [{ name: 'kedge-hub', user: { token: shared.kcpAdminToken } }],
        contexts: [{ name: 'kcp', context: { cluster: 'kcp', user: 'kedge-hub' } }],
        'current-context': 'kcp',
      }),
    );
    await createSecret(ns, 'kcp-admin', { kubeconfig: kcpKubeconfig });
    await createSecret(ns, 'hub-tokens', {
      'webhook-token': secretFile('webhook-token', shared.webhookToken),
      'kcp-admin-token': secretFile('kcp-admin-token', shared.kcpAdminToken),
    });
    await createSecret(
      ns,
      'hub-tls',
      { 'tls.crt': env.hubCertFile, 'tls.key': env.hubKeyFile, 'ca.crt': env.hubCAFile },
      'kubernetes.io/tls',
    );
    await createSecret(ns, 'hub-users', { tokens: secretFile('ext-users', `${tenant}=${userToken}\n`) });
    notes = await install(ns, 'ext', {
      image: { ...images['kedge-hub'], tar: undefined, pullPolicy: 'Never' },
      kcp: { external: { kubeconfigSecret: 'kcp-admin' } },
      hostNetwork: true,
      hub: { port: env.hubPort },
      externalURL: hubURL,
      tls: { existingSecret: 'hub-tls' },
      secrets: { existingSecret: 'hub-tokens' },
      staticTokens: { existingSecret: 'hub-users' },
    });
    readyMs = await waitReady(ns, hubURL, env.hubCAFile, ['hub'], Date.now());
    process.stderr.write(`[hub-chart] external kcp: helm install → /readyz 200 in ${readyMs} ms\n`);
  }, 300_000);

  it('the pod runs the imported kedge-hub image as uid 65532 with a read-only root and no service account token', async () => {
    const pod = await podOf(ns);
    const status = pod.status.containerStatuses?.find((c) => c.name === 'hub');
    expect(status?.imageID).toMatch(/sha256:[0-9a-f]{64}/);
    const inspected = await cluster.ctr(['images', 'ls', '-q']);
    expect(inspected.stdout).toContain(`${images['kedge-hub'].repository}:${images['kedge-hub'].tag}`);
    expect(await hubProcessFacts(ns)).toEqual({ uid: 65532, gid: 65532, rootWrite: 'EROFS', saToken: false });
  });

  it('kedge login through the pod works, and a user request reaches kcp under the user’s identity', async () => {
    await kedgeLogin(hubURL, userToken, env.hubCAFile, kc);
    // kcp authenticates the user's token by calling the webhook of the hub in the pod.
    expect((await kedge(['edge', 'create', 'pi', '--labels', 'site=lab', '--kubeconfig', kc])).code).toBe(0);
    const list = await kedge(['edge', 'list', '--kubeconfig', kc]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^pi\s/m);
    const who = await kubectlOK(kc, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who).toBe(`kedge:static:${tenant}`);
  });

  it('NOTES tell the operator how to configure the external kcp’s webhook and how to log in', () => {
    expect(notes).toContain(`a kubeconfig whose cluster is ${hubURL}/authn/tokenreview`);
    expect(notes).toContain('the webhook-token key of Secret hub-tokens');
    expect(notes).toContain(
      `kedge login --hub-url ${hubURL} --certificate-authority kedge-hub-ca.crt --token-file token`,
    );
  });

  it('a wrong token is refused by the pod', async () => {
    const res = await kedge(['login', '--hub-url', hubURL, '--certificate-authority', env.hubCAFile], {
      KEDGE_TOKEN: 'not-a-valid-token-at-all-000000',
      KUBECONFIG: join(work, 'nope.kubeconfig'),
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('the hub rejected the token (401)');
  });

  afterAll(async () => {
    // Frees the hub port on the host (hostNetwork) at once; the node goes down after the last suite anyway.
    await helm(['uninstall', 'ext', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--wait', '--timeout', '60s']);
  }, 90_000);
});

describe('helm install kedge-hub with the kcp sidecar (locally built kcp image, data on a PersistentVolume)', () => {
  const { ns, tenant, userToken, kc, caFile, pvDir } = sc;
  let hubURL = '';
  let values: HelmValues = {};
  let notes = '';

  beforeAll(async () => {
    // Installed by the top-level beforeAll, so kcp starts in the pod while the suites above run.
    const installed = await sidecarInstall;
    ({ hubURL, values, notes } = installed);
    // The chart-generated CA: clients trust it (kedge login --certificate-authority).
    const ca = await kubectlOK(cluster.kubeconfig, [
      'get',
      'secret',
      '-n',
      ns,
      'sc-kedge-hub-tls',
      '-o',
      'jsonpath={.data.ca\\.crt}',
    ]);
    writeFileSync(caFile, Buffer.from(ca, 'base64'));
    const ms = await waitReady(ns, hubURL, caFile, ['kcp-auth', 'kcp', 'hub'], installed.at);
    process.stderr.write(`[hub-chart] kcp sidecar: helm install → /readyz 200 seen ${ms} ms later\n`);
    process.stderr.write(`[hub-chart] kcp sidecar pod: ${await podTimeline(ns)}\n`);
  }, 300_000);

  it('kcp runs in the pod from the local image, its data on the PersistentVolume, as uid 65532', async () => {
    const pod = await podOf(ns);
    const kcpStatus = (
      pod.status as { initContainerStatuses?: { name: string; image: string; started?: boolean }[] }
    ).initContainerStatuses?.find((c) => c.name === 'kcp');
    expect(kcpStatus?.image).toBe(`${images.kcp.repository}:${images.kcp.tag}`);
    expect(kcpStatus?.started).toBe(true);
    // kcp wrote its serving certificate and etcd into the volume, as the pod's user.
    const crt = join(pvDir, 'apiserver.crt');
    expect(existsSync(crt)).toBe(true);
    expect(statSync(crt).uid).toBe(65532);
    const pvc = await kubectlOK(cluster.kubeconfig, [
      'get',
      'pvc',
      '-n',
      ns,
      'sc-kedge-hub-kcp',
      '-o',
      'jsonpath={.status.phase}/{.spec.volumeName}',
    ]);
    expect(pvc).toBe(`Bound/hubchart-${sfx}`);
    expect(await hubProcessFacts(ns)).toEqual({ uid: 65532, gid: 65532, rootWrite: 'EROFS', saToken: false });
  });

  it('the NOTES’ commands fetch the CA and the token that log in', async () => {
    // The commands NOTES prints, run as printed (in a shell, from a scratch directory).
    const cmds = notes
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^(kubectl -n \S+ get secret|kedge login)/.test(l) && !l.includes('--device') && !l.includes('#'));
    expect(cmds).toHaveLength(3);
    const dir = mkdtempSync(join(work, 'notes-'));
    const script = cmds.map((c) => c.replace(/^kubectl /, `kubectl --kubeconfig ${cluster.kubeconfig} `)).join(' && ');
    const res = await run('bash', ['-c', `cd ${dir} && ${script}`], {
      env: {
        KUBECONFIG: join(dir, 'kedge.kubeconfig'),
        PATH: `${join(repo, 'bin')}:${toolsBin()}:${process.env.PATH}`,
      },
    });
    if (res.code !== 0) throw new Error(`the NOTES' commands failed (${res.code}):\n${script}\n${res.stderr}`);
    expect(readFileSync(join(dir, 'token'), 'utf8').trim()).toBe(userToken);
    expect(readFileSync(join(dir, 'kedge.kubeconfig'), 'utf8')).toContain(hubURL);
  });

  it('no token appears in the pod spec (they are files from Secrets)', async () => {
    const pod = await podOf(ns);
    const spec = JSON.stringify(pod.spec);
    const tokens = await kubectlJSON<{ data: Record<string, string> }>(cluster.kubeconfig, [
      'get',
      'secret',
      '-n',
      ns,
      'sc-kedge-hub-tokens',
    ]);
    const values = Object.values(tokens.data).map((v) => Buffer.from(v, 'base64').toString());
    expect(values).toHaveLength(2);
    for (const v of [...values, userToken]) {
      expect(v.length).toBeGreaterThanOrEqual(32);
      expect(spec).not.toContain(v);
    }
  });

  it('kedge login through the pod works, and kcp in the pod authenticates the user through the hub’s webhook', async () => {
    await kedgeLogin(hubURL, userToken, caFile, kc);
    expect((await kedge(['edge', 'create', 'site-1', '--labels', 'site=lab', '--kubeconfig', kc])).code).toBe(0);
    const list = await kedge(['edge', 'list', '--kubeconfig', kc]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^site-1\s/m);
    expect(await kubectlOK(kc, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).toBe(
      `kedge:static:${tenant}`,
    );
  });

  it('helm upgrade keeps the generated tokens and certificate (lookup) and does not restart the pod', async () => {
    const secrets = async (): Promise<string> =>
      kubectlOK(cluster.kubeconfig, [
        'get',
        'secret',
        '-n',
        ns,
        'sc-kedge-hub-tokens',
        'sc-kedge-hub-tls',
        '-o',
        'jsonpath={.items[*].data}',
      ]);
    const [before, pod] = [await secrets(), await podOf(ns)];
    const res = await helm([
      'upgrade',
      'sc',
      chart,
      '-n',
      ns,
      '--kubeconfig',
      cluster.kubeconfig,
      ...helmValuesArgs(values),
    ]);
    expect(res.code).toBe(0);
    expect(await secrets()).toBe(before);
    expect((await podOf(ns)).metadata.uid).toBe(pod.metadata.uid);
    expect((await hubRequest(hubURL, caFile, 'GET', '/readyz')).status).toBe(200);
  });

  it('a new pod finds kcp’s data on the volume: the workspace and the edge made before are still there', async () => {
    const old = await podOf(ns);
    await kubectlOK(cluster.kubeconfig, ['delete', 'pod', '-n', ns, old.metadata.name, '--wait=true']);
    const t0 = Date.now();
    await eventually(
      async () => {
        const pod = await podOf(ns);
        if (pod.metadata.uid === old.metadata.uid) throw new Error('still the old pod');
        const r = await hubRequest(hubURL, caFile, 'GET', '/readyz');
        if (r.status !== 200) throw new Error(`/readyz ${r.status}: ${r.body}`);
      },
      { what: 'the new pod ready', timeoutMs: 180_000, intervalMs: 500 },
    );
    process.stderr.write(
      `[hub-chart] kcp sidecar: a new pod on the same volume answers /readyz ${Date.now() - t0} ms after the old one was gone\n`,
    );
    // The kubeconfig from before the restart still works (same CA, same tokens), and kcp kept the Edge.
    const list = await kedge(['edge', 'list', '--kubeconfig', kc]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^site-1\s/m);
  }, 240_000);
});
