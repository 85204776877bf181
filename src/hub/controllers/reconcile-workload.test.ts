// The composed VirtualWorkload steps: writes, status only on change, events, requeue, deletion.
import { describe, it, expect } from '@jest/globals';
import type { Placement } from '../../api/types.ts';
import { reconcileWorkload } from './reconcile-workload.ts';
import { at, edge, NS, placement, T0, VW_UID, workload } from './test-fixtures.ts';

const opts = { failoverGraceMs: 300_000 };
const now = new Date(T0);
const owner = {
  apiVersion: 'kedge.faros.sh/v1alpha1',
  kind: 'VirtualWorkload',
  name: 'web',
  uid: VW_UID,
  controller: true,
  blockOwnerDeletion: true,
};
const newPlacement = (edgeName: string): Placement => ({
  apiVersion: 'kedge.faros.sh/v1alpha1',
  kind: 'Placement',
  metadata: {
    name: `web-${edgeName}`,
    namespace: NS,
    labels: { 'kedge.faros.sh/virtualworkload': 'web', 'kedge.faros.sh/edge': edgeName },
    annotations: { 'kedge.faros.sh/workload-generation': '1' },
    ownerReferences: [owner],
  },
  spec: { workloadRef: { name: 'web', uid: VW_UID }, edgeName, replicas: 1 },
});

describe('reconcileWorkload', () => {
  it('a new workload creates its placements and writes a Pending status (placements appear next pass)', () => {
    expect(
      reconcileWorkload(workload(), { edges: [edge('a')], placements: [], namesInUse: new Set() }, now, opts),
    ).toEqual({
      diff: { create: [newPlacement('a')], update: [], delete: [] },
      status: {
        phase: 'Pending',
        readyReplicas: 0,
        availableReplicas: 0,
        edgeCount: 0,
        edges: [],
        conditions: [
          {
            type: 'Scheduled',
            status: 'True',
            reason: 'Scheduled',
            message: 'placed on a',
            lastTransitionTime: T0,
            observedGeneration: 1,
          },
          {
            type: 'Available',
            status: 'False',
            reason: 'NoPlacements',
            message: 'no placements',
            lastTransitionTime: T0,
            observedGeneration: 1,
          },
        ],
        observedGeneration: 1,
      },
      events: [{ type: 'Normal', reason: 'Scheduled', message: 'placed on a' }],
    });
  });

  it('a settled workload needs no writes at all', () => {
    const view = {
      edges: [edge('a')],
      placements: [placement('a', { phase: 'Running', ready: 1, available: 1 })],
      namesInUse: new Set(['web-a']),
    };
    const vw = workload();
    vw.status = reconcileWorkload(vw, view, now, opts).status;
    expect(reconcileWorkload(vw, view, at(T0, 60_000), opts)).toEqual({
      diff: { create: [], update: [], delete: [] },
      events: [],
    });
  });

  it('a spec edit (new generation) updates every placement once; the status write and the echoes that follow write nothing', () => {
    const settled = [
      placement('a', { phase: 'Running', ready: 1, available: 1 }),
      placement('b', { phase: 'Running', ready: 1, available: 1 }),
    ];
    const edges = [edge('a'), edge('b')];
    const vw = workload();
    vw.status = reconcileWorkload(vw, { edges, placements: settled, namesInUse: new Set() }, now, opts).status;
    vw.metadata.generation = 2;
    vw.spec.simple = { image: 'nginx:2' };
    const r = reconcileWorkload(vw, { edges, placements: settled, namesInUse: new Set() }, now, opts);
    expect(r.diff.create).toEqual([]);
    expect(r.diff.delete).toEqual([]);
    expect(
      r.diff.update.map((p) => [
        p.metadata.name,
        p.metadata.annotations?.['kedge.faros.sh/workload-generation'],
        p.spec,
      ]),
    ).toEqual([
      ['web-a', '2', settled[0]?.spec],
      ['web-b', '2', settled[1]?.spec],
    ]);
    // The Placement updates come back as events; with the new status written, the next pass is quiet.
    if (r.status !== undefined) vw.status = r.status;
    const next = reconcileWorkload(vw, { edges, placements: r.diff.update, namesInUse: new Set() }, at(T0, 1000), opts);
    expect(next).toEqual({ diff: { create: [], update: [], delete: [] }, events: [] });
    // A status-only change of the workload (generation unchanged) writes no Placements either.
    vw.status = { ...vw.status, readyReplicas: 0 };
    expect(
      reconcileWorkload(vw, { edges, placements: r.diff.update, namesInUse: new Set() }, at(T0, 2000), opts).diff,
    ).toEqual({
      create: [],
      update: [],
      delete: [],
    });
  });

  it('a Singleton waiting for failover asks to be requeued', () => {
    const down = edge('a', { phase: 'Disconnected', ready: ['False', T0] });
    const r = reconcileWorkload(
      workload({ strategy: 'Singleton' }),
      { edges: [down], placements: [placement('a')], namesInUse: new Set() },
      at(T0, 1000),
      opts,
    );
    expect([r.diff, r.requeueAfterMs, r.events]).toEqual([{ create: [], update: [], delete: [] }, 299_000, []]);
  });

  it('status rows leave out placements being deleted', () => {
    const r = reconcileWorkload(
      workload({ selector: { matchLabels: { env: 'prod' } } }),
      {
        edges: [edge('a', { labels: { env: 'prod' } }), edge('b')],
        placements: [placement('a', { phase: 'Running', ready: 1 }), placement('b', { phase: 'Failed' })],
        namesInUse: new Set(),
      },
      now,
      opts,
    );
    expect([r.diff.delete.map((p) => p.metadata.name), r.status?.phase, r.status?.edges]).toEqual([
      ['web-b'],
      'Running',
      [{ edgeName: 'a', phase: 'Running', readyReplicas: 1 }],
    ]);
  });

  it('a workload being deleted gets nothing', () => {
    const vw = workload();
    vw.metadata.deletionTimestamp = T0;
    expect(
      reconcileWorkload(vw, { edges: [edge('b')], placements: [placement('a')], namesInUse: new Set() }, now, opts),
    ).toEqual({
      diff: { create: [], update: [], delete: [] },
      events: [],
    });
  });
});
