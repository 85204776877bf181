import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterOptions, KubeconfigError, loadKubeconfig } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const yaml = `
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: kcp
  cluster:
    server: https://127.0.0.1:6443/clusters/root:kedge
    certificate-authority-data: ${b64('CA PEM')}
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
- name: plugin
  user:
    exec: { command: kubelogin }
contexts:
- name: admin
  context: { cluster: kcp, user: admin }
- name: cert
  context: { cluster: insecure, user: cert }
- name: plugin
  context: { cluster: kcp, user: plugin }
`;

describe('loadKubeconfig', () => {
  it('resolves the current context: server with its path prefix, CA data and token', () => {
    const opts = loadKubeconfig({ yaml });
    expect(opts.server).toBe('https://127.0.0.1:6443/clusters/root:kedge');
    expect(opts.ca?.toString()).toBe('CA PEM');
    expect(opts.token).toBe('abc');
    expect(opts.insecureSkipTLSVerify).toBe(false);
  });

  it('reads files relative to the kubeconfig for a named context with client certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-kc-'));
    writeFileSync(join(dir, 'ca.crt'), 'FILE CA');
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    writeFileSync(join(dir, 'config'), yaml);
    const opts = loadKubeconfig({ path: join(dir, 'config') }, 'cert');
    expect(opts.server).toBe('https://10.0.0.1:6443');
    expect(opts.insecureSkipTLSVerify).toBe(true);
    expect([opts.ca?.toString(), opts.clientCert?.toString(), opts.clientKey?.toString()]).toEqual(['FILE CA', 'CERT', 'KEY']);
    expect(opts.token).toBeUndefined();
  });

  it('refuses exec plugins, unknown contexts and bad YAML with a typed error', () => {
    expect(() => loadKubeconfig({ yaml }, 'plugin')).toThrow(KubeconfigError);
    expect(() => loadKubeconfig({ yaml }, 'missing')).toThrow(KubeconfigError);
    expect(() => loadKubeconfig({ yaml: 'a: [' })).toThrow(KubeconfigError);
  });

  it('builds in-cluster options from the service environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'SA CA');
    const opts = inClusterOptions({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(opts).toMatchObject({ server: 'https://[fd00::1]:443', tokenFile: `${dir}/token` });
    expect(() => inClusterOptions({}, dir)).toThrow(KubeconfigError);
  });
});
