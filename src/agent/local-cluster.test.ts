import { beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentErrorCode } from './errors.ts';
import { localClusterOptions, openLocalCluster } from './local-cluster.ts';

function execKubeconfig(dir: string, script: string): string {
  const plugin = join(dir, 'plugin.sh');
  writeFileSync(plugin, `#!/bin/sh\n${script}\n`);
  chmodSync(plugin, 0o755);
  const path = join(dir, 'exec.kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'p', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'p' } }],
    }),
  );
  return path;
}

describe('local cluster', () => {
  // client-node is imported on a plugin user's first credential fetch (src/kube/kubeconfig-options.ts); through jest's
  // transform that alone can outlast a test's 5 s on a busy machine.
  beforeAll(() => import('@kubernetes/client-node'), 120_000);

  it('runs an exec plugin before the agent joins, and hands its token to the k8s proxy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-local-'));
    const kc = execKubeconfig(dir, `echo '{"kind":"ExecCredential","status":{"token":"plugged"}}'`);
    const local = openLocalCluster(await localClusterOptions(`${join(dir, 'missing')}:${kc}`, undefined));
    try {
      expect(await local.client.authorizationHeader()).toBe('Bearer plugged');
      expect(await local.target.authorization()).toBe('Bearer plugged');
    } finally {
      await local.client.close();
    }
  });

  it('stops with KEDGE_AGENT_LOCAL_CLUSTER_CONFIG when the plugin fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-local-'));
    const kc = execKubeconfig(dir, 'echo "no credentials" >&2; exit 1');
    await expect(localClusterOptions(kc, undefined)).rejects.toMatchObject({
      code: AgentErrorCode.LocalClusterConfig,
      message: expect.stringContaining('no credentials'),
    });
  });

  it('refuses a plugin that returns a client certificate instead of a token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-local-'));
    const kc = execKubeconfig(
      dir,
      `echo '{"kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}}'`,
    );
    await expect(localClusterOptions(kc, undefined)).rejects.toMatchObject({
      message: expect.stringContaining('returned a client certificate'),
    });
  });
});
