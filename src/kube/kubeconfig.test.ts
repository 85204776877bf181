import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKedgeError } from '../api/errors.ts';
import { KubeClient } from './client.ts';
import { KubeconfigErrorCode } from './kubeconfig-errors.ts';
import { SERVICE_ACCOUNT_DIR, kubeconfigPaths, loadKubeconfig, readKubeConfig } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const tmp = () => mkdtempSync(join(tmpdir(), 'kedge-kc-'));

const yaml = `
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: kcp
  cluster:
    server: https://127.0.0.1:6443/clusters/root:kedge
    certificate-authority-data: ${b64('CA PEM')}
    tls-server-name: kcp.internal
- name: insecure
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
    certificate-authority: ca.crt
users:
- name: admin
  user:
    token: abc
- name: cert
  user:
    client-certificate-data: ${b64('CERT')}
    client-key: key.pem
- name: sa
  user:
    tokenFile: sa-token
- name: basic
  user: { username: u, password: p }
contexts:
- name: admin
  context: { cluster: kcp, user: admin }
- name: cert
  context: { cluster: insecure, user: cert }
- name: sa
  context: { cluster: insecure, user: sa }
- name: basic
  context: { cluster: kcp, user: basic }
- name: ghost
  context: { cluster: kcp, user: nobody }
`;

/** Writes an exec plugin that prints an ExecCredential and counts its runs in `<dir>/runs`. */
function plugin(dir: string, token: string, expiration?: string): string {
  const path = join(dir, 'plugin.sh');
  const exp = expiration ? `, "expirationTimestamp": "${expiration}"` : '';
  writeFileSync(
    path,
    `#!/bin/sh
echo run >> "${dir}/runs"
[ -n "$PLUGIN_FAIL" ] && { echo "plugin says no" >&2; exit 3; }
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"${exp}}}'
`,
  );
  chmodSync(path, 0o755);
  return path;
}
const runs = (dir: string): number => readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;

function execKubeconfig(command: string, env: Record<string, string> = {}): string {
  const envList = Object.entries(env).map(([name, value]) => ({ name, value }));
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'x',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
    users: [
      {
        name: 'p',
        user: {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command, ...(envList.length ? { env: envList } : {}) },
        },
      },
    ],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'p' } }],
  });
}

describe('loadKubeconfig: static credentials', () => {
  it('resolves the current context: server with its path prefix, CA data, TLS server name and token', () => {
    const opts = loadKubeconfig({ yaml });
    expect(opts.server).toBe('https://127.0.0.1:6443/clusters/root:kedge');
    expect(opts.ca?.toString()).toBe('CA PEM');
    expect(opts.tlsServerName).toBe('kcp.internal');
    expect(opts.token).toBe('abc');
    expect(opts.insecureSkipTLSVerify).toBe(false);
    expect(opts.authorization).toBeUndefined();
  });

  it('reads CA, client certificate/key and token files relative to the kubeconfig', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ca.crt'), 'FILE CA');
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    writeFileSync(join(dir, 'config'), yaml);
    const cert = loadKubeconfig({ path: join(dir, 'config') }, 'cert');
    expect(cert.server).toBe('https://10.0.0.1:6443');
    expect(cert.insecureSkipTLSVerify).toBe(true);
    expect([cert.ca?.toString(), cert.clientCert?.toString(), cert.clientKey?.toString()]).toEqual([
      'FILE CA',
      'CERT',
      'KEY',
    ]);
    expect(cert.token).toBeUndefined();
    const sa = loadKubeconfig({ path: join(dir, 'config') }, 'sa');
    expect(sa.tokenFile).toBe(join(dir, 'sa-token'));
    expect(sa.token).toBeUndefined();
  });

  it('sends basic auth as a fixed Authorization header', async () => {
    const opts = loadKubeconfig({ yaml }, 'basic');
    expect(await opts.authorization?.()).toBe(`Basic ${b64('u:p')}`);
  });

  it('names the kubeconfig and context in KEDGE_KUBECONFIG_INVALID errors', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config'), yaml);
    const code = (f: () => unknown): [string | undefined, string] => {
      try {
        f();
      } catch (err) {
        return [isKedgeError(err) ? err.code : undefined, (err as Error).message];
      }
      throw new Error('did not throw');
    };
    expect(code(() => loadKubeconfig({ path: join(dir, 'config') }, 'missing'))).toEqual([
      KubeconfigErrorCode.Invalid,
      `kubeconfig ${join(dir, 'config')}: no context named "missing"`,
    ]);
    expect(code(() => loadKubeconfig({ yaml }, 'ghost'))).toEqual([
      KubeconfigErrorCode.Invalid,
      'kubeconfig text, context "ghost": no user named "nobody"',
    ]);
    expect(code(() => loadKubeconfig({ yaml }, 'cert'))[0]).toBe(KubeconfigErrorCode.Invalid); // ca.crt relative to cwd: absent
    expect(code(() => loadKubeconfig({ yaml: 'a: [' }))[0]).toBe(KubeconfigErrorCode.Invalid);
    expect(code(() => loadKubeconfig({ yaml: '' }))[1]).toBe(
      'kubeconfig text: no current-context set and no context given',
    );
    expect(code(() => loadKubeconfig({ path: join(dir, 'nope') }))).toEqual([
      KubeconfigErrorCode.Invalid,
      `kubeconfig ${join(dir, 'nope')}: no such file`,
    ]);
  });

  it('refuses proxy-url and impersonation with KEDGE_KUBECONFIG_UNSUPPORTED', () => {
    const proxied = yaml.replace('insecure-skip-tls-verify: true', 'proxy-url: http://proxy:3128');
    expect(() => loadKubeconfig({ yaml: proxied }, 'cert')).toThrow(
      expect.objectContaining({ code: KubeconfigErrorCode.Unsupported }),
    );
    const as = yaml.replace('    token: abc', '    token: abc\n    as: someone');
    expect(() => loadKubeconfig({ yaml: as })).toThrow(
      expect.objectContaining({ code: KubeconfigErrorCode.Unsupported }),
    );
  });
});

describe('loadKubeconfig: merged KUBECONFIG lists', () => {
  it('merges like kubectl: the context in one file, its cluster and user in the other; first file wins', () => {
    const dir = tmp();
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(
      a,
      `
current-context: edge
contexts: [{name: edge, context: {cluster: edge, user: edge-user}}]
clusters: [{name: edge, cluster: {server: https://first:6443}}]
`,
    );
    writeFileSync(join(dir, 'token'), 'from-file\n');
    writeFileSync(
      b,
      `
current-context: other
clusters: [{name: edge, cluster: {server: https://second:6443}}]
users: [{name: edge-user, user: {tokenFile: token}}]
`,
    );
    const list = [a, join(dir, 'missing.yaml'), b].join(':');
    expect(kubeconfigPaths(`${list}:`)).toEqual([a, join(dir, 'missing.yaml'), b]);
    const opts = loadKubeconfig({ paths: kubeconfigPaths(list) });
    expect(opts.server).toBe('https://first:6443');
    expect(opts.tokenFile).toBe(join(dir, 'token'));
    expect(readKubeConfig({ paths: [b, a] }).getCurrentContext()).toBe('other');
    expect(() => loadKubeconfig({ paths: [join(dir, 'x'), join(dir, 'y')] })).toThrow(
      expect.objectContaining({ code: KubeconfigErrorCode.Invalid }),
    );
  });
});

describe('loadKubeconfig: exec plugins', () => {
  // client-node is imported on the first credential fetch (kubeconfig-options.ts); through jest's transform that alone
  // can outlast a test's 5 s on a busy machine.
  beforeAll(() => import('@kubernetes/client-node'), 120_000);

  it('runs the plugin for the token and caches its ExecCredential (one run for concurrent callers)', async () => {
    const dir = tmp();
    const opts = loadKubeconfig({ yaml: execKubeconfig(plugin(dir, 'exec-token')) });
    expect(opts.token).toBeUndefined();
    const headers = await Promise.all([opts.authorization?.(), opts.authorization?.(), opts.authorization?.()]);
    expect(headers).toEqual(['Bearer exec-token', 'Bearer exec-token', 'Bearer exec-token']);
    expect(await opts.authorization?.()).toBe('Bearer exec-token');
    expect(runs(dir)).toBe(1);
  });

  it('runs the plugin again once its credential expired', async () => {
    const dir = tmp();
    const opts = loadKubeconfig({ yaml: execKubeconfig(plugin(dir, 'short', '2000-01-01T00:00:00Z')) });
    await opts.authorization?.();
    await opts.authorization?.();
    expect(runs(dir)).toBe(2);
  });

  it('resolves a relative plugin path against the kubeconfig and feeds the KubeClient per request', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'bin'));
    plugin(join(dir, 'bin'), 'wire-token');
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json').end('{"kind":"Namespace"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      join(dir, 'config'),
      execKubeconfig('./bin/plugin.sh').replace('https://127.0.0.1:1', `http://127.0.0.1:${port}`),
    );
    const client = new KubeClient(loadKubeconfig({ path: join(dir, 'config') }));
    try {
      await client.get('/api/v1/namespaces/default');
      await client.get('/api/v1/namespaces/default');
      expect(seen).toEqual(['Bearer wire-token', 'Bearer wire-token']);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('reports a failing plugin as KEDGE_KUBECONFIG_CREDENTIAL with its stderr, and retries it next time', async () => {
    const dir = tmp();
    const opts = loadKubeconfig({ yaml: execKubeconfig(plugin(dir, 't'), { PLUGIN_FAIL: '1' }) });
    await expect(opts.authorization?.()).rejects.toMatchObject({
      code: KubeconfigErrorCode.Credential,
      message: expect.stringContaining('plugin says no'),
    });
    await expect(opts.authorization?.()).rejects.toMatchObject({ code: KubeconfigErrorCode.Credential });
    expect(runs(dir)).toBe(2);
  });
});

describe('readKubeConfig: in-cluster', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env.KUBERNETES_SERVICE_HOST = saved.KUBERNETES_SERVICE_HOST;
    process.env.KUBERNETES_SERVICE_PORT = saved.KUBERNETES_SERVICE_PORT;
    if (saved.KUBERNETES_SERVICE_HOST === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    if (saved.KUBERNETES_SERVICE_PORT === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
  });

  it('builds options from the service environment and the mounted service account', () => {
    const prefix = tmp();
    mkdirSync(join(prefix, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(prefix, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'SA CA');
    process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const opts = loadKubeconfig({ inCluster: true, pathPrefix: prefix });
    expect(opts).toMatchObject({
      server: 'https://[fd00::1]:443',
      tokenFile: join(prefix, SERVICE_ACCOUNT_DIR, 'token'),
    });
    expect(opts.ca?.toString()).toBe('SA CA');
    delete process.env.KUBERNETES_SERVICE_HOST;
    expect(() => loadKubeconfig({ inCluster: true, pathPrefix: prefix })).toThrow(
      expect.objectContaining({ code: KubeconfigErrorCode.Invalid }),
    );
  });
});
