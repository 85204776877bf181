import { describe, expect, it } from '@jest/globals';
import { CLUSTER_ANNOTATION, clusterKey, clusterOf, edgeKey, joinKey, splitKey } from './cluster-key.ts';

type Obj = { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };

describe('cluster keys', () => {
  it.each<[Obj, string]>([
    [
      { metadata: { name: 'cm', namespace: 'default', annotations: { [CLUSTER_ANNOTATION]: 'root:a' } } },
      'root:a|default/cm',
    ],
    [{ metadata: { name: 'edge-1', annotations: { [CLUSTER_ANNOTATION]: '2x8fkz' } } }, '2x8fkz|/edge-1'],
    [{ metadata: { name: 'cm', namespace: 'kube-system' } }, '|kube-system/cm'],
    [{ metadata: { name: 'n1' } }, '|/n1'],
  ])('keys %j as %s and splits it back', (obj, key) => {
    expect(clusterKey(obj)).toBe(key);
    const parts = splitKey(key);
    expect(parts).toEqual({
      cluster: clusterOf(obj),
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name,
    });
    expect(parts && joinKey(parts)).toBe(key);
  });

  it('keeps the same namespace/name in two workspaces apart', () => {
    const a = { metadata: { name: 'x', namespace: 'ns', annotations: { [CLUSTER_ANNOTATION]: 'root:a' } } };
    const b = { metadata: { name: 'x', namespace: 'ns', annotations: { [CLUSTER_ANNOTATION]: 'root:b' } } };
    expect(clusterKey(a)).not.toBe(clusterKey(b));
  });

  it.each(['', 'ns/name', 'root:a|name', 'root:a|ns/', 'root:a|ns/a/b'])('rejects malformed key %j', (key) => {
    expect(splitKey(key)).toBeUndefined();
  });
});

describe('edgeKey', () => {
  it('is the cluster-scoped key of the Edge', () => {
    expect(edgeKey('2x9kq7', 'edge-1')).toBe('2x9kq7|/edge-1');
    expect(splitKey(edgeKey('2x9kq7', 'edge-1'))).toEqual({ cluster: '2x9kq7', namespace: '', name: 'edge-1' });
  });
  it.each([
    ['', 'e'],
    ['c', ''],
    ['a|b', 'e'],
    ['c', 'e|f'],
    ['c', 'e/f'],
  ])('rejects %j, %j', (c, e) => {
    expect(() => edgeKey(c, e)).toThrow(TypeError);
  });
});
