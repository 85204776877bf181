// Small teams (issue 9): real Dex users alice and bob log in to a hub with --oidc-*, each into a workspace of their
// own. alice shares hers with `kedge workspace share` (plain RBAC written with her own credentials, so kcp decides);
// bob then finds it in `kedge workspace list` (the hub's GET /auth/workspaces, which reads share bindings across
// all tenants through the APIExport virtual workspace), switches to it with `kedge workspace use` or `kubectl ws`,
// and kcp gives him exactly the role alice chose — until she unshares. A group share works the same way.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceList } from '../src/api/workspace-list.ts';
import { kedge, kedgeLogin, kubectl, type RunResult } from './harness/cli.ts';
import { DEX_UP_TIMEOUT_MS, dexDown, dexIdToken, dexUp } from './harness/dex.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { loadTestEnv } from './harness/env.ts';

const dexName = `share-${Math.random().toString(36).slice(2, 7)}`;
const dir = mkdtempSync(join(tmpdir(), 'kedge-share-e2e-'));
const kc = { alice: join(dir, 'alice.kubeconfig'), bob: join(dir, 'bob.kubeconfig') };
const tokens: Record<string, string> = {};
let hub: TestHub;
const testEnv = loadTestEnv();

type Who = keyof typeof kc;
const ws = (who: Who, ...args: string[]): Promise<RunResult> => kedge(['workspace', ...args], { KUBECONFIG: kc[who] });
const list = async (who: Who): Promise<WorkspaceList> => {
  const r = await ws(who, 'list', '-o', 'json');
  if (r.code !== 0) throw new Error(`kedge workspace list: ${r.stderr}`);
  return JSON.parse(r.stdout) as WorkspaceList;
};
/** The hub's answer behind `kedge workspace list`, asked in-process (no CLI start) where the CLI is not the point. */
const listed = async (who: Who | 'carol'): Promise<WorkspaceList> => {
  const r = await hubRequest(hub.hubURL, hub.caFile, 'GET', '/auth/workspaces', { token: tokens[who]! });
  if (r.status !== 200) throw new Error(`GET /auth/workspaces: ${r.status} ${r.body}`);
  return r.json<WorkspaceList>();
};
const server = (who: Who): string => /server: (\S+)/.exec(readFileSync(kc[who], 'utf8'))?.[1] ?? '';
const pathOf = (who: Who): string => /\/clusters\/(\S+)$/.exec(server(who))?.[1] ?? '';
const vw = (name: string): string => `apiVersion: kedge.faros.sh/v1alpha1
kind: VirtualWorkload
metadata: {name: ${name}, namespace: default}
spec:
  simple: {image: nginx:1.27}
  placement: {edgeSelector: {matchLabels: {env: none}}}
`;

beforeAll(async () => {
  const dex = await dexUp(dexName);
  hub = await startTestHub([], { oidc: { issuerURL: dex.issuer, clientID: dex.cliClientID, ca: dex.ca } });
  for (const u of ['alice', 'bob', 'carol']) tokens[u] = await dexIdToken(dex, `${u}@example.com`);
  await Promise.all([
    kedgeLogin(hub.hubURL, tokens.alice!, testEnv.hubCAFile, kc.alice),
    kedgeLogin(hub.hubURL, tokens.bob!, testEnv.hubCAFile, kc.bob),
  ]);
}, DEX_UP_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await hub?.stop();
  await dexDown(dexName);
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /auth/workspaces', () => {
  it('is 401 without a token and with a bad one, 405 for another method', async () => {
    expect((await hubRequest(hub.hubURL, hub.caFile, 'GET', '/auth/workspaces')).status).toBe(401);
    const bad = await hubRequest(hub.hubURL, hub.caFile, 'GET', '/auth/workspaces', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    const forged = `${tokens.alice!.slice(0, -4)}AAAA`;
    expect((await hubRequest(hub.hubURL, hub.caFile, 'GET', '/auth/workspaces', { token: forged })).status).toBe(401);
    const post = await hubRequest(hub.hubURL, hub.caFile, 'POST', '/auth/workspaces', { token: tokens.alice! });
    expect(post.status).toBe(405);
  });
});

describe('sharing a workspace', () => {
  let alicePath = '';
  let bobPath = '';

  it('gives alice and bob separate workspaces; each lists only their own and cannot enter the other', async () => {
    alicePath = pathOf('alice');
    bobPath = pathOf('bob');
    expect(alicePath).toMatch(/^root:kedge:tenants:alice-[0-9a-f]{10}$/);
    expect(bobPath).toMatch(/^root:kedge:tenants:bob-[0-9a-f]{10}$/);
    const a = await list('alice');
    expect(a.user).toBe('kedge:oidc:alice@example.com');
    expect(a.items).toEqual([
      { name: alicePath.split(':').at(-1), path: alicePath, role: 'admin', own: true, current: true },
    ]);
    expect((await listed('bob')).items.map((w) => w.path)).toEqual([bobPath]);
    const table = await ws('alice', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^CURRENT\s+NAME\s+ROLE\s+ACCESS\s+PATH$/);
    // The hub forwards any tenant path now; kcp refuses bob (no binding in alice's workspace).
    const get = await hubRequest(hub.hubURL, hub.caFile, 'GET', `/clusters/${alicePath}/api/v1/namespaces`, {
      token: tokens.bob!,
    });
    expect(get.status).toBe(403);
    expect(get.body).not.toContain('is not accessible');
    const use = await ws('bob', 'use', alicePath);
    expect([use.code, use.stderr]).toEqual([1, expect.stringMatching(/no workspace .* among yours/)]);
    expect(pathOf('bob')).toBe(bobPath);
  });

  it('explains a wrong role and a missing subject, and changes nothing', async () => {
    const role = await ws('alice', 'share', 'bob@example.com', '--role', 'owner');
    expect([role.code, role.stderr]).toEqual([1, expect.stringMatching(/Allowed choices are admin, edit, view/)]);
    const none = await ws('alice', 'share', '--role', 'view');
    expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/exactly one subject/)]);
    const sys = await ws('alice', 'share', 'system:authenticated');
    expect([sys.code, sys.stderr]).toEqual([1, expect.stringMatching(/system: names cannot/)]);
    expect((await listed('bob')).items).toHaveLength(1);
  });

  it('view: bob lists and uses alice’s workspace, reads VirtualWorkloads, cannot create one or share onward', async () => {
    const shared = await ws('alice', 'share', 'bob@example.com', '--role', 'view');
    expect([shared.code, shared.stderr]).toEqual([0, '']);
    expect(shared.stdout.trim()).toBe(`Shared ${alicePath} with user kedge:oidc:bob@example.com as view.`);
    const again = await ws('alice', 'share', 'bob@example.com', '--role', 'view');
    expect(again.stdout).toMatch(/already shared .* as view; nothing changed/);
    const shares = await ws('alice', 'shares');
    expect(shares.stdout.split('\n').map((l) => l.split(/\s+/).join(' '))).toEqual([
      'KIND NAME ROLE',
      'user kedge:oidc:bob@example.com view',
      '',
    ]);

    const b = await listed('bob');
    expect(b.items.map(({ path, role, own }) => ({ path, role, own }))).toEqual([
      { path: bobPath, role: 'admin', own: true },
      { path: alicePath, role: 'view', own: false },
    ]);
    expect((await listed('carol')).items.map((w) => w.path)).not.toContain(alicePath);

    const use = await ws('bob', 'use', alicePath.split(':').at(-1)!);
    expect([use.code, use.stderr]).toEqual([0, '']);
    expect(use.stdout).toContain(`now uses workspace ${alicePath} (shared, role view)`);
    expect(pathOf('bob')).toBe(alicePath);
    await eventually(
      async () => {
        const get = await kubectl(kc.bob, ['get', 'virtualworkloads', '-o', 'name']);
        if (get.code !== 0) throw new Error(get.stderr);
      },
      { what: 'bob reading VirtualWorkloads in alice’s workspace', timeoutMs: 15_000 },
    );
    const create = await kubectl(kc.bob, ['apply', '-f', '-'], { input: vw('by-bob') });
    expect(create.code).not.toBe(0);
    expect(create.stderr).toMatch(/forbidden/i);
    const here = await kubectl(kc.bob, ['ws', '.']);
    expect(here.stdout).toContain(alicePath);

    const peek = await ws('bob', 'shares');
    expect([peek.code, peek.stderr]).toEqual([1, expect.stringMatching('only a workspace admin can see the shares')]);
    const onward = await ws('bob', 'share', 'carol@example.com', '--role', 'admin');
    expect([onward.code, onward.stderr]).toEqual([
      1,
      expect.stringMatching(`only a workspace admin can share ${alicePath}`),
    ]);
    const crb = await kubectl(kc.bob, [
      'create',
      'clusterrolebinding',
      'bob-escalates',
      '--clusterrole=kedge:workspace:admin',
      '--user=kedge:oidc:bob@example.com',
    ]);
    expect(crb.code).not.toBe(0);
    expect(crb.stderr).toMatch(/forbidden/i);
  });

  it('kubectl ws use enters the shared workspace through the hub, like its owner', async () => {
    expect((await ws('bob', 'use', bobPath)).code).toBe(0);
    const enter = await kubectl(kc.bob, ['ws', 'use', `:${alicePath}`]);
    expect([enter.code, enter.stderr]).toEqual([0, '']);
    expect((await kubectl(kc.bob, ['ws', '.'])).stdout).toContain(alicePath);
    expect((await kubectl(kc.bob, ['get', 'virtualworkloads'])).code).toBe(0);
  });

  it('edit: re-sharing replaces the role, and bob can create', async () => {
    const edit = await ws('alice', 'share', 'bob@example.com', '--role', 'edit');
    expect(edit.stdout.trim()).toBe(`Shared ${alicePath} with user kedge:oidc:bob@example.com as edit (was view).`);
    const bindings = await kubectl(kc.alice, [
      'get',
      'clusterrolebindings',
      '-l',
      'kedge.faros.sh/share-role',
      '-o',
      'name',
    ]);
    expect(bindings.stdout.trim().split('\n')).toHaveLength(1);
    expect(bindings.stdout).toMatch(/kedge:share:edit:user:bob-example.com-[0-9a-f]{8}/);
    expect((await listed('bob')).items.find((w) => w.path === alicePath)?.role).toBe('edit');
    expect((await ws('bob', 'use', alicePath)).code).toBe(0);
    await eventually(
      async () => {
        const create = await kubectl(kc.bob, ['apply', '-f', '-'], { input: vw('by-bob') });
        if (create.code !== 0) throw new Error(create.stderr);
      },
      { what: 'bob creating a VirtualWorkload as edit', timeoutMs: 15_000 },
    );
    const seen = await kubectl(kc.alice, ['get', 'virtualworkloads', 'by-bob', '-o', 'name']);
    expect(seen.stdout.trim()).toBe('virtualworkload.kedge.faros.sh/by-bob');
  });

  it('unshare: bob gets 403 and the workspace leaves his list', async () => {
    const un = await ws('alice', 'unshare', 'bob@example.com');
    expect(un.stdout.trim()).toBe(`Unshared ${alicePath} from user kedge:oidc:bob@example.com (was edit).`);
    await eventually(
      async () => {
        const get = await kubectl(kc.bob, ['get', 'virtualworkloads']);
        if (!/forbidden/i.test(get.stderr)) throw new Error(`still allowed: ${get.code} ${get.stderr}`);
      },
      { what: 'bob refused in alice’s workspace', timeoutMs: 15_000 },
    );
    const direct = await hubRequest(hub.hubURL, hub.caFile, 'GET', `/clusters/${alicePath}/api/v1/namespaces`, {
      token: tokens.bob!,
    });
    expect(direct.status).toBe(403);
    expect((await listed('bob')).items.map((w) => w.path)).toEqual([bobPath]);
    const twice = await ws('alice', 'unshare', 'bob@example.com');
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringMatching(/is not shared with user/)]);
  });

  it('a group share (--group acme → kedge:oidc:acme) reaches bob too', async () => {
    const g = await ws('alice', 'share', '--group', 'acme');
    expect(g.stdout.trim()).toBe(`Shared ${alicePath} with group kedge:oidc:acme as view.`);
    expect((await listed('bob')).items.find((w) => w.path === alicePath)).toMatchObject({ role: 'view', own: false });
    expect((await listed('carol')).items.map((w) => w.path)).not.toContain(alicePath);
    expect((await ws('bob', 'use', alicePath)).code).toBe(0);
    await eventually(
      async () => {
        const get = await kubectl(kc.bob, ['get', 'virtualworkloads', '-o', 'name']);
        if (get.code !== 0) throw new Error(get.stderr);
      },
      { what: 'bob reading through the group share', timeoutMs: 15_000 },
    );
    expect((await ws('alice', 'unshare', '--group', 'acme')).code).toBe(0);
    expect((await listed('bob')).items.map((w) => w.path)).toEqual([bobPath]);
  });
});
