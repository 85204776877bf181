// Status aggregation: every row of the phase table, sums, rows, conditions with kept transition times, equality.
import { describe, it, expect } from '@jest/globals';
import type { PlacementPhase } from '../../api/constants.ts';
import type { Condition, Placement, VirtualWorkloadStatus } from '../../api/types.ts';
import { aggregateStatus, statusEqual, workloadPhase } from './aggregate-status.ts';
import type { ConditionInput } from './conditions.ts';
import { at, placement, T0, workload } from './test-fixtures.ts';

const now = at(T0, 60_000);
const NOW = '2026-09-01T12:01:00Z';
const scheduled: ConditionInput = { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: 'placed on a, b' };
const scheduledAt = (t: string, generation = 3): Condition => ({
  ...scheduled,
  lastTransitionTime: t,
  observedGeneration: generation,
});
const availableAt = (status: 'True' | 'False', reason: string, message: string, t = NOW): Condition => ({
  type: 'Available',
  status,
  reason,
  message,
  lastTransitionTime: t,
  observedGeneration: 3,
});

describe('workloadPhase: the phase table', () => {
  const rows: Array<[string, PlacementPhase[], string]> = [
    ['no placements → Pending', [], 'Pending'],
    ['all Running → Running', ['Running', 'Running'], 'Running'],
    ['one Running → Running', ['Running'], 'Running'],
    ['all Pending → Progressing', ['Pending', 'Pending'], 'Progressing'],
    ['Pending and Applied → Progressing', ['Pending', 'Applied'], 'Progressing'],
    ['all Applied → Progressing', ['Applied'], 'Progressing'],
    ['Running and Pending → Degraded', ['Running', 'Pending'], 'Degraded'],
    ['Running and Applied → Degraded', ['Applied', 'Running'], 'Degraded'],
    ['any Failed with Running → Degraded', ['Running', 'Failed'], 'Degraded'],
    ['any Failed with Pending → Degraded', ['Pending', 'Failed'], 'Degraded'],
    ['all Failed → Degraded', ['Failed'], 'Degraded'],
  ];
  for (const [name, phases, want] of rows) it(name, () => expect(workloadPhase(phases)).toBe(want));
});

describe('aggregateStatus', () => {
  const cases: Array<{ name: string; placements: Placement[]; conditions?: Condition[]; want: VirtualWorkloadStatus }> =
    [
      {
        name: 'no placements: Pending, zero sums, Available False',
        placements: [],
        want: {
          phase: 'Pending',
          readyReplicas: 0,
          availableReplicas: 0,
          edgeCount: 0,
          edges: [],
          conditions: [scheduledAt(NOW), availableAt('False', 'NoPlacements', 'no placements')],
          observedGeneration: 3,
        },
      },
      {
        name: 'all Running: sums, rows sorted by edge, Available True',
        placements: [
          placement('b', { phase: 'Running', ready: 2, available: 1 }),
          placement('a', { phase: 'Running', ready: 2, available: 2, message: 'ok' }),
        ],
        want: {
          phase: 'Running',
          readyReplicas: 4,
          availableReplicas: 3,
          edgeCount: 2,
          edges: [
            { edgeName: 'a', phase: 'Running', readyReplicas: 2, message: 'ok' },
            { edgeName: 'b', phase: 'Running', readyReplicas: 2 },
          ],
          conditions: [scheduledAt(NOW), availableAt('True', 'AllPlacementsRunning', '2 of 2 edges running')],
          observedGeneration: 3,
        },
      },
      {
        name: 'a placement without status counts as Pending: Progressing',
        placements: [placement('a'), placement('b', { phase: 'Applied' })],
        want: {
          phase: 'Progressing',
          readyReplicas: 0,
          availableReplicas: 0,
          edgeCount: 2,
          edges: [
            { edgeName: 'a', phase: 'Pending', readyReplicas: 0 },
            { edgeName: 'b', phase: 'Applied', readyReplicas: 0 },
          ],
          conditions: [
            scheduledAt(NOW),
            availableAt('False', 'Progressing', '0 of 2 edges running; not running yet: a, b'),
          ],
          observedGeneration: 3,
        },
      },
      {
        name: 'one Failed with replicas elsewhere: Degraded but partially available',
        placements: [
          placement('a', { phase: 'Running', ready: 1, available: 1 }),
          placement('b', { phase: 'Failed', message: 'ImagePullBackOff' }),
        ],
        want: {
          phase: 'Degraded',
          readyReplicas: 1,
          availableReplicas: 1,
          edgeCount: 2,
          edges: [
            { edgeName: 'a', phase: 'Running', readyReplicas: 1 },
            { edgeName: 'b', phase: 'Failed', readyReplicas: 0, message: 'ImagePullBackOff' },
          ],
          conditions: [scheduledAt(NOW), availableAt('True', 'PartiallyAvailable', '1 of 2 edges running; failed: b')],
          observedGeneration: 3,
        },
      },
      {
        name: 'Degraded with nothing available: Available False',
        placements: [placement('a', { phase: 'Failed' })],
        want: {
          phase: 'Degraded',
          readyReplicas: 0,
          availableReplicas: 0,
          edgeCount: 1,
          edges: [{ edgeName: 'a', phase: 'Failed', readyReplicas: 0 }],
          conditions: [scheduledAt(NOW), availableAt('False', 'Degraded', '0 of 1 edges running; failed: a')],
          observedGeneration: 3,
        },
      },
      {
        name: 'stale Running status counts as Applied; unknown phase as Pending; terminating ignored',
        placements: [
          placement('a', { phase: 'Running', ready: 1, available: 1, generation: 2, observedGeneration: 1 }),
          placement('b', { phase: 'Synced' as PlacementPhase }),
          placement('c', { phase: 'Running', ready: 5, deleting: true }),
        ],
        want: {
          phase: 'Progressing',
          readyReplicas: 1,
          availableReplicas: 1,
          edgeCount: 2,
          edges: [
            { edgeName: 'a', phase: 'Applied', readyReplicas: 1 },
            { edgeName: 'b', phase: 'Pending', readyReplicas: 0 },
          ],
          conditions: [
            scheduledAt(NOW),
            availableAt('False', 'Progressing', '0 of 2 edges running; not running yet: a, b'),
          ],
          observedGeneration: 3,
        },
      },
      {
        name: 'transition times are kept when status is unchanged and moved when it changes',
        placements: [placement('a', { phase: 'Running', ready: 1, available: 1 })],
        conditions: [
          scheduledAt(T0, 2),
          availableAt('False', 'Progressing', 'old', T0),
          { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: T0 },
        ],
        want: {
          phase: 'Running',
          readyReplicas: 1,
          availableReplicas: 1,
          edgeCount: 1,
          edges: [{ edgeName: 'a', phase: 'Running', readyReplicas: 1 }],
          conditions: [
            scheduledAt(T0),
            availableAt('True', 'AllPlacementsRunning', '1 of 1 edges running'),
            { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: T0 },
          ],
          observedGeneration: 3,
        },
      },
    ];
  for (const c of cases) {
    it(c.name, () => {
      const vw = workload(c.conditions ? { generation: 3, conditions: c.conditions } : { generation: 3 });
      expect(aggregateStatus(vw, c.placements, scheduled, now)).toEqual(c.want);
    });
  }

  it('a second pass over the same inputs is equal to the first (no write)', () => {
    const vw = workload({ generation: 3 });
    const placements = [placement('a', { phase: 'Running', ready: 1 }), placement('b')];
    const first = aggregateStatus(vw, placements, scheduled, now);
    vw.status = first;
    const second = aggregateStatus(vw, placements, scheduled, at(T0, 3_600_000));
    expect(statusEqual(first, second)).toBe(true);
  });
});

describe('statusEqual', () => {
  const base: VirtualWorkloadStatus = {
    phase: 'Running',
    readyReplicas: 1,
    edges: [{ edgeName: 'a', readyReplicas: 1 }],
  };
  const cases: Array<[string, VirtualWorkloadStatus | undefined, VirtualWorkloadStatus | undefined, boolean]> = [
    ['identical', base, structuredClone(base), true],
    [
      'key order does not matter',
      base,
      { edges: [{ readyReplicas: 1, edgeName: 'a' }], readyReplicas: 1, phase: 'Running' },
      true,
    ],
    ['undefined key equals absent key', base, { ...base, message: undefined } as VirtualWorkloadStatus, true],
    ['absent status equals empty status', undefined, {}, true],
    ['a changed number differs', base, { ...base, readyReplicas: 2 }, false],
    ['a changed row differs', base, { ...base, edges: [{ edgeName: 'a', readyReplicas: 0 }] }, false],
    ['an extra row differs', base, { ...base, edges: [{ edgeName: 'a', readyReplicas: 1 }, { edgeName: 'b' }] }, false],
    ['a new field differs', base, { ...base, observedGeneration: 1 }, false],
  ];
  for (const [name, a, b, want] of cases)
    it(name, () => expect([statusEqual(a, b), statusEqual(b, a)]).toEqual([want, want]));
});
