import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { isKedgeError } from '../../api/errors.ts';
import { poll } from '../../util/wait.ts';
import { HubErrorCode } from '../errors.ts';
import { loadExternalKcpKubeconfig } from './external.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-extkcp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
// Any PEM-looking bytes do: the loader reads the CA file, it does not parse it.
const caPEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function kubeconfig(name: string, ca: string, tokenFile: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kcp', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': ca } }],
      users: [{ name: 'hub', user: { tokenFile } }],
      contexts: [{ name: 'kcp', context: { cluster: 'kcp', user: 'hub' } }],
      'current-context': 'kcp',
    }),
  );
  return p;
}

describe('loadExternalKcpKubeconfig', () => {
  it('waits for the CA file a kcp sidecar writes after the hub started, then loads', async () => {
    const ca = join(dir, 'late-ca.crt');
    const token = join(dir, 'token');
    writeFileSync(token, 'admin-token\n');
    const path = kubeconfig('late', ca, token);
    const out: string[] = [];
    const seen = pino({ level: 'info' }, { write: (l: string) => void out.push(l) });
    const loading = loadExternalKcpKubeconfig(path, seen, { intervalMs: 20, timeoutMs: 10_000 });
    let settled = false;
    void loading.then(() => (settled = true));
    // Until the loader has found the CA missing and says it waits for it.
    await poll(async () => out.some((l) => l.includes('waiting for the kcp kubeconfig') && l.includes(ca)), {
      what: 'the loader to wait for the CA file',
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    expect(settled).toBe(false);
    writeFileSync(ca, caPEM);
    const opts = await loading;
    expect(opts.server).toBe('https://127.0.0.1:6443');
    expect(opts.ca?.toString()).toBe(caPEM);
    expect(opts.tokenFile).toBe(token);
  });

  it('gives up with KEDGE_HUB_KCP_KUBECONFIG_MISSING naming the file that never appeared', async () => {
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, caPEM);
    const missingToken = join(dir, 'never-token');
    const err = await loadExternalKcpKubeconfig(kubeconfig('notoken', ca, missingToken), log, {
      intervalMs: 20,
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(isKedgeError(err, HubErrorCode.KcpKubeconfigMissing)).toBe(true);
    expect((err as Error).message).toContain(`${missingToken} did not appear within 0 s`);
    const noFile = await loadExternalKcpKubeconfig(join(dir, 'absent.kubeconfig'), log, {
      intervalMs: 20,
      timeoutMs: 100,
    }).catch((e: unknown) => e);
    expect(isKedgeError(noFile, HubErrorCode.KcpKubeconfigMissing)).toBe(true);
  });

  it('fails at once on a kubeconfig that is there but broken (no waiting)', async () => {
    const p = join(dir, 'broken');
    writeFileSync(p, 'clusters: [unclosed');
    const t0 = Date.now();
    const err = await loadExternalKcpKubeconfig(p, log, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(isKedgeError(err, 'KEDGE_KUBECONFIG_INVALID')).toBe(true);
  });
});
