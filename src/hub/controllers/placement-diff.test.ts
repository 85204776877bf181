// Placement diff: create, update (replicas, workloadRef, labels, owner), delete, duplicates, terminating objects.
import { describe, it, expect } from '@jest/globals';
import type { Placement } from '../../api/types.ts';
import { placementDiff, type PlacementDiff } from './placement-diff.ts';
import { labelValueForName } from './placement-name.ts';
import type { DesiredPlacement } from './schedule.ts';
import { NS, placement, VW_UID, workload } from './test-fixtures.ts';

const ref = { name: 'web', uid: VW_UID };
const d = (edgeName: string, replicas = 1, name = `web-${edgeName}`): DesiredPlacement => ({ name, edgeName, replicas, workloadRef: ref });
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
  { name: 'nothing desired, nothing existing', desired: [], existing: [], want: { create: [], update: [], delete: [] } },
  {
    name: 'creates missing placements with labels and a controller owner reference',
    desired: [d('b', 2), d('a', 2)],
    existing: [],
    want: { create: [created('a', 2), created('b', 2)], update: [], delete: [] },
  },
  { name: 'an up-to-date placement needs nothing', desired: [d('a')], existing: [a], want: { create: [], update: [], delete: [] } },
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
        p.metadata.ownerReferences = [{ ...owner, controller: false }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' }];
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

  it('long workload and edge names get label-safe label values', () => {
    const longVw = 'w'.repeat(100);
    const longEdge = `edge.${'e'.repeat(100)}`;
    const vw = workload({ name: longVw });
    const { create } = placementDiff(vw, [{ name: 'p', edgeName: longEdge, replicas: 1, workloadRef: { name: longVw, uid: VW_UID } }], []);
    expect(create[0]?.metadata.labels).toEqual({
      'kedge.faros.sh/virtualworkload': labelValueForName(longVw),
      'kedge.faros.sh/edge': labelValueForName(longEdge),
    });
    expect(labelValueForName(longVw)).toMatch(/^w{52}-[0-9a-f]{10}$/);
    expect(labelValueForName('short.name')).toBe('short.name');
  });
});
