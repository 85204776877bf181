// Placement statuses → VirtualWorkload status (src/hub/controllers/README.md): replica sums, one row per edge, phase, the Scheduled and
// Available conditions, observedGeneration, edgeCount (backs the Edges printer column); and statusEqual so the shell
// writes only on change.
import { ConditionStatus, ConditionType, PlacementPhase, VirtualWorkloadPhase } from '../../api/constants.ts';
import type { EdgeWorkloadStatus, Placement, VirtualWorkload, VirtualWorkloadStatus } from '../../api/types.ts';
import { compareNames } from './candidates.ts';
import { mergeConditions, type ConditionInput } from './conditions.ts';
import { listNames } from './format.ts';
import { jsonEqual } from './json-equal.ts';

export const AvailableReason = {
  AllPlacementsRunning: 'AllPlacementsRunning',
  PartiallyAvailable: 'PartiallyAvailable',
  Degraded: 'Degraded',
  Progressing: 'Progressing',
  NoPlacements: 'NoPlacements',
} as const;
export type AvailableReason = (typeof AvailableReason)[keyof typeof AvailableReason];

const KNOWN_PHASES: ReadonlySet<string> = new Set(Object.values(PlacementPhase));

/**
 * The phase a Placement counts as. No status or an unknown phase counts as Pending. A Running status reported for
 * an older generation (status.observedGeneration < metadata.generation, both set) counts as Applied: the agent has
 * not yet confirmed the current spec, so the workload must not look Running on stale news.
 */
export function effectivePhase(p: Placement): PlacementPhase {
  const reported = p.status?.phase;
  if (reported === undefined || !KNOWN_PHASES.has(reported)) return PlacementPhase.Pending;
  const observed = p.status?.observedGeneration;
  const generation = p.metadata.generation;
  if (
    reported === PlacementPhase.Running &&
    observed !== undefined &&
    generation !== undefined &&
    observed < generation
  ) {
    return PlacementPhase.Applied;
  }
  return reported;
}

/**
 * The phase table (README.md): none → Pending; any Failed → Degraded; all Running → Running; some Running and some
 * not → Degraded; otherwise (only Pending/Applied) → Progressing.
 */
export function workloadPhase(phases: readonly PlacementPhase[]): VirtualWorkloadPhase {
  if (phases.length === 0) return VirtualWorkloadPhase.Pending;
  if (phases.includes(PlacementPhase.Failed)) return VirtualWorkloadPhase.Degraded;
  const running = phases.filter((p) => p === PlacementPhase.Running).length;
  if (running === phases.length) return VirtualWorkloadPhase.Running;
  if (running > 0) return VirtualWorkloadPhase.Degraded;
  return VirtualWorkloadPhase.Progressing;
}

/**
 * `placements`: the workload's Placements as the store holds them (terminating ones are ignored). Placements the
 * scheduler has just asked to create appear on the next pass: their creation is a Placement event that requeues the
 * workload. `scheduled` is ScheduleResult.scheduled. Transition times are kept from workload.status when a
 * condition's status is unchanged.
 */
export function aggregateStatus(
  workload: VirtualWorkload,
  placements: readonly Placement[],
  scheduled: ConditionInput,
  now: Date,
): VirtualWorkloadStatus {
  const live = placements
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .sort((a, b) => compareNames(a.spec.edgeName, b.spec.edgeName) || compareNames(a.metadata.name, b.metadata.name));
  const edges: EdgeWorkloadStatus[] = live.map((p) => {
    const row: EdgeWorkloadStatus = {
      edgeName: p.spec.edgeName,
      phase: effectivePhase(p),
      readyReplicas: p.status?.readyReplicas ?? 0,
    };
    if (p.status?.message) row.message = p.status.message;
    return row;
  });
  const readyReplicas = sum(live.map((p) => p.status?.readyReplicas));
  const availableReplicas = sum(live.map((p) => p.status?.availableReplicas));
  const phase = workloadPhase(edges.map((e) => e.phase as PlacementPhase));
  const available = availableCondition(phase, edges, availableReplicas);
  const status: VirtualWorkloadStatus = {
    phase,
    readyReplicas,
    availableReplicas,
    edgeCount: edges.length,
    edges,
    conditions: mergeConditions(workload.status?.conditions, [scheduled, available], now, workload.metadata.generation),
  };
  if (workload.metadata.generation !== undefined) status.observedGeneration = workload.metadata.generation;
  return status;
}

function availableCondition(
  phase: VirtualWorkloadPhase,
  edges: readonly EdgeWorkloadStatus[],
  available: number,
): ConditionInput {
  const running = edges.filter((e) => e.phase === PlacementPhase.Running);
  const failed = edges.filter((e) => e.phase === PlacementPhase.Failed).map((e) => e.edgeName);
  const waiting = edges
    .filter((e) => e.phase !== PlacementPhase.Running && e.phase !== PlacementPhase.Failed)
    .map((e) => e.edgeName);
  const counts = [`${running.length} of ${edges.length} edges running`];
  if (failed.length > 0) counts.push(`failed: ${listNames(failed)}`);
  if (waiting.length > 0) counts.push(`not running yet: ${listNames(waiting)}`);
  const message = counts.join('; ');
  const condition = (status: ConditionStatus, reason: AvailableReason, msg = message): ConditionInput => ({
    type: ConditionType.Available,
    status,
    reason,
    message: msg,
  });
  switch (phase) {
    case VirtualWorkloadPhase.Pending:
      return condition(ConditionStatus.False, AvailableReason.NoPlacements, 'no placements');
    case VirtualWorkloadPhase.Running:
      return condition(ConditionStatus.True, AvailableReason.AllPlacementsRunning);
    case VirtualWorkloadPhase.Progressing:
      return condition(ConditionStatus.False, AvailableReason.Progressing);
    case VirtualWorkloadPhase.Degraded:
      return available > 0
        ? condition(ConditionStatus.True, AvailableReason.PartiallyAvailable)
        : condition(ConditionStatus.False, AvailableReason.Degraded);
  }
}

function sum(values: ReadonlyArray<number | undefined>): number {
  return values.reduce<number>((acc, v) => acc + (v ?? 0), 0);
}

/** Equality as JSON (see json-equal.ts); the shell writes the status only when this is false. */
export function statusEqual(a: VirtualWorkloadStatus | undefined, b: VirtualWorkloadStatus | undefined): boolean {
  return jsonEqual(a ?? {}, b ?? {});
}
