// The scheduler's decision (src/hub/controllers/README.md): from a VirtualWorkload, the Edges of its logical cluster and its existing
// Placements, the Placements it should have, its Scheduled condition, the Events to record and when to look again.
// Pure: the shell passes `now`; diffing against what exists is placement-diff.ts.
import { ConditionStatus, ConditionType, DEFAULT_REPLICAS, PlacementStrategy } from '../../api/constants.ts';
import type { Edge, Placement, VirtualWorkload, WorkloadReference } from '../../api/types.ts';
import { candidateEdges, compareNames, type CandidateSplit } from './candidates.ts';
import { findCondition, type ConditionInput } from './conditions.ts';
import { EventType, type ControllerEvent } from './events.ts';
import { formatDuration } from '../../util/duration.ts';
import { listNames } from './format.ts';
import { clusterOf } from '../../kube/cluster-key.ts';
import { validateSelector } from './label-selector.ts';
import { placementName } from './placement-name.ts';
import { singletonChoice, SingletonOutcome, type SingletonChoice } from './singleton.ts';

/** Reasons of the Scheduled condition and of scheduler Events. */
export const ScheduleReason = {
  Scheduled: 'Scheduled',
  FailedOver: 'FailedOver',
  FailoverPending: 'FailoverPending',
  NoMatchingEdges: 'NoMatchingEdges',
  NoReadyEdges: 'NoReadyEdges',
  InvalidSelector: 'InvalidSelector',
  InvalidStrategy: 'InvalidStrategy',
} as const;
export type ScheduleReason = (typeof ScheduleReason)[keyof typeof ScheduleReason];

/** Reasons that are also recorded as a Warning Event, once, when the Scheduled condition first takes them. */
const WARNING_REASONS: ReadonlySet<string> = new Set([
  ScheduleReason.NoMatchingEdges,
  ScheduleReason.NoReadyEdges,
  ScheduleReason.InvalidSelector,
  ScheduleReason.InvalidStrategy,
]);

export interface ScheduleOptions {
  /** How long a Singleton's edge may be disconnected before the workload moves (hub flag, default 5 min). */
  failoverGraceMs: number;
  /** Every Placement name in the workload's namespace (any workload); new names avoid them. */
  namesInUse?: ReadonlySet<string>;
}

export interface DesiredPlacement {
  name: string;
  edgeName: string;
  replicas: number;
  workloadRef: WorkloadReference;
  /** The workload's `metadata.generation` (placement-diff.ts ANNOTATION_WORKLOAD_GENERATION); absent when it has none. */
  workloadGeneration?: number;
}

export interface ScheduleResult {
  /** Sorted by edgeName. */
  placements: DesiredPlacement[];
  /** Merge into status.conditions with aggregateStatus (which keeps transition times). */
  scheduled: ConditionInput;
  events: ControllerEvent[];
  /** Set while a Singleton waits for its edge's failover grace to run out. */
  requeueAfterMs?: number;
}

/**
 * Contract: `edges` are all Edges of the workload's logical cluster, `existing` the Placements labelled with the
 * workload's name in its namespace and cluster. Throws (a shell bug, not bad user input) when the workload lacks its
 * cluster, namespace, name or uid, or when an edge or placement comes from another cluster. Bad user input (an
 * invalid selector or strategy) never throws: it yields a False Scheduled condition and keeps existing Placements,
 * so a typo does not tear down running workloads.
 */
export function desiredPlacements(
  workload: VirtualWorkload,
  edges: readonly Edge[],
  existing: readonly Placement[],
  now: Date,
  opts: ScheduleOptions,
): ScheduleResult {
  const workloadRef = assertContract(workload, edges, existing);
  const replicas = workload.spec.replicas ?? DEFAULT_REPLICAS;
  const live = existing.filter((p) => p.metadata.deletionTimestamp === undefined);
  const liveByEdge = new Map<string, Placement>();
  for (const p of [...live].sort((a, b) => compareNames(a.metadata.name, b.metadata.name))) {
    if (!liveByEdge.has(p.spec.edgeName)) liveByEdge.set(p.spec.edgeName, p);
  }
  const namesInUse = new Set(opts.namesInUse);
  for (const p of existing) if (p.metadata.name) namesInUse.add(p.metadata.name);
  const generation = workload.metadata.generation;
  const toDesired = (edgeName: string): DesiredPlacement => ({
    name: liveByEdge.get(edgeName)?.metadata.name ?? placementName(workloadRef.name, edgeName, namesInUse),
    edgeName,
    replicas,
    workloadRef,
    ...(generation === undefined ? {} : { workloadGeneration: generation }),
  });
  const currentEdges = [...liveByEdge.keys()].sort(compareNames);
  const previous = findCondition(workload.status?.conditions, ConditionType.Scheduled);

  const decision = decide(workload, edges, currentEdges, now, opts);
  const placements = decision.edgeNames.sort(compareNames).map(toDesired);
  const events = [...decision.events];
  if (decision.scheduled.status === ConditionStatus.False || WARNING_REASONS.has(decision.scheduled.reason)) {
    if (previous?.reason !== decision.scheduled.reason) {
      events.push({ type: EventType.Warning, reason: decision.scheduled.reason, message: decision.scheduled.message });
    }
  } else if (!decision.events.some((e) => e.reason === ScheduleReason.FailedOver)) {
    const moved = changeMessage(currentEdges, decision.edgeNames);
    if (moved) events.push({ type: EventType.Normal, reason: ScheduleReason.Scheduled, message: moved });
  }
  const result: ScheduleResult = { placements, scheduled: decision.scheduled, events };
  if (decision.requeueAfterMs !== undefined) result.requeueAfterMs = decision.requeueAfterMs;
  return result;
}

interface Decision {
  edgeNames: string[];
  scheduled: ConditionInput;
  events: ControllerEvent[];
  requeueAfterMs?: number;
}

function decide(
  workload: VirtualWorkload,
  edges: readonly Edge[],
  currentEdges: string[],
  now: Date,
  opts: ScheduleOptions,
): Decision {
  const selector = workload.spec.placement?.edgeSelector;
  const selectorErrors = validateSelector(selector);
  if (selectorErrors.length > 0) {
    return keepExisting(
      currentEdges,
      ScheduleReason.InvalidSelector,
      `invalid edgeSelector: ${selectorErrors.join('; ')}`,
    );
  }
  const strategy = workload.spec.placement?.strategy ?? PlacementStrategy.Spread;
  if (strategy !== PlacementStrategy.Spread && strategy !== PlacementStrategy.Singleton) {
    return keepExisting(
      currentEdges,
      ScheduleReason.InvalidStrategy,
      `unknown placement strategy ${JSON.stringify(strategy)} (want Spread or Singleton)`,
    );
  }
  const split = candidateEdges(edges, selector);
  if (split.candidates.length === 0) {
    return {
      edgeNames: [],
      scheduled: falseCondition(ScheduleReason.NoMatchingEdges, noMatchMessage(edges.length, split)),
      events: [],
    };
  }
  if (strategy === PlacementStrategy.Spread) {
    const names = split.candidates.map((e) => e.metadata.name ?? '');
    return {
      edgeNames: names,
      scheduled: trueCondition(ScheduleReason.Scheduled, `placed on ${listNames(names)}`),
      events: [],
    };
  }
  const uid = workload.metadata.uid ?? '';
  return singletonDecision(singletonChoice(uid, split.candidates, currentEdges, now, opts.failoverGraceMs), opts);
}

function singletonDecision(choice: SingletonChoice, opts: ScheduleOptions): Decision {
  const edge = choice.edgeName ?? '';
  const forMs = formatDuration(choice.disconnectedForMs);
  switch (choice.outcome) {
    case SingletonOutcome.Keep:
    case SingletonOutcome.Place:
      return { edgeNames: [edge], scheduled: trueCondition(ScheduleReason.Scheduled, `placed on ${edge}`), events: [] };
    case SingletonOutcome.KeepInGrace:
      return {
        edgeNames: [edge],
        scheduled: trueCondition(
          ScheduleReason.FailoverPending,
          `edge ${edge} is disconnected (for ${forMs}); failing over after ${formatDuration(opts.failoverGraceMs)} unless it returns`,
        ),
        events: [],
        requeueAfterMs: choice.requeueAfterMs ?? 0,
      };
    case SingletonOutcome.KeepNoAlternative:
      return {
        edgeNames: [edge],
        scheduled: trueCondition(
          ScheduleReason.NoReadyEdges,
          `edge ${edge} is disconnected (for ${forMs}) and no other candidate edge is Ready; keeping it`,
        ),
        events: [],
      };
    case SingletonOutcome.FailOver:
      return {
        edgeNames: [edge],
        scheduled: trueCondition(ScheduleReason.Scheduled, `placed on ${edge}`),
        events: [
          {
            type: EventType.Warning,
            reason: ScheduleReason.FailedOver,
            message: `moved from ${choice.from ?? ''} (disconnected for ${forMs}) to ${edge}`,
          },
        ],
      };
    case SingletonOutcome.None:
      return {
        edgeNames: [],
        scheduled: falseCondition(ScheduleReason.NoReadyEdges, 'no candidate edge is Ready; a Singleton waits for one'),
        events: [],
      };
  }
}

function keepExisting(currentEdges: string[], reason: ScheduleReason, message: string): Decision {
  return { edgeNames: [...currentEdges], scheduled: falseCondition(reason, message), events: [] };
}

function trueCondition(reason: ScheduleReason, message: string): ConditionInput {
  return { type: ConditionType.Scheduled, status: ConditionStatus.True, reason, message };
}

function falseCondition(reason: ScheduleReason, message: string): ConditionInput {
  return { type: ConditionType.Scheduled, status: ConditionStatus.False, reason, message };
}

function noMatchMessage(total: number, split: CandidateSplit): string {
  if (total === 0) return 'no edges exist in this workspace';
  const { selector, serverType, unschedulable, deleting } = split.excluded;
  const parts = [
    selector > 0 ? `${selector} not matching the selector` : '',
    serverType > 0 ? `${serverType} of type server` : '',
    unschedulable > 0 ? `${unschedulable} unschedulable` : '',
    deleting > 0 ? `${deleting} being deleted` : '',
  ].filter((s) => s !== '');
  return `none of ${total} edges is a candidate: ${parts.join(', ')}`;
}

/** Undefined when the edge set is unchanged. */
function changeMessage(before: readonly string[], after: readonly string[]): string | undefined {
  // Sets: with thousands of edges, Array.includes per element made this the slowest step of a reconcile.
  const [beforeSet, afterSet] = [new Set(before), new Set(after)];
  const added = after.filter((e) => !beforeSet.has(e)).sort(compareNames);
  const removed = before.filter((e) => !afterSet.has(e)).sort(compareNames);
  if (added.length === 0 && removed.length === 0) return undefined;
  const parts = [
    added.length > 0 ? `placed on ${listNames(added)}` : '',
    removed.length > 0 ? `removed from ${listNames(removed)}` : '',
  ];
  return parts.filter((s) => s !== '').join('; ');
}

function assertContract(
  workload: VirtualWorkload,
  edges: readonly Edge[],
  existing: readonly Placement[],
): WorkloadReference {
  const cluster = clusterOf(workload);
  const { name, namespace, uid } = workload.metadata;
  if (!cluster || !name || !namespace || !uid) {
    throw new Error(
      `desiredPlacements: workload lacks cluster/namespace/name/uid: ${JSON.stringify({ cluster, namespace, name, uid })}`,
    );
  }
  for (const e of edges) {
    if (clusterOf(e) !== cluster) {
      throw new Error(
        `desiredPlacements: edge ${e.metadata.name} is in cluster ${clusterOf(e)}, workload in ${cluster}`,
      );
    }
  }
  for (const p of existing) {
    if (clusterOf(p) !== cluster || p.metadata.namespace !== namespace) {
      throw new Error(`desiredPlacements: placement ${p.metadata.name} is not in ${cluster}|${namespace}`);
    }
  }
  return { name, uid };
}
