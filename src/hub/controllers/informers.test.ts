import { describe, expect, it } from '@jest/globals';
import { ANNOTATION_KCP_CLUSTER } from '../../api/constants.ts';
import { LAST_APPLIED_ANNOTATION } from '../../kube/informer.ts';
import type { KubeObject } from '../../kube/types.ts';
import { cacheTransforms } from './informers.ts';

const heavy = (): KubeObject => ({
  metadata: {
    name: 'x',
    resourceVersion: '5',
    labels: { zone: 'a' },
    managedFields: [{ manager: 'kubectl-client-side-apply' }],
    annotations: { [ANNOTATION_KCP_CLUSTER]: 'root:t', [LAST_APPLIED_ANNOTATION]: '{"spec":{}}' },
  },
  spec: {},
});

/** The transforms are typed per resource; the fixture is a plain object with the fields they look at. */
const untyped = (t: unknown) => t as (o: KubeObject) => KubeObject;

describe('cacheTransforms', () => {
  it('drop managedFields everywhere and the apply annotation only where no controller PUTs the cached object', () => {
    for (const t of [untyped(cacheTransforms.edges), untyped(cacheTransforms.workloads)]) {
      expect(t(heavy()).metadata).toEqual({
        name: 'x',
        resourceVersion: '5',
        labels: { zone: 'a' },
        annotations: { [ANNOTATION_KCP_CLUSTER]: 'root:t' },
      });
    }
    // The workload controller PUTs corrected copies of cached Placements: their annotations must survive.
    const placement = untyped(cacheTransforms.placements)(heavy());
    expect(placement.metadata.managedFields).toBeUndefined();
    expect(placement.metadata.annotations).toEqual(heavy().metadata.annotations);
  });
});
