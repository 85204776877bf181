import { describe, expect, it } from '@jest/globals';
import { defaultKubeconfigPath, mergeKubeconfig, parseKubeconfig } from './kubeconfig.ts';

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
