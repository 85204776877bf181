import { describe, expect, it } from '@jest/globals';
import { defaultKubeconfigPath, kedgeCommand, mergeKubeconfig, parseKubeconfig, withExecUsers } from './kubeconfig.ts';

describe('kubeconfig merge', () => {
  const base = parseKubeconfig(`
apiVersion: v1
kind: Config
clusters: [{name: other, cluster: {server: https://o}}, {name: kedge, cluster: {server: https://old}}]
users: [{name: other, user: {token: o}}]
contexts: [{name: other, context: {cluster: other, user: other}}]
current-context: other
preferences: {colors: true}
`);
  const incoming = parseKubeconfig(`
clusters: [{name: kedge, cluster: {server: https://new}}]
users: [{name: kedge, user: {token: t}}]
contexts: [{name: kedge, context: {cluster: kedge, user: kedge}}]
current-context: kedge
`);
  it('replaces same-named entries, keeps others and unknown fields, and switches context', () => {
    const m = mergeKubeconfig(base, incoming, true);
    expect(m.clusters.map((c) => [c.name, (c.cluster as { server: string }).server])).toEqual([
      ['other', 'https://o'],
      ['kedge', 'https://new'],
    ]);
    expect(m.users.map((u) => u.name)).toEqual(['other', 'kedge']);
    expect(m['current-context']).toBe('kedge');
    expect(m.preferences).toEqual({ colors: true });
  });
  it('keeps the current context when asked', () => {
    expect(mergeKubeconfig(base, incoming, false)['current-context']).toBe('other');
  });
  it('parses an empty file as an empty config', () => {
    expect(parseKubeconfig('')).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [],
      users: [],
      contexts: [],
    });
  });
  it('uses the first KUBECONFIG entry', () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: '/a/x:/b/y' })).toBe('/a/x');
    expect(defaultKubeconfigPath({})).toMatch(/\.kube\/config$/);
  });
});

describe('withExecUsers', () => {
  it("replaces each user's token by the get-token exec plugin for the hub", () => {
    const kc = parseKubeconfig(`
users: [{name: kedge, user: {token: secret-token}}]
contexts: [{name: kedge, context: {cluster: kedge, user: kedge}}]
`);
    const out = withExecUsers(kc, 'https://hub:8443', '/opt/kedge/bin/kedge');
    expect(out.users).toEqual([
      {
        name: 'kedge',
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: '/opt/kedge/bin/kedge',
            args: ['get-token', '--hub-url', 'https://hub:8443'],
            interactiveMode: 'IfAvailable',
            provideClusterInfo: false,
          },
        },
      },
    ]);
    expect(JSON.stringify(out)).not.toContain('secret-token');
  });

  it('runs the launcher named by KEDGE_CLI_PATH, else kedge from PATH', () => {
    expect(kedgeCommand({ KEDGE_CLI_PATH: '/repo/bin/kedge' })).toBe('/repo/bin/kedge');
    expect(kedgeCommand({ KEDGE_CLI_PATH: 'relative/kedge' })).toBe('kedge');
    expect(kedgeCommand({})).toBe('kedge');
  });
});
