// Placement diff: create, update (replicas, workloadRef, labels, workload generation, owner), delete, duplicates,
// terminating objects.
import { describe, it, expect } from '@jest/globals';
import type { Placement } from '../../api/types.ts';
import { ANNOTATION_WORKLOAD_GENERATION } from '../../api/constants.ts';
import { labelValueForName, workloadGenerationOf } from '../../api/labels.ts';
import { placementDiff, type PlacementDiff } from './placement-diff.ts';
import type { DesiredPlacement } from './schedule.ts';
import { NS, placement, VW_UID, workload } from './test-fixtures.ts';

const ref = { name: 'web', uid: VW_UID };
/** `workloadGeneration` null: the workload has none. */
const d = (
  edgeName: string,
  replicas = 1,
  name = `web-${edgeName}`,
  workloadGeneration: number | null = 1,
): DesiredPlacement => ({
  name,
  edgeName,
  replicas,
  workloadRef: ref,
  ...(workloadGeneration === null ? {} : { workloadGeneration }),
});
const GEN = 'kedge.faros.sh/workload-generation';
if (ANNOTATION_WORKLOAD_GENERATION !== GEN) throw new Error('the annotation key is part of the agent contract');
const owner = {
  apiVersion: 'kedge.faros.sh/v1alpha1',
  kind: 'VirtualWorkload',
  name: 'web',
  uid: VW_UID,
  controller: true,
  blockOwnerDeletion: true,
};
const created = (edgeName: string, replicas = 1, name = `web-${edgeName}`): Placement => ({
  apiVersion: 'kedge.faros.sh/v1alpha1',
  kind: 'Placement',
  metadata: {
    name,
    namespace: NS,
    labels: { 'kedge.faros.sh/virtualworkload': 'web', 'kedge.faros.sh/edge': edgeName },
    annotations: { [GEN]: '1' },
    ownerReferences: [owner],
  },
  spec: { workloadRef: ref, edgeName, replicas },
});
const withChanges = (p: Placement, f: (p: Placement) => void): Placement => {
  const copy = structuredClone(p);
  f(copy);
  return copy;
};

interface Case {
  name: string;
  desired: DesiredPlacement[];
  existing: Placement[];
  want: PlacementDiff;
}

const a = placement('a');
const b = placement('b');

const cases: Case[] = [
  {
    name: 'nothing desired, nothing existing',
    desired: [],
    existing: [],
    want: { create: [], update: [], delete: [] },
  },
  {
    name: 'creates missing placements with labels and a controller owner reference',
    desired: [d('b', 2), d('a', 2)],
    existing: [],
    want: { create: [created('a', 2), created('b', 2)], update: [], delete: [] },
  },
  {
    name: 'an up-to-date placement needs nothing',
    desired: [d('a')],
    existing: [a],
    want: { create: [], update: [], delete: [] },
  },
  {
    name: 'a replicas change updates the placement',
    desired: [d('a', 3)],
    existing: [a],
    want: { create: [], update: [withChanges(a, (p) => (p.spec.replicas = 3))], delete: [] },
  },
  {
    name: 'a workloadRef from a previous incarnation is updated and its owner reference replaced',
    desired: [d('a')],
    existing: [placement('a', { uid: 'old-uid' })],
    want: { create: [], update: [a], delete: [] },
  },
  {
    name: 'missing labels and a non-controller owner reference are corrected, other labels kept',
    desired: [d('a')],
    existing: [
      withChanges(a, (p) => {
        p.metadata.labels = { team: 'x' };
        p.metadata.ownerReferences = [
          { ...owner, controller: false },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' },
        ];
      }),
    ],
    want: {
      create: [],
      update: [
        withChanges(a, (p) => {
          p.metadata.labels = { team: 'x', 'kedge.faros.sh/virtualworkload': 'web', 'kedge.faros.sh/edge': 'a' };
          p.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' }, owner];
        }),
      ],
      delete: [],
    },
  },
  {
    name: 'a new workload generation (spec edit, same placements) updates only the annotation',
    desired: [d('a', 1, 'web-a', 2), d('b', 1, 'web-b', 2)],
    existing: [a, b],
    want: {
      create: [],
      update: [
        withChanges(a, (p) => (p.metadata.annotations = { ...p.metadata.annotations, [GEN]: '2' })),
        withChanges(b, (p) => (p.metadata.annotations = { ...p.metadata.annotations, [GEN]: '2' })),
      ],
      delete: [],
    },
  },
  {
    name: 'a placement made before the annotation existed gets it, other annotations kept',
    desired: [d('a')],
    existing: [placement('a', { workloadGeneration: null })],
    want: { create: [], update: [a], delete: [] },
  },
  {
    name: 'a lower generation is also a change (a re-created workload starts again at 1)',
    desired: [d('a')],
    existing: [placement('a', { workloadGeneration: 5 })],
    want: { create: [], update: [a], delete: [] },
  },
  {
    name: 'a garbled annotation is corrected',
    desired: [d('a')],
    existing: [withChanges(a, (p) => (p.metadata.annotations = { ...p.metadata.annotations, [GEN]: ' 1' }))],
    want: { create: [], update: [a], delete: [] },
  },
  {
    name: 'a workload without a generation (never from the API server) leaves the annotation alone',
    desired: [d('a', 1, 'web-a', null), d('b', 1, 'web-b', null)],
    existing: [placement('a', { workloadGeneration: 4 })],
    want: {
      create: [withChanges(created('b'), (p) => delete p.metadata.annotations)],
      update: [],
      delete: [],
    },
  },
  {
    name: 'placements on edges no longer desired are deleted',
    desired: [d('a')],
    existing: [b, a],
    want: { create: [], update: [], delete: [b] },
  },
  {
    name: 'a duplicate for the same edge is deleted, the one with the desired name kept',
    desired: [d('a')],
    existing: [placement('a', { name: 'aaa-old' }), a],
    want: { create: [], update: [], delete: [placement('a', { name: 'aaa-old' })] },
  },
  {
    name: 'a terminating placement is left alone and its replacement created',
    desired: [d('a', 1, 'web-a-0123456789')],
    existing: [placement('a', { deleting: true })],
    want: { create: [created('a', 1, 'web-a-0123456789')], update: [], delete: [] },
  },
  {
    name: 'an existing placement under another name is kept (matched by edge, not name)',
    desired: [d('a', 1, 'web-a')],
    existing: [placement('a', { name: 'legacy-name' })],
    want: { create: [], update: [], delete: [] },
  },
];

describe('placementDiff', () => {
  for (const c of cases) it(c.name, () => expect(placementDiff(workload(), c.desired, c.existing)).toEqual(c.want));

  it('does not modify its inputs', () => {
    const existing = [placement('a', { replicas: 5 })];
    const before = structuredClone(existing);
    placementDiff(workload(), [d('a', 1)], existing);
    expect(existing).toEqual(before);
  });

  it('workloadGenerationOf reads the annotation, undefined when absent or garbled', () => {
    expect(workloadGenerationOf(placement('a', { workloadGeneration: 12 }))).toBe(12);
    expect(workloadGenerationOf(placement('a', { workloadGeneration: null }))).toBeUndefined();
    for (const bad of ['', '-1', '1.5', 'x', '1e3', '9'.repeat(16)]) {
      expect(workloadGenerationOf(withChanges(a, (p) => (p.metadata.annotations = { [GEN]: bad })))).toBeUndefined();
    }
  });

  it('long workload and edge names get label-safe label values', () => {
    const longVw = 'w'.repeat(100);
    const longEdge = `edge.${'e'.repeat(100)}`;
    const vw = workload({ name: longVw });
    const { create } = placementDiff(
      vw,
      [{ name: 'p', edgeName: longEdge, replicas: 1, workloadRef: { name: longVw, uid: VW_UID } }],
      [],
    );
    expect(create[0]?.metadata.labels).toEqual({
      'kedge.faros.sh/virtualworkload': labelValueForName(longVw),
      'kedge.faros.sh/edge': labelValueForName(longEdge),
    });
    expect(labelValueForName(longVw)).toMatch(/^w{52}-[0-9a-f]{10}$/);
    expect(labelValueForName('short.name')).toBe('short.name');
  });
});
