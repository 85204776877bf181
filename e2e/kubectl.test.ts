// A user's first minutes, with the real binaries: `kedge login`, then kubectl (apply, get, server-side apply,
// explain, validation errors) and kcp's `kubectl ws` plugin, all through the hub.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kedge, kedgeLogin, kubectl } from './harness/cli.ts';
import { eventually } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const tenant = `kc-${randomBytes(3).toString('hex')}`;
const token = randomBytes(24).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'kedge-kubectl-'));
const kubeconfig = join(dir, 'config');
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub([`${tenant}=${token}`]);
  await kedgeLogin(hub.hubURL, token, hub.caFile, kubeconfig);
});
afterAll(async () => {
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const vw = (name: string, spec: string) => `apiVersion: kedge.faros.sh/v1alpha1
kind: VirtualWorkload
metadata:
  name: ${name}
  namespace: default
spec:
${spec}`;

describe('kedge login errors say what to do and change nothing', () => {
  it.each([
    [
      'a wrong token',
      ['--token', 'not-the-right-token-at-all', '--certificate-authority'],
      /rejected the token \(401\)/,
    ],
    ['an untrusted hub certificate', ['--token', token], /not trusted.*--certificate-authority/],
    ['a plain-http hub URL', ['--token', token, '--hub-url-override'], /must use https/],
  ])('with %s', async (_what, extra, message) => {
    const other = join(dir, `config-${randomBytes(2).toString('hex')}`);
    const args = ['login', '--kubeconfig', other, '--hub-url', hub.hubURL, ...extra];
    if (extra.at(-1) === '--certificate-authority') args.push(hub.caFile);
    const i = args.indexOf('--hub-url-override');
    if (i >= 0) args.splice(i, 1, '--hub-url', hub.hubURL.replace('https:', 'http:'));
    const res = await kedge(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(existsSync(other)).toBe(false);
  });
});

describe('kubectl through the hub', () => {
  it('applies a VirtualWorkload and lists it with the printer columns', async () => {
    const apply = await kubectl(kubeconfig, ['apply', '-f', '-'], {
      input: vw(
        'web',
        '  simple:\n    image: nginx:1.27\n    ports: [{containerPort: 80}]\n  placement:\n    edgeSelector: {matchLabels: {region: eu}}\n',
      ),
    });
    expect(apply.stderr).toBe('');
    expect(apply.stdout).toContain('virtualworkload.kedge.faros.sh/web created');
    const get = await kubectl(kubeconfig, ['get', 'vw']);
    expect(get.code).toBe(0);
    expect(get.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+EDGES\s+READY\s+AGE/);
    expect(get.stdout).toMatch(/\nweb\s/);
    const obj = JSON.parse((await kubectl(kubeconfig, ['get', 'vw', 'web', '-o', 'json'])).stdout) as {
      spec: { replicas: number; placement: { strategy: string } };
    };
    expect(obj.spec.replicas).toBe(1); // defaulted
    expect(obj.spec.placement.strategy).toBe('Spread'); // defaulted
  });

  it('supports server-side apply', async () => {
    for (const replicas of [2, 3]) {
      const res = await kubectl(kubeconfig, ['apply', '--server-side', '--field-manager=e2e', '-f', '-'], {
        input: vw('web-ssa', `  replicas: ${replicas}\n  simple:\n    image: nginx:1.27\n`),
      });
      expect(res.stderr).toBe('');
      expect(res.stdout).toContain('virtualworkload.kedge.faros.sh/web-ssa serverside-applied');
    }
    const replicas = await kubectl(kubeconfig, ['get', 'vw', 'web-ssa', '-o', 'jsonpath={.spec.replicas}']);
    expect(replicas.stdout).toBe('3');
    const managers = await kubectl(kubeconfig, [
      'get',
      'vw',
      'web-ssa',
      '--show-managed-fields',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managers.stdout).toContain('e2e');
  });

  it('explains the schema', async () => {
    const res = await kubectl(kubeconfig, ['explain', 'virtualworkload.spec']);
    expect(res.code).toBe(0);
    for (const field of ['simple', 'template', 'replicas', 'placement']) expect(res.stdout).toContain(field);
    const tmpl = await kubectl(kubeconfig, ['explain', 'virtualworkload.spec.template.spec.containers']);
    expect(tmpl.code).toBe(0);
    expect(tmpl.stdout).toContain('image');
  });

  it.each([
    [
      'both simple and template',
      '  simple: {image: nginx}\n  template: {spec: {containers: [{name: c, image: nginx}]}}\n',
      /exactly one of spec.simple or spec.template/,
    ],
    ['neither simple nor template', '  replicas: 1\n', /exactly one of spec.simple or spec.template/],
    [
      'an unknown strategy',
      '  simple: {image: nginx}\n  placement: {strategy: Random}\n',
      /spec.placement.strategy: Unsupported value: "Random"/,
    ],
    [
      'a simple workload without image',
      '  simple: {ports: [{containerPort: 80}]}\n',
      /spec.simple.image: Required value/,
    ],
  ])('rejects a VirtualWorkload with %s, naming the problem', async (_what, spec, message) => {
    const name = `bad-${randomBytes(2).toString('hex')}`;
    const res = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: vw(name, spec) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(message);
    const get = await kubectl(kubeconfig, ['get', 'vw', name]);
    expect(get.stderr).toContain('NotFound');
  });
});

describe('kubectl ws through the hub', () => {
  it('shows the current workspace and refuses to enter another tenant', async () => {
    const cur = await kubectl(kubeconfig, ['ws', '.']);
    expect(cur.code).toBe(0);
    expect(cur.stdout).toContain(`root:kedge:tenants:${tenant}`);
    const other = await kubectl(kubeconfig, ['ws', 'use', ':root:kedge:tenants:someone-else']);
    expect(other.code).not.toBe(0);
  });

  it('creates a child workspace that turns Ready and that the user can use', async () => {
    const created = await kubectl(kubeconfig, ['ws', 'create', 'child', '--enter'], {});
    expect(created.stderr).not.toMatch(/error/i);
    expect(created.code).toBe(0);
    const cur = await kubectl(kubeconfig, ['ws', '.']);
    expect(cur.stdout).toContain(`root:kedge:tenants:${tenant}:child`);
    await eventually(
      async () => {
        const cm = await kubectl(kubeconfig, ['create', 'configmap', 'in-child', '--from-literal=a=1']);
        if (cm.code !== 0 && !cm.stderr.includes('AlreadyExists')) throw new Error(cm.stderr);
      },
      { what: 'a ConfigMap in the child workspace', timeoutMs: 60_000 },
    );
    const get = await kubectl(kubeconfig, ['get', 'configmap', 'in-child', '-o', 'jsonpath={.data.a}']);
    expect(get.stdout).toBe('1');
    const back = await kubectl(kubeconfig, ['ws', 'use', '..']);
    expect(back.code).toBe(0);
  });
});
