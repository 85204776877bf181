// Who may open `…/edges/<name>/ssh`, and what happens when an edge's agent dies mid-session (issue 8). The raw
// WebSocket endpoint is asked directly (ws with headers): every refusal is a Kubernetes Status with the right code
// and not one connection reaches sshd. Access is its own grant (`create` on `edges/ssh`), apart from kubectl access
// (`proxy` on `edges`). A killed agent ends its session with a clear message while the hub and other sessions go on.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GROUP, Resource } from '../src/api/constants.ts';
import { edgesProxyURL, SSH_ACCESS } from '../src/api/ssh.ts';
import { kedge, kedgeLogin, kubectlOK } from './harness/cli.ts';
import { loadTestEnv } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import {
  edgeStatus,
  joinServerEdge,
  kedgeBinDir,
  kedgeCapture,
  spawnKedge,
  sshEnv,
  sshUpgrade,
  tempHome,
  type ServerEdge,
  type Upgrade,
} from './harness/ssh.ts';
import { startSshd, type Sshd } from './harness/sshd.ts';

const sfx = randomBytes(3).toString('hex');
/** A owns the edges; B is another tenant; D has kubectl access to A's edges only; C has SSH access only. */
const tenants = { a: `sa-${sfx}`, b: `sb-${sfx}`, c: `sc-${sfx}`, d: `sd-${sfx}` };
const tokens = {
  a: randomBytes(24).toString('base64url'),
  b: randomBytes(24).toString('base64url'),
  c: randomBytes(24).toString('base64url'),
  d: randomBytes(24).toString('base64url'),
};
const dir = mkdtempSync(join(tmpdir(), 'kedge-ssh-access-'));
const kc = join(dir, 'a.kubeconfig');
const env = loadTestEnv();

let hub: TestHub | undefined;
let sshd: Sshd;
let binDir: string;
let home: string;
let cluster = '';
const edges: Record<string, ServerEdge | undefined> = {};

const hubURL = (): string => `https://127.0.0.1:${env.hubPort}`;
const url = (edge: string): string => edgesProxyURL(hubURL(), cluster, edge, 'ssh');
const userEnv = (): Record<string, string> => sshEnv({ home, kubeconfig: kc, binDir });
const upgrade = (edge: string, opts: { token?: string; origin?: string } = {}): Promise<Upgrade> =>
  sshUpgrade(url(edge), env.hubCAFile, opts);

/** A ClusterRole + binding in A's workspace for a static user of another tenant (kcp's `access` to enter it too). */
function grantYAML(name: string, tenant: string, rule: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name },
        rules: [{ nonResourceURLs: ['/'], verbs: ['access'] }, rule],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `kedge:static:${tenant}` }],
      },
    ],
  });
}

async function joinEdge(name: string): Promise<ServerEdge> {
  const e = await joinServerEdge({
    kc,
    hubURL: hubURL(),
    hubCAFile: env.hubCAFile,
    name,
    sshPort: sshd.port,
    hostKeyLines: sshd.hostKeyLines,
    // A host key scan is a connection to sshd too: none during the suite, beyond the one at start.
    extraArgs: ['--host-key-interval', '1h'],
  });
  cluster = e.cluster;
  edges[name] = e;
  return e;
}

/** A refusal: the status, a Kubernetes Status body with the same code, and no connection reached sshd. */
async function expectRefused(attempt: () => Promise<Upgrade>, code: number): Promise<void> {
  const before = sshd.connectionsSeen();
  const u = await attempt();
  expect(u.status).toBe(code);
  expect(JSON.parse(u.body)).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  expect(sshd.connectionsSeen()).toBe(before);
}

beforeAll(async () => {
  sshd = await startSshd();
  binDir = kedgeBinDir();
  home = tempHome();
  hub = await startTestHub(Object.entries(tokens).map(([k, t]) => `${tenants[k as keyof typeof tenants]}=${t}`));
  await kedgeLogin(hubURL(), tokens.a, env.hubCAFile, kc);
  await joinEdge('h1');
  await joinEdge('h2');
  // Never joined: a server edge whose agent is not connected; and a kubernetes edge.
  for (const args of [
    ['off', '--type', 'server', '--ssh-port', String(sshd.port)],
    ['k1', '--type', 'kubernetes'],
  ]) {
    const r = await kedge(['edge', 'create', ...args, '--kubeconfig', kc]);
    if (r.code !== 0) throw new Error(`edge create ${args[0]}: ${r.stderr}`);
  }
  await kubectlOK(
    kc,
    ['apply', '-f', '-'],
    grantYAML(`e2e-kubectl-${sfx}`, tenants.d, {
      apiGroups: [GROUP],
      resources: [Resource.edges],
      verbs: ['get', 'list', 'proxy'],
    }),
  );
  await kubectlOK(
    kc,
    ['apply', '-f', '-'],
    grantYAML(`e2e-ssh-${sfx}`, tenants.c, {
      apiGroups: [SSH_ACCESS.group],
      resources: [`${SSH_ACCESS.resource}/${SSH_ACCESS.subresource}`],
      verbs: [SSH_ACCESS.verb],
      resourceNames: ['h1'],
    }),
  );
}, 240_000);

afterAll(async () => {
  for (const e of Object.values(edges)) await e?.agent.kill().catch(() => {});
  await hub?.stop();
  await sshd?.stop();
  if (!process.env.KEDGE_TEST_KEEP)
    for (const d of [dir, binDir, home]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

describe('the grants', () => {
  it('give D kubectl access (proxy) to the kubernetes edge and C none (checked on …/k8s)', async () => {
    const k8s = `${edgesProxyURL('', cluster, 'k1', 'k8s')}/api`;
    await eventually(
      async () => {
        // 502: allowed and the edge exists, but no agent is connected. 403: not allowed.
        expect((await hubRequest(hubURL(), env.hubCAFile, 'GET', k8s, { token: tokens.d })).status).toBe(502);
      },
      { what: "D's proxy grant to take effect" },
    );
    expect((await hubRequest(hubURL(), env.hubCAFile, 'GET', k8s, { token: tokens.c })).status).toBe(403);
    expect((await hubRequest(hubURL(), env.hubCAFile, 'GET', k8s, { token: tokens.b })).status).toBe(403);
  });
});

describe('…/ssh refuses, before any byte reaches sshd', () => {
  it('without a token (401) and with a garbage token (401)', async () => {
    await expectRefused(() => upgrade('h1'), 401);
    await expectRefused(() => upgrade('h1', { token: 'not-a-token-anyone-was-given' }), 401);
  });

  it("another tenant's user (403), also for an edge that does not exist (existence does not leak)", async () => {
    await expectRefused(() => upgrade('h1', { token: tokens.b }), 403);
    await expectRefused(() => upgrade('nope', { token: tokens.b }), 403);
  });

  it('a user with kubectl access (proxy on edges) but no create on edges/ssh (403)', async () => {
    await expectRefused(() => upgrade('h1', { token: tokens.d }), 403);
  });

  it('a kubernetes edge (404), an unknown edge (404), a server edge without its agent (502)', async () => {
    await expectRefused(() => upgrade('k1', { token: tokens.a }), 404);
    await expectRefused(() => upgrade('nope', { token: tokens.a }), 404);
    await expectRefused(() => upgrade('off', { token: tokens.a }), 502);
  });

  it('an Origin from elsewhere (403)', async () => {
    await expectRefused(() => upgrade('h1', { token: tokens.a, origin: 'https://evil.example' }), 403);
  });
});

describe('…/ssh lets in', () => {
  it.each([
    ['the owner', 'a'],
    ['a user granted only create on edges/ssh for this edge', 'c'],
  ] as const)('%s: 101 and the bytes are sshd’s', async (_what, who) => {
    const before = sshd.connectionsSeen();
    const u = await eventually(
      async () => {
        const r = await upgrade('h1', { token: tokens[who] });
        expect(r.status).toBe(101);
        return r;
      },
      { what: `${who} upgraded` },
    );
    expect(u.body).toMatch(/^SSH-2\.0-OpenSSH/);
    expect(sshd.connectionsSeen()).toBe(before + 1);
  });

  it('C only for the edge named in the grant', async () => {
    await expectRefused(() => upgrade('h2', { token: tokens.c }), 403);
  });
});

describe('a revoked edge', () => {
  it('answers 404 once its Edge is deleted, and its agent exits', async () => {
    const e = await joinEdge('h3');
    expect((await upgrade('h3', { token: tokens.a })).status).toBe(101);
    const del = await kedge(['edge', 'delete', 'h3', '--kubeconfig', kc]);
    expect(del.code).toBe(0);
    await eventually(async () => expect((await upgrade('h3', { token: tokens.a })).status).toBe(404), {
      what: 'h3 refused',
    });
    await expectRefused(() => upgrade('h3', { token: tokens.a }), 404);
    const code = await Promise.race([e.agent.exited(), new Promise((res) => setTimeout(() => res('timeout'), 60_000))]);
    expect(code).not.toBe('timeout');
  }, 120_000);
});

describe('an agent killed mid-session', () => {
  it('ends that session with a clear message; other sessions and the hub go on; a restarted agent serves again', async () => {
    const h1 = edges.h1;
    if (!h1) throw new Error('h1 not joined');
    const key = sshd.userKeyPath;
    const auths = sshd.authenticationsSeen();
    const doomed = spawnKedge(['ssh', '-i', key, 'h1', '--', 'sleep', '60'], userEnv());
    const other = spawnKedge(['ssh', '-i', key, 'h2', '--', 'cat'], userEnv());
    other.child.stdin?.write('before\n');
    await eventually(
      async () => {
        expect(sshd.authenticationsSeen()).toBe(auths + 2);
        expect(other.stdout().toString()).toBe('before\n');
      },
      { what: 'both sessions open' },
    );

    await h1.agent.kill();
    const timeout = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 15_000));
    const ended = await Promise.race([doomed.exited, timeout]);
    if (ended === 'timeout') throw new Error(`kedge ssh still running 15 s after its agent died: ${doomed.stderr()}`);
    expect(ended.code).toBe(255);
    expect(ended.stderr).toMatch(/agent|disconnected/i);

    // The other session still carries bytes both ways.
    other.child.stdin?.write('after\n');
    await eventually(async () => expect(other.stdout().toString()).toBe('before\nafter\n'), {
      what: 'h2 still echoes',
    });
    other.child.stdin?.end();
    expect((await other.exited).code).toBe(0);

    // h1 is now a disconnected edge, like a kubernetes edge whose agent went away: 502 without touching sshd.
    await eventually(async () => expect((await edgeStatus(kc, 'h1')).phase).toBe('Disconnected'), {
      what: 'h1 Disconnected',
    });
    await eventually(async () => expect((await upgrade('h1', { token: tokens.a })).status).toBe(502), {
      what: 'h1 refused as disconnected',
    });
    await expectRefused(() => upgrade('h1', { token: tokens.a }), 502);

    h1.agent.restart();
    await eventually(
      async () => {
        const s = await edgeStatus(kc, 'h1');
        if (s.phase !== 'Ready') throw new Error(`h1 is ${s.phase}`);
      },
      { what: 'h1 Ready again', timeoutMs: 60_000 },
    );
    const again = await kedgeCapture(['ssh', '-i', key, 'h1', '--', 'echo', 'back'], userEnv());
    expect(again.stderr).toBe('');
    expect(again.stdout.toString()).toBe('back\n');
  }, 120_000);
});
