// Which edges a VirtualWorkload may be placed on (src/hub/controllers/README.md): selector match on metadata.labels, type kubernetes,
// not unschedulable, not being deleted. Also the readiness and disconnection facts the Singleton rule reads.
import { ConditionStatus, ConditionType, EdgePhase, EdgeType } from '../../api/constants.ts';
import type { Edge, LabelSelector } from '../../api/types.ts';
import { findCondition, parseTime } from './conditions.ts';
import { matchesSelector } from './label-selector.ts';

export interface CandidateSplit {
  /** Sorted by name. */
  candidates: Edge[];
  /** How many edges were left out and why, for the NoMatchingEdges message. */
  excluded: { selector: number; serverType: number; unschedulable: number; deleting: number };
}

/** Assumes the selector was validated (an invalid one matches nothing). */
export function candidateEdges(edges: readonly Edge[], selector: LabelSelector | undefined): CandidateSplit {
  const excluded = { selector: 0, serverType: 0, unschedulable: 0, deleting: 0 };
  const candidates: Edge[] = [];
  for (const edge of edges) {
    if (!matchesSelector(edge.metadata.labels, selector)) excluded.selector++;
    else if (edge.spec.type !== EdgeType.Kubernetes) excluded.serverType++;
    else if (edge.spec.unschedulable === true) excluded.unschedulable++;
    else if (edge.metadata.deletionTimestamp !== undefined) excluded.deleting++;
    else candidates.push(edge);
  }
  candidates.sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
  return { candidates, excluded };
}

export function isEdgeReady(edge: Edge): boolean {
  return edge.status?.phase === EdgePhase.Ready;
}

/**
 * When the edge stopped being Ready (ms since epoch), or undefined when unknown.
 * Measured from the Ready condition's lastTransitionTime (written by the edge lifecycle controller when the tunnel
 * closed or the heartbeat expired) because the grace is "disconnected for less than…" (src/hub/controllers/README.md). Falls back to
 * lastHeartbeatTime, the last proof of life, when the condition is missing. Rejected: lastHeartbeatTime first — it
 * would start the grace up to 3 heartbeat intervals before the hub declared the edge Disconnected.
 */
export function disconnectedSince(edge: Edge): number | undefined {
  const ready = findCondition(edge.status?.conditions, ConditionType.Ready);
  if (ready !== undefined && ready.status !== ConditionStatus.True) {
    const t = parseTime(ready.lastTransitionTime);
    if (t !== undefined) return t;
  }
  return parseTime(edge.status?.lastHeartbeatTime);
}

export function compareNames(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
