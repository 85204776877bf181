import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userClient } from './client.ts';
import { CLIError } from './errors.ts';

describe('userClient', () => {
  it('reads the "kedge" context from a merged $KUBECONFIG and gets the token from its exec plugin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-cli-'));
    const plugin = join(dir, 'get-token.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t0k"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    writeFileSync(
      join(dir, 'a'),
      JSON.stringify({
        clusters: [{ name: 'kedge', cluster: { server: 'https://hub.example:8443/clusters/root:kedge:tenants:a' } }],
        contexts: [{ name: 'kedge', context: { cluster: 'kedge', user: 'kedge' } }],
      }),
    );
    writeFileSync(join(dir, 'b'), JSON.stringify({ users: [{ name: 'kedge', user: { exec: { command: plugin } } }] }));
    const u = await userClient({}, { KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}` });
    try {
      expect([u.hubURL, u.workspace, u.token, u.kubeconfigPath]).toEqual([
        'https://hub.example:8443',
        'root:kedge:tenants:a',
        't0k',
        join(dir, 'a'),
      ]);
      expect(u.exec).toEqual({ command: plugin });
    } finally {
      await u.client.close();
    }
  });

  it('says to log in when there is no such context', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kedge-cli-'));
    writeFileSync(join(dir, 'config'), '{}');
    await expect(userClient({ kubeconfig: join(dir, 'config') })).rejects.toThrow(CLIError);
    await expect(userClient({ kubeconfig: join(dir, 'config') })).rejects.toThrow(
      /no context named "kedge".*kedge login/,
    );
  });
});
