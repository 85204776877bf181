import { describe, expect, test } from '@jest/globals';
import { parseHostKey } from '../api/host-keys.ts';
import { fakeHostKeyLine } from './test-host-keys.ts';
import { serverDetails, type EdgeObject } from './edge-crud.ts';
import { formatJoinCommand } from './edge-join.ts';

const ed1 = fakeHostKeyLine('ssh-ed25519', 'a'.repeat(36));
const ed2 = fakeHostKeyLine('ssh-ed25519', 'b'.repeat(36));
const fp = (l: string): string => parseHostKey(l)?.fingerprint ?? '';

describe('edge get for a server edge', () => {
  const base: EdgeObject = { metadata: { name: 'pi' }, spec: { type: 'server', server: { sshPort: 2222 } } };
  test('host facts and pinned keys', () => {
    const e = {
      ...base,
      status: { os: 'linux', kernelVersion: '6.1.0', architecture: 'arm64', hostname: 'pi4', sshHostKeys: [ed1] },
    };
    expect(serverDetails(e)).toEqual([
      'Host: linux 6.1.0 arm64 (pi4)',
      'SSH port: 2222',
      'Host keys (pinned):',
      `  ${fp(ed1)} (ED25519)`,
    ]);
  });

  test('observed keys shown (not trusted) when they differ, with the fix', () => {
    const lines = serverDetails({ ...base, status: { sshHostKeys: [ed1], observedSSHHostKeys: [ed2] } });
    expect(lines).toContain('Host keys now presented by sshd (NOT trusted):');
    expect(lines).toContain(`  ${fp(ed2)} (ED25519)`);
    expect(lines).toContain("  If the host's owner confirms them: kedge edge trust-host-key pi");
  });

  test('nothing pinned yet; kubernetes edges show nothing', () => {
    expect(serverDetails({ ...base, status: {} })).toContain(
      "Host keys: none pinned yet (the agent reports sshd's keys after it joins)",
    );
    expect(serverDetails({ metadata: { name: 'k' }, spec: { type: 'kubernetes' } })).toEqual([]);
  });
});

describe('join command', () => {
  const j = {
    hubURL: 'https://hub:8443',
    cluster: 'abc',
    edge: 'pi',
    token: 'tok',
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  };
  test('a server edge gets the server-mode agent and its systemd unit, no Helm install', () => {
    const text = formatJoinCommand({ ...j, type: 'server', sshPort: 2222 }, 'ca.crt').join('\n');
    expect(text).toContain(
      '  kedge agent join --hub-url https://hub:8443 --cluster abc --edge pi --token tok --type server --hub-ca-file ca.crt',
    );
    expect(text).toContain(
      '  kedge-agent --hub-url https://hub:8443 --cluster abc --edge pi --token tok --type server',
    );
    expect(text).toContain('127.0.0.1:2222');
    expect(text).not.toContain('Helm');
    // The systemd way: the token in a 0600 file, `kedge agent install` reads it from there.
    expect(text).toContain("  (umask 077; printf '%s\\n' 'tok' > join-token)");
    expect(text).toContain(
      '  sudo kedge agent install --hub-url https://hub:8443 --cluster abc --edge pi --token-file join-token --hub-ca-file ca.crt',
    );
    expect(text).toContain('systemctl enable --now kedge-agent-pi.service');
  });
  test('a kubernetes edge gets the agent command and the Helm install, the token only in the Secret', () => {
    const text = formatJoinCommand({ ...j, type: 'kubernetes' }, undefined).join('\n');
    expect(text).toContain('  kedge agent join --hub-url https://hub:8443 --cluster abc --edge pi --token tok\n');
    expect(text).toContain(
      "  printf '%s' 'tok' | kubectl -n kedge-agent create secret generic kedge-agent-join --from-file=token=/dev/stdin",
    );
    const helm = text.split('\n').find((l) => l.startsWith('  helm install'));
    expect(helm).toBe(
      '  helm install kedge-agent deploy/charts/kedge-agent -n kedge-agent --set hub.url=https://hub:8443 --set edge.cluster=abc --set edge.name=pi --set joinToken.existingSecret=kedge-agent-join',
    );
    const withCA = formatJoinCommand(j, 'ca.crt', 'kedge-agent-0.1.0.tgz').join('\n');
    expect(withCA).toContain('helm install kedge-agent kedge-agent-0.1.0.tgz -n kedge-agent ');
    expect(withCA).toMatch(/--set joinToken.existingSecret=kedge-agent-join --set-file hub.ca=ca.crt$/m);
  });
});
