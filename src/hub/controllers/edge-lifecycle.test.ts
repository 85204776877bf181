// Edge lifecycle: Pending → Ready → Disconnected by tunnel close or heartbeat expiry; replaced sessions ignored.
import { describe, it, expect } from '@jest/globals';
import type { Condition, Edge, EdgeStatus } from '../../api/types.ts';
import { edgeStatusEqual, nextEdgeStatus, type EdgeLifecycleResult, type TunnelSignal } from './edge-lifecycle.ts';
import { at, edge, T0 } from './test-fixtures.ts';

const INTERVAL = 10_000;
const LIMIT = 3 * INTERVAL;
const opts = { heartbeatIntervalMs: INTERVAL };
const EARLIER = '2026-09-01T11:00:00Z';

const readyConds = (t: string): Condition[] => [
  {
    type: 'Ready',
    status: 'True',
    reason: 'AgentConnected',
    message: 'the agent tunnel is up and its heartbeat is fresh',
    lastTransitionTime: t,
  },
  {
    type: 'TunnelConnected',
    status: 'True',
    reason: 'TunnelRegistered',
    message: 'the agent tunnel is registered with the hub',
    lastTransitionTime: t,
  },
];
const downConds = (reason: string, message: string, t: string): Condition[] => [
  { type: 'Ready', status: 'False', reason, message, lastTransitionTime: t },
  { type: 'TunnelConnected', status: 'False', reason, message, lastTransitionTime: t },
];
const withStatus = (status: EdgeStatus): Edge => ({ ...edge('pi'), status });
const facts = {
  URL: 'https://hub/services/edges-proxy/clusters/c/apis/kedge.faros.sh/v1alpha1/edges/pi/k8s',
  agentVersion: 'v1',
};
const readyStatus = (heartbeat: string): EdgeStatus => ({
  ...facts,
  phase: 'Ready',
  connected: true,
  lastHeartbeatTime: heartbeat,
  conditions: readyConds(EARLIER),
});

interface Case {
  name: string;
  edge: Edge;
  signal: TunnelSignal;
  now: Date;
  want: EdgeLifecycleResult;
}

const cases: Case[] = [
  {
    name: 'a new edge is Pending until first connect',
    edge: edge('pi'),
    signal: { type: 'None' },
    now: new Date(T0),
    want: {
      status: {
        phase: 'Pending',
        connected: false,
        conditions: downConds('NeverConnected', 'the agent has not connected yet', T0),
      },
    },
  },
  {
    name: 'tunnel up makes the edge Ready and refreshes the heartbeat',
    edge: withStatus({
      ...facts,
      phase: 'Disconnected',
      connected: false,
      lastHeartbeatTime: EARLIER,
      conditions: downConds('TunnelClosed', 'x', EARLIER),
    }),
    signal: { type: 'Opened' },
    now: new Date(T0),
    want: {
      status: { ...facts, phase: 'Ready', connected: true, lastHeartbeatTime: T0, conditions: readyConds(T0) },
      requeueAfterMs: LIMIT,
    },
  },
  {
    name: 'first connect from Pending',
    edge: edge('pi'),
    signal: { type: 'Opened' },
    now: at(T0, 500),
    want: {
      status: { phase: 'Ready', connected: true, lastHeartbeatTime: T0, conditions: readyConds(T0) },
      requeueAfterMs: LIMIT,
    },
  },
  {
    name: 'the registered tunnel closing disconnects the edge',
    edge: withStatus(readyStatus(T0)),
    signal: { type: 'Closed', registered: true },
    now: at(T0, 1000),
    want: {
      status: {
        ...facts,
        phase: 'Disconnected',
        connected: false,
        lastHeartbeatTime: T0,
        conditions: downConds('TunnelClosed', 'the agent tunnel closed', '2026-09-01T12:00:01Z'),
      },
    },
  },
  {
    name: 'a replaced tunnel closing changes nothing',
    edge: withStatus(readyStatus(T0)),
    signal: { type: 'Closed', registered: false },
    now: at(T0, 1000),
    want: { status: readyStatus(T0), requeueAfterMs: LIMIT - 1000 },
  },
  {
    name: 'a fresh heartbeat keeps the edge Ready and re-checks at expiry',
    edge: withStatus(readyStatus(T0)),
    signal: { type: 'None' },
    now: at(T0, LIMIT - 1),
    want: { status: readyStatus(T0), requeueAfterMs: 1 },
  },
  {
    name: 'a heartbeat exactly three intervals old disconnects the edge',
    edge: withStatus(readyStatus(T0)),
    signal: { type: 'None' },
    now: at(T0, LIMIT),
    want: {
      status: {
        ...facts,
        phase: 'Disconnected',
        connected: false,
        lastHeartbeatTime: T0,
        conditions: downConds('HeartbeatExpired', 'no heartbeat for 30s (limit 30s)', '2026-09-01T12:00:30Z'),
      },
    },
  },
  {
    name: 'connected without a heartbeat time counts as expired',
    edge: withStatus({ phase: 'Ready', connected: true }),
    signal: { type: 'None' },
    now: new Date(T0),
    want: {
      status: {
        phase: 'Disconnected',
        connected: false,
        conditions: downConds('HeartbeatExpired', 'no heartbeat for an unknown time (limit 30s)', T0),
      },
    },
  },
  {
    name: 'a heartbeat ahead of the hub clock re-checks after at most one limit',
    edge: withStatus(readyStatus('2026-09-01T12:05:00Z')),
    signal: { type: 'None' },
    now: new Date(T0),
    want: { status: readyStatus('2026-09-01T12:05:00Z'), requeueAfterMs: LIMIT },
  },
  {
    name: 'a disconnected edge stays Disconnected with its reason and transition time',
    edge: withStatus({
      ...facts,
      phase: 'Disconnected',
      connected: false,
      lastHeartbeatTime: EARLIER,
      conditions: downConds('HeartbeatExpired', 'old message', EARLIER),
    }),
    signal: { type: 'None' },
    now: new Date(T0),
    want: {
      status: {
        ...facts,
        phase: 'Disconnected',
        connected: false,
        lastHeartbeatTime: EARLIER,
        conditions: downConds('HeartbeatExpired', 'old message', EARLIER),
      },
    },
  },
  {
    name: 'connected with a fresh heartbeat is Ready even before any condition was written',
    edge: withStatus({ phase: 'Ready', connected: true, lastHeartbeatTime: T0 }),
    signal: { type: 'None' },
    now: at(T0, 5000),
    want: {
      status: {
        phase: 'Ready',
        connected: true,
        lastHeartbeatTime: T0,
        conditions: readyConds('2026-09-01T12:00:05Z'),
      },
      requeueAfterMs: LIMIT - 5000,
    },
  },
];

describe('nextEdgeStatus', () => {
  for (const c of cases) it(c.name, () => expect(nextEdgeStatus(c.edge, c.signal, c.now, opts)).toEqual(c.want));

  it('Ready edges re-checked before expiry need no write', () => {
    const e = withStatus(readyStatus(T0));
    expect(edgeStatusEqual(nextEdgeStatus(e, { type: 'None' }, at(T0, 1000), opts).status, e.status)).toBe(true);
  });

  it('a full cycle keeps the Ready transition time across re-checks and moves it on disconnect', () => {
    let e = edge('pi');
    const step = (signal: TunnelSignal, ms: number) => {
      const r = nextEdgeStatus(e, signal, at(T0, ms), opts);
      e = { ...e, status: r.status };
      return [r.status.phase, r.status.conditions?.[0]?.lastTransitionTime, r.requeueAfterMs];
    };
    expect([
      step({ type: 'None' }, 0),
      step({ type: 'Opened' }, 2000),
      step({ type: 'None' }, 12_000),
      step({ type: 'Closed', registered: false }, 13_000),
      step({ type: 'None' }, 32_000),
      step({ type: 'Opened' }, 40_000),
      step({ type: 'Closed', registered: true }, 41_000),
    ]).toEqual([
      ['Pending', T0, undefined],
      ['Ready', '2026-09-01T12:00:02Z', LIMIT],
      ['Ready', '2026-09-01T12:00:02Z', LIMIT - 10_000],
      ['Ready', '2026-09-01T12:00:02Z', LIMIT - 11_000],
      ['Disconnected', '2026-09-01T12:00:32Z', undefined],
      ['Ready', '2026-09-01T12:00:40Z', LIMIT],
      ['Disconnected', '2026-09-01T12:00:41Z', undefined],
    ]);
  });
});
