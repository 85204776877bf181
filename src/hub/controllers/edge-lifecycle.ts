// The Edge state machine (src/hub/controllers/README.md): the hub is the authority for status.phase, status.connected,
// the Ready and TunnelConnected conditions, and HostKeyTrusted on server edges (host-key-condition.ts).
// Inputs: the Edge as stored, what just happened to its tunnel, `now`.
import { ConditionStatus, ConditionType, EdgePhase } from '../../api/constants.ts';
import type { Edge, EdgeStatus } from '../../api/types.ts';
import { findCondition, mergeConditions, parseTime, rfc3339, type ConditionInput } from './conditions.ts';
import { formatDuration } from '../../util/duration.ts';
import { hostKeyCondition } from './host-key-condition.ts';
import { jsonEqual } from './json-equal.ts';

/** What the tunnel layer reports. `Closed.registered` is false when the closing session had already been replaced
 *  by a newer one (docs/agent-protocol.md §5: closing only deregisters its own session), so the edge is not marked Disconnected. */
export type TunnelSignal =
  | { type: 'Opened' }
  | { type: 'Closed'; registered: boolean }
  /** No tunnel news: an Edge event, a resync, or the heartbeat re-check this function asked for. */
  | { type: 'None' };

export const EdgeReason = {
  TunnelRegistered: 'TunnelRegistered',
  AgentConnected: 'AgentConnected',
  TunnelClosed: 'TunnelClosed',
  HeartbeatExpired: 'HeartbeatExpired',
  NeverConnected: 'NeverConnected',
} as const;
export type EdgeReason = (typeof EdgeReason)[keyof typeof EdgeReason];

export interface EdgeLifecycleOptions {
  /** The agent's heartbeat interval; the edge is Disconnected once the last heartbeat is 3 intervals old. */
  heartbeatIntervalMs: number;
}

export interface EdgeLifecycleResult {
  /** The whole next status: fields the hub does not own (URL, versions, hostname, host key) are copied. */
  status: EdgeStatus;
  /** While Ready: the time until the heartbeat expires, so the shell re-checks then with `{ type: 'None' }`. */
  requeueAfterMs?: number;
}

export const MISSED_HEARTBEATS = 3;

/**
 * Rules, in order:
 * 1. Opened → Ready, connected, lastHeartbeatTime = now (the handshake is proof of life; without it an old
 *    heartbeat from before the last outage would expire the fresh connection at once).
 * 2. Closed with registered=true → Disconnected, not connected.
 * 3. Otherwise (None, or Closed of a replaced session), from the stored status:
 *    - never connected (no phase or Pending, connected not true) → Pending;
 *    - connected and the heartbeat is younger than 3 intervals → Ready, re-check at expiry;
 *    - connected and the heartbeat is 3 intervals old or older, absent or unparseable → Disconnected, and
 *      connected=false: after a hub restart no Closed signal ever comes for tunnels that died with it, so the
 *      stale `true` must not outlive the heartbeat;
 *    - not connected → Disconnected, keeping the stored reason.
 * Rejected: keeping `connected` true on heartbeat expiry (it would stay true forever once the hub lost the tunnel).
 */
export function nextEdgeStatus(
  edge: Edge,
  signal: TunnelSignal,
  now: Date,
  opts: EdgeLifecycleOptions,
): EdgeLifecycleResult {
  const before = edge.status ?? {};
  const limitMs = MISSED_HEARTBEATS * opts.heartbeatIntervalMs;
  if (signal.type === 'Opened') {
    return { status: ready(edge, { ...before, lastHeartbeatTime: rfc3339(now) }, now), requeueAfterMs: limitMs };
  }
  if (signal.type === 'Closed' && signal.registered) {
    return {
      status: notReady(edge, before, EdgePhase.Disconnected, EdgeReason.TunnelClosed, 'the agent tunnel closed', now),
    };
  }
  if (before.connected !== true && (before.phase === undefined || before.phase === EdgePhase.Pending)) {
    return {
      status: notReady(
        edge,
        before,
        EdgePhase.Pending,
        EdgeReason.NeverConnected,
        'the agent has not connected yet',
        now,
      ),
    };
  }
  if (before.connected !== true) {
    const previous = findCondition(before.conditions, ConditionType.Ready);
    const kept = previous !== undefined && previous.status === ConditionStatus.False;
    const reason = kept ? previous.reason : EdgeReason.TunnelClosed;
    const message = kept ? previous.message : 'the agent tunnel closed';
    return { status: notReady(edge, before, EdgePhase.Disconnected, reason, message, now) };
  }
  const heartbeat = parseTime(before.lastHeartbeatTime);
  const ageMs = heartbeat === undefined ? Number.POSITIVE_INFINITY : now.getTime() - heartbeat;
  if (ageMs >= limitMs) {
    const message = `no heartbeat for ${formatDuration(ageMs)} (limit ${formatDuration(limitMs)})`;
    return { status: notReady(edge, before, EdgePhase.Disconnected, EdgeReason.HeartbeatExpired, message, now) };
  }
  // A heartbeat stamped ahead of the hub's clock counts as "now", so the re-check is never later than one limit.
  return { status: ready(edge, before, now), requeueAfterMs: Math.min(limitMs, limitMs - ageMs) };
}

/** Equality as JSON (see json-equal.ts); the shell writes the status only when this is false. */
export function edgeStatusEqual(a: EdgeStatus | undefined, b: EdgeStatus | undefined): boolean {
  return jsonEqual(a ?? {}, b ?? {});
}

function ready(edge: Edge, base: EdgeStatus, now: Date): EdgeStatus {
  return withConditions(
    edge,
    { ...base, phase: EdgePhase.Ready, connected: true },
    [
      cond(
        ConditionType.Ready,
        ConditionStatus.True,
        EdgeReason.AgentConnected,
        'the agent tunnel is up and its heartbeat is fresh',
      ),
      cond(
        ConditionType.TunnelConnected,
        ConditionStatus.True,
        EdgeReason.TunnelRegistered,
        'the agent tunnel is registered with the hub',
      ),
    ],
    now,
  );
}

function notReady(
  edge: Edge,
  base: EdgeStatus,
  phase: EdgePhase,
  reason: string,
  message: string,
  now: Date,
): EdgeStatus {
  return withConditions(
    edge,
    { ...base, phase, connected: false },
    [
      cond(ConditionType.Ready, ConditionStatus.False, reason, message),
      cond(ConditionType.TunnelConnected, ConditionStatus.False, reason, message),
    ],
    now,
  );
}

function withConditions(edge: Edge, status: EdgeStatus, connection: ConditionInput[], now: Date): EdgeStatus {
  const hostKey = hostKeyCondition(edge);
  const inputs = hostKey === undefined ? connection : [...connection, hostKey];
  return { ...status, conditions: mergeConditions(edge.status?.conditions, inputs, now, edge.metadata.generation) };
}

function cond(type: string, status: ConditionStatus, reason: string, message: string): ConditionInput {
  return { type, status, reason, message };
}
