// Index functions and the Edge/Placement → workload key mappings: only workloads whose decision could change.
import { describe, it, expect } from '@jest/globals';
import type { Edge, Placement, VirtualWorkload } from '../../api/types.ts';
import {
  edgeChange,
  indexPlacementByEdge,
  indexPlacementByNamespace,
  indexPlacementByWorkload,
  indexWorkloadByCluster,
  workloadKeyForPlacement,
  workloadKeysForEdgeEvent,
} from './indexes.ts';
import { CLUSTER, edge, placement, T0, workload } from './test-fixtures.ts';

const key = (name: string) => `${CLUSTER}|shop/${name}`;
const prod = workload({ name: 'prod-app', uid: 'u1', selector: { matchLabels: { env: 'prod' } } });
const dev = workload({ name: 'dev-app', uid: 'u2', selector: { matchLabels: { env: 'dev' } } });
const all = workload({ name: 'everywhere', uid: 'u3' });
const single = workload({
  name: 'single',
  uid: 'u4',
  strategy: 'Singleton',
  selector: { matchLabels: { env: 'prod' } },
});
const workloads = [prod, dev, all, single];

const withStatus = (e: Edge, phase: 'Ready' | 'Disconnected', heartbeat = T0, transition = T0): Edge => ({
  ...e,
  status: {
    phase,
    connected: phase === 'Ready',
    lastHeartbeatTime: heartbeat,
    conditions: [
      {
        type: 'Ready',
        status: phase === 'Ready' ? 'True' : 'False',
        reason: 'x',
        message: '',
        lastTransitionTime: transition,
      },
    ],
  },
});
const pi = (labels: Record<string, string>) => edge('pi', { labels });

describe('workloadKeysForEdgeEvent', () => {
  const cases: Array<{ name: string; old?: Edge; new?: Edge; placements?: Placement[]; want: string[] }> = [
    {
      name: 'an added edge enqueues the workloads that match it',
      new: pi({ env: 'prod' }),
      want: [key('everywhere'), key('prod-app'), key('single')],
    },
    {
      name: 'a deleted edge enqueues the workloads that matched it',
      old: pi({ env: 'dev' }),
      want: [key('dev-app'), key('everywhere')],
    },
    {
      name: 'a label change enqueues workloads matching the old or the new labels',
      old: pi({ env: 'dev' }),
      new: pi({ env: 'prod' }),
      want: [key('dev-app'), key('everywhere'), key('prod-app'), key('single')],
    },
    {
      name: 'a heartbeat-only update enqueues nothing',
      old: withStatus(pi({ env: 'prod' }), 'Ready', T0),
      new: withStatus(pi({ env: 'prod' }), 'Ready', '2026-09-01T12:00:10Z'),
      placements: [placement('pi', { workloadName: 'prod-app' })],
      want: [],
    },
    {
      name: 'a readiness change enqueues only Singleton workloads',
      old: withStatus(pi({ env: 'prod' }), 'Ready'),
      new: withStatus(pi({ env: 'prod' }), 'Disconnected', T0, '2026-09-01T12:00:30Z'),
      placements: [placement('pi', { workloadName: 'prod-app' }), placement('pi', { workloadName: 'single' })],
      want: [key('single')],
    },
    {
      name: 'becoming unschedulable enqueues matching workloads and those placed there',
      old: pi({ env: 'prod' }),
      new: { ...pi({ env: 'prod' }), spec: { type: 'kubernetes', unschedulable: true } },
      placements: [placement('pi', { workloadName: 'gone-from-list' })],
      want: [key('everywhere'), key('gone-from-list'), key('prod-app'), key('single')],
    },
    {
      name: 'server-type edges are excluded: only their placements count',
      new: edge('host', { type: 'server', labels: { env: 'prod' } }),
      placements: [placement('host', { workloadName: 'stray' })],
      want: [key('stray')],
    },
    {
      name: 'a workload placed on the edge is enqueued even if it no longer matches',
      old: pi({}),
      new: pi({ env: 'test' }),
      placements: [placement('pi', { workloadName: 'dev-app' })],
      want: [key('dev-app'), key('everywhere')],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(workloadKeysForEdgeEvent(c.old, c.new, workloads, c.placements ?? [])).toEqual(c.want));
  }
});

describe('edgeChange', () => {
  const base = withStatus(pi({ a: '1' }), 'Ready');
  const cases: Array<[string, Edge | undefined, Edge | undefined, string]> = [
    ['add', undefined, base, 'Placement'],
    ['delete', base, undefined, 'Placement'],
    ['deletion started', base, { ...base, metadata: { ...base.metadata, deletionTimestamp: T0 } }, 'Placement'],
    ['labels', base, { ...base, metadata: { ...base.metadata, labels: { a: '2' } } }, 'Placement'],
    ['readiness', base, withStatus(pi({ a: '1' }), 'Disconnected'), 'Readiness'],
    ['agent facts only', base, { ...base, status: { ...base.status, hostname: 'h', agentVersion: 'v2' } }, 'None'],
  ];
  for (const [name, a, b, want] of cases) it(name, () => expect(edgeChange(a, b)).toBe(want));
});

describe('index functions', () => {
  it('file objects under cluster-qualified values', () => {
    const p = placement('pi', { workloadName: 'web' });
    const vw: VirtualWorkload = workload();
    expect([
      indexWorkloadByCluster(vw),
      indexPlacementByEdge(p),
      indexPlacementByWorkload(p),
      indexPlacementByNamespace(p),
    ]).toEqual([[CLUSTER], [`${CLUSTER}|pi`], [`${CLUSTER}|shop/web`], [`${CLUSTER}|shop`]]);
  });

  it('a placement maps to its controller owner, else its workloadRef', () => {
    const owned = placement('pi', { workloadName: 'web' });
    const unowned = { ...owned, metadata: { ...owned.metadata, ownerReferences: [] } };
    const nameless = { ...unowned, spec: { ...unowned.spec, workloadRef: { name: '', uid: '' } } };
    expect([
      workloadKeyForPlacement(owned),
      workloadKeyForPlacement(unowned),
      workloadKeyForPlacement(nameless),
    ]).toEqual([key('web'), key('web'), undefined]);
  });
});
