// The scheduler decision: candidates, Spread, Singleton failover, invalid input, names and events. Whole results.
import { createHash } from 'node:crypto';
import { describe, it, expect } from '@jest/globals';
import type { Condition, Edge, Placement, VirtualWorkload } from '../../api/types.ts';
import type { ConditionInput } from './conditions.ts';
import { hashedPlacementName } from './placement-name.ts';
import { desiredPlacements, type ScheduleResult } from './schedule.ts';
import { at, edge, placement, T0, VW_UID, workload } from './test-fixtures.ts';

const GRACE = 5 * 60_000;
const now = new Date(T0);
const ref = { name: 'web', uid: VW_UID };
const want = (edgeName: string, replicas = 1, name = `web-${edgeName}`) => ({
  name,
  edgeName,
  replicas,
  workloadRef: ref,
  workloadGeneration: 1,
});
const scheduledTrue = (reason: string, message: string): ConditionInput => ({
  type: 'Scheduled',
  status: 'True',
  reason,
  message,
});
const scheduledFalse = (reason: string, message: string): ConditionInput => ({
  type: 'Scheduled',
  status: 'False',
  reason,
  message,
});
const prior = (status: 'True' | 'False', reason: string): Condition[] => [
  { type: 'Scheduled', status, reason, message: '', lastTransitionTime: T0 },
];

interface Case {
  name: string;
  vw: VirtualWorkload;
  edges: Edge[];
  existing?: Placement[];
  now?: Date;
  namesInUse?: string[];
  want: ScheduleResult;
}

function run(c: Case): ScheduleResult {
  const opts = c.namesInUse
    ? { failoverGraceMs: GRACE, namesInUse: new Set(c.namesInUse) }
    : { failoverGraceMs: GRACE };
  return desiredPlacements(c.vw, c.edges, c.existing ?? [], c.now ?? now, opts);
}

const ready = (name: string, labels: Record<string, string> = {}) =>
  edge(name, { labels, phase: 'Ready', ready: ['True', T0] });

describe('desiredPlacements: candidates and Spread', () => {
  const cases: Case[] = [
    {
      name: 'Spread places on every candidate, connected or not',
      vw: workload({ replicas: 2 }),
      edges: [ready('b'), edge('a', { phase: 'Disconnected' }), edge('c')],
      want: {
        placements: [want('a', 2), want('b', 2), want('c', 2)],
        scheduled: scheduledTrue('Scheduled', 'placed on a, b, c'),
        events: [{ type: 'Normal', reason: 'Scheduled', message: 'placed on a, b, c' }],
      },
    },
    {
      name: 'server-type edges are excluded',
      vw: workload(),
      edges: [ready('k8s'), edge('host', { type: 'server', phase: 'Ready' })],
      existing: [placement('k8s')],
      want: { placements: [want('k8s')], scheduled: scheduledTrue('Scheduled', 'placed on k8s'), events: [] },
    },
    {
      name: 'unschedulable and deleting edges are excluded',
      vw: workload(),
      edges: [
        ready('a', {}),
        edge('b', { unschedulable: true }),
        edge('c', { deleting: true }),
        edge('d', { unschedulable: false }),
      ],
      want: {
        placements: [want('a'), want('d')],
        scheduled: scheduledTrue('Scheduled', 'placed on a, d'),
        events: [{ type: 'Normal', reason: 'Scheduled', message: 'placed on a, d' }],
      },
    },
    {
      name: 'empty selector matches all',
      vw: workload({ selector: {} }),
      edges: [edge('a', { labels: { x: 'y' } }), edge('b')],
      existing: [placement('a'), placement('b')],
      want: { placements: [want('a'), want('b')], scheduled: scheduledTrue('Scheduled', 'placed on a, b'), events: [] },
    },
    {
      name: 'selector expressions In, NotIn, Exists, DoesNotExist pick the matching edges',
      vw: workload({
        selector: {
          matchLabels: { env: 'prod' },
          matchExpressions: [
            { key: 'region', operator: 'In', values: ['eu', 'us'] },
            { key: 'tier', operator: 'NotIn', values: ['test'] },
            { key: 'gpu', operator: 'Exists' },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
        },
      }),
      edges: [
        edge('match', { labels: { env: 'prod', region: 'eu', gpu: '' } }),
        edge('match-tier', { labels: { env: 'prod', region: 'us', gpu: 'a100', tier: 'web' } }),
        edge('wrong-env', { labels: { env: 'dev', region: 'eu', gpu: '' } }),
        edge('wrong-region', { labels: { env: 'prod', region: 'ap', gpu: '' } }),
        edge('test-tier', { labels: { env: 'prod', region: 'eu', gpu: '', tier: 'test' } }),
        edge('no-gpu', { labels: { env: 'prod', region: 'eu' } }),
        edge('legacy', { labels: { env: 'prod', region: 'eu', gpu: '', legacy: 'true' } }),
      ],
      existing: [placement('match'), placement('match-tier')],
      want: {
        placements: [want('match'), want('match-tier')],
        scheduled: scheduledTrue('Scheduled', 'placed on match, match-tier'),
        events: [],
      },
    },
    {
      name: 'a label change removes the placement from an edge that no longer matches',
      vw: workload({ selector: { matchLabels: { env: 'prod' } }, replicas: 3 }),
      edges: [edge('a', { labels: { env: 'prod' } }), edge('b', { labels: { env: 'dev' } })],
      existing: [placement('a', { replicas: 3 }), placement('b', { replicas: 3 })],
      want: {
        placements: [want('a', 3)],
        scheduled: scheduledTrue('Scheduled', 'placed on a'),
        events: [{ type: 'Normal', reason: 'Scheduled', message: 'removed from b' }],
      },
    },
    {
      name: 'no matching edges sets the condition, removes placements and warns once',
      vw: workload({ selector: { matchLabels: { env: 'prod' } }, conditions: prior('True', 'Scheduled') }),
      edges: [
        edge('a'),
        edge('b', { labels: { env: 'prod' }, type: 'server' }),
        edge('c', { labels: { env: 'prod' }, unschedulable: true }),
      ],
      existing: [placement('a')],
      want: {
        placements: [],
        scheduled: scheduledFalse(
          'NoMatchingEdges',
          'none of 3 edges is a candidate: 1 not matching the selector, 1 of type server, 1 unschedulable',
        ),
        events: [
          {
            type: 'Warning',
            reason: 'NoMatchingEdges',
            message: 'none of 3 edges is a candidate: 1 not matching the selector, 1 of type server, 1 unschedulable',
          },
        ],
      },
    },
    {
      name: 'no edges at all, already reported: no repeated event',
      vw: workload({ conditions: prior('False', 'NoMatchingEdges') }),
      edges: [],
      want: {
        placements: [],
        scheduled: scheduledFalse('NoMatchingEdges', 'no edges exist in this workspace'),
        events: [],
      },
    },
    {
      name: 'invalid selector sets condition and keeps existing placements',
      vw: workload({ selector: { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }, replicas: 2 }),
      edges: [edge('a'), edge('b')],
      existing: [placement('a')],
      want: {
        placements: [want('a', 2)],
        scheduled: scheduledFalse(
          'InvalidSelector',
          'invalid edgeSelector: matchExpressions[0].values: must be non-empty for operator In',
        ),
        events: [
          {
            type: 'Warning',
            reason: 'InvalidSelector',
            message: 'invalid edgeSelector: matchExpressions[0].values: must be non-empty for operator In',
          },
        ],
      },
    },
    {
      name: 'invalid strategy sets condition and keeps existing placements',
      vw: workload({ strategy: 'Random', conditions: prior('False', 'InvalidStrategy') }),
      edges: [edge('a'), edge('b')],
      existing: [placement('b')],
      want: {
        placements: [want('b')],
        scheduled: scheduledFalse('InvalidStrategy', 'unknown placement strategy "Random" (want Spread or Singleton)'),
        events: [],
      },
    },
    {
      name: 'existing names are kept and a terminating placement is replaced under a new name',
      vw: workload(),
      edges: [edge('a'), edge('b')],
      existing: [placement('a', { name: 'custom-a' }), placement('b', { deleting: true })],
      want: {
        placements: [want('a', 1, 'custom-a'), want('b', 1, hashedPlacementName('web', 'b'))],
        scheduled: scheduledTrue('Scheduled', 'placed on a, b'),
        events: [{ type: 'Normal', reason: 'Scheduled', message: 'placed on b' }],
      },
    },
    {
      name: 'a readable name taken by another workload falls back to the hashed name',
      vw: workload({ name: 'a', uid: 'uid-a' }),
      edges: [edge('b-c')],
      namesInUse: ['a-b-c'],
      want: {
        placements: [
          {
            name: hashedPlacementName('a', 'b-c'),
            edgeName: 'b-c',
            replicas: 1,
            workloadRef: { name: 'a', uid: 'uid-a' },
            workloadGeneration: 1,
          },
        ],
        scheduled: scheduledTrue('Scheduled', 'placed on b-c'),
        events: [{ type: 'Normal', reason: 'Scheduled', message: 'placed on b-c' }],
      },
    },
    {
      name: 'long lists in messages are cut after ten names',
      vw: workload({ conditions: prior('True', 'Scheduled') }),
      edges: Array.from({ length: 12 }, (_, i) => edge(`e${String(i).padStart(2, '0')}`)),
      existing: Array.from({ length: 12 }, (_, i) => placement(`e${String(i).padStart(2, '0')}`)),
      want: {
        placements: Array.from({ length: 12 }, (_, i) => want(`e${String(i).padStart(2, '0')}`)),
        scheduled: scheduledTrue('Scheduled', 'placed on e00, e01, e02, e03, e04, e05, e06, e07, e08, e09 and 2 more'),
        events: [],
      },
    },
  ];
  for (const c of cases) it(c.name, () => expect(run(c)).toEqual(c.want));

  it('every desired placement carries the workload generation; none without one', () => {
    const vw = workload({ generation: 7 });
    expect(
      desiredPlacements(vw, [edge('a'), edge('b')], [], now, { failoverGraceMs: GRACE }).placements.map(
        (p) => p.workloadGeneration,
      ),
    ).toEqual([7, 7]);
    delete vw.metadata.generation;
    expect(desiredPlacements(vw, [edge('a')], [], now, { failoverGraceMs: GRACE }).placements).toEqual([
      { name: 'web-a', edgeName: 'a', replicas: 1, workloadRef: ref },
    ]);
  });
});

/** The edge a Singleton of `uid` prefers among `names`, computed independently of the implementation. */
function preferred(uid: string, names: string[]): string {
  const rank = (n: string) => createHash('sha256').update(`${uid}/${n}`).digest('hex');
  return [...names].sort((a, b) => (rank(a) < rank(b) ? 1 : -1))[0] as string;
}

describe('desiredPlacements: Singleton', () => {
  const names = ['n1', 'n2', 'n3', 'n4'];
  const top = preferred(VW_UID, names);
  const others = names.filter((n) => n !== top);
  const second = preferred(VW_UID, others);
  const down = (name: string, since: string) =>
    edge(name, { phase: 'Disconnected', ready: ['False', since], heartbeat: '2026-09-01T11:00:00Z' });
  const singleton = (conditions?: Condition[]) =>
    workload(conditions ? { strategy: 'Singleton', conditions } : { strategy: 'Singleton' });

  const cases: Case[] = [
    {
      name: 'Singleton first placement picks the best-ranked Ready candidate',
      vw: singleton(),
      edges: [...names.map((n) => ready(n)), edge('zz-pending')],
      want: {
        placements: [want(top)],
        scheduled: scheduledTrue('Scheduled', `placed on ${top}`),
        events: [{ type: 'Normal', reason: 'Scheduled', message: `placed on ${top}` }],
      },
    },
    {
      name: 'Singleton keeps its current Ready edge even when another ranks higher',
      vw: singleton(),
      edges: names.map((n) => ready(n)),
      existing: [placement(second)],
      want: { placements: [want(second)], scheduled: scheduledTrue('Scheduled', `placed on ${second}`), events: [] },
    },
    {
      name: 'Singleton keeps a disconnected edge within the grace and asks to re-check when it ends',
      vw: singleton(),
      edges: [down(top, T0), ...others.map((n) => ready(n))],
      existing: [placement(top)],
      now: at(T0, GRACE - 1),
      want: {
        placements: [want(top)],
        scheduled: scheduledTrue(
          'FailoverPending',
          `edge ${top} is disconnected (for 4m59s); failing over after 5m unless it returns`,
        ),
        events: [],
        requeueAfterMs: 1,
      },
    },
    {
      name: 'Singleton fails over after grace (boundary: exactly the grace)',
      vw: singleton(prior('True', 'FailoverPending')),
      edges: [down(top, T0), ...others.map((n) => ready(n))],
      existing: [placement(top)],
      now: at(T0, GRACE),
      want: {
        placements: [want(second)],
        scheduled: scheduledTrue('Scheduled', `placed on ${second}`),
        events: [
          { type: 'Warning', reason: 'FailedOver', message: `moved from ${top} (disconnected for 5m) to ${second}` },
        ],
      },
    },
    {
      name: 'Singleton grace falls back to the last heartbeat without a Ready condition',
      vw: singleton(),
      edges: [edge(top, { phase: 'Disconnected', heartbeat: T0 }), ready(second)],
      existing: [placement(top)],
      now: at(T0, 60_000),
      want: {
        placements: [want(top)],
        scheduled: scheduledTrue(
          'FailoverPending',
          `edge ${top} is disconnected (for 1m); failing over after 5m unless it returns`,
        ),
        events: [],
        requeueAfterMs: GRACE - 60_000,
      },
    },
    {
      name: 'Singleton on an edge with no disconnection time has no grace',
      vw: singleton(),
      edges: [edge(top, { phase: 'Pending' }), ready(second)],
      existing: [placement(top)],
      want: {
        placements: [want(second)],
        scheduled: scheduledTrue('Scheduled', `placed on ${second}`),
        events: [
          {
            type: 'Warning',
            reason: 'FailedOver',
            message: `moved from ${top} (disconnected for an unknown time) to ${second}`,
          },
        ],
      },
    },
    {
      name: 'Singleton past the grace with no Ready alternative keeps its edge and warns',
      vw: singleton(prior('True', 'FailoverPending')),
      edges: [down(top, T0), edge(second, { phase: 'Disconnected' })],
      existing: [placement(top)],
      now: at(T0, GRACE + 3_600_000),
      want: {
        placements: [want(top)],
        scheduled: scheduledTrue(
          'NoReadyEdges',
          `edge ${top} is disconnected (for 65m) and no other candidate edge is Ready; keeping it`,
        ),
        events: [
          {
            type: 'Warning',
            reason: 'NoReadyEdges',
            message: `edge ${top} is disconnected (for 65m) and no other candidate edge is Ready; keeping it`,
          },
        ],
      },
    },
    {
      name: 'Singleton with no Ready candidate and no current edge places nothing',
      vw: singleton(),
      edges: [edge('a', { phase: 'Pending' }), edge('b', { phase: 'Disconnected' })],
      want: {
        placements: [],
        scheduled: scheduledFalse('NoReadyEdges', 'no candidate edge is Ready; a Singleton waits for one'),
        events: [
          { type: 'Warning', reason: 'NoReadyEdges', message: 'no candidate edge is Ready; a Singleton waits for one' },
        ],
      },
    },
    {
      name: 'Singleton moves at once, without grace, when its edge stops matching',
      vw: workload({ strategy: 'Singleton', selector: { matchLabels: { env: 'prod' } } }),
      edges: [ready(top, { env: 'dev' }), ready(second, { env: 'prod' })],
      existing: [placement(top)],
      want: {
        placements: [want(second)],
        scheduled: scheduledTrue('Scheduled', `placed on ${second}`),
        events: [{ type: 'Normal', reason: 'Scheduled', message: `placed on ${second}; removed from ${top}` }],
      },
    },
    {
      name: 'Singleton after a switch from Spread keeps one Ready edge, the best-ranked of its current ones',
      vw: singleton(),
      edges: [down(top, T0), ...others.map((n) => ready(n))],
      existing: names.map((n) => placement(n)),
      want: {
        placements: [want(second)],
        scheduled: scheduledTrue('Scheduled', `placed on ${second}`),
        events: [
          {
            type: 'Normal',
            reason: 'Scheduled',
            message: `removed from ${names.filter((n) => n !== second).join(', ')}`,
          },
        ],
      },
    },
  ];
  for (const c of cases) it(c.name, () => expect(run(c)).toEqual(c.want));

  it('deterministic Singleton choice: independent of edge order, spread across edges by workload', () => {
    const edges = names.map((n) => ready(n));
    const chosen = (uid: string, list: Edge[]) =>
      desiredPlacements(workload({ strategy: 'Singleton', uid }), list, [], now, { failoverGraceMs: GRACE })
        .placements[0]?.edgeName;
    expect(chosen(VW_UID, [...edges].reverse())).toBe(chosen(VW_UID, edges));
    const spread = new Set(Array.from({ length: 40 }, (_, i) => chosen(`uid-${i}`, edges)));
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('desiredPlacements: contract', () => {
  it('throws when an edge of another logical cluster is passed', () => {
    expect(() =>
      desiredPlacements(workload(), [edge('a', { cluster: 'root:other' })], [], now, { failoverGraceMs: GRACE }),
    ).toThrow('desiredPlacements: edge a is in cluster root:other, workload in root:kedge:tenants:acme');
  });
  it('throws when the workload has no cluster annotation', () => {
    const vw = workload();
    vw.metadata.annotations = {};
    expect(() => desiredPlacements(vw, [], [], now, { failoverGraceMs: GRACE })).toThrow('workload lacks cluster');
  });
});
