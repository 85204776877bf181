// The Singleton rule (src/hub/controllers/README.md): keep the current edge while it is still a candidate and Ready, or disconnected for
// less than the failover grace; otherwise move to one Ready candidate, chosen by rendezvous hashing.
import { createHash } from 'node:crypto';
import type { Edge } from '../../api/types.ts';
import { disconnectedSince, isEdgeReady } from './candidates.ts';

export const SingletonOutcome = {
  /** The current edge is a Ready candidate. */
  Keep: 'Keep',
  /** The current edge is disconnected, its grace has not run out: keep it and re-check when it does. */
  KeepInGrace: 'KeepInGrace',
  /** The grace ran out but no other candidate is Ready: keep the current edge. */
  KeepNoAlternative: 'KeepNoAlternative',
  /** No current candidate edge (first placement, or the current one stopped matching): a Ready candidate. */
  Place: 'Place',
  /** Grace ran out and another candidate is Ready: move there. */
  FailOver: 'FailOver',
  /** No current candidate edge and no Ready candidate: no placement. */
  None: 'None',
} as const;
export type SingletonOutcome = (typeof SingletonOutcome)[keyof typeof SingletonOutcome];

export interface SingletonChoice {
  outcome: SingletonOutcome;
  /** The edge to place on; absent only for None. */
  edgeName?: string;
  /** FailOver: the edge left behind. */
  from?: string;
  /** KeepInGrace/KeepNoAlternative/FailOver: how long the current edge has been disconnected (ms). */
  disconnectedForMs?: number;
  /** KeepInGrace: when to re-evaluate (ms from now, > 0). */
  requeueAfterMs?: number;
}

/**
 * Rank of an edge for a workload: rendezvous (highest-random-weight) hashing of `uid/edgeName`. Rejected: the first
 * edge in sorted order — every Singleton would pile onto the same edge and all would move together. Rendezvous
 * spreads workloads across edges, is deterministic, and adding or removing an edge changes only the choices that
 * involve it.
 */
export function rendezvousRank(workloadUid: string, edgeName: string): string {
  return createHash('sha256').update(`${workloadUid}/${edgeName}`).digest('hex');
}

function best(workloadUid: string, edges: readonly Edge[]): Edge | undefined {
  let top: Edge | undefined;
  let topRank = '';
  for (const e of edges) {
    const rank = rendezvousRank(workloadUid, e.metadata.name ?? '');
    if (top === undefined || rank > topRank) [top, topRank] = [e, rank];
  }
  return top;
}

/**
 * `candidates` are the workload's candidate edges; `currentEdgeNames` the edges of its live Placements (more than one
 * after a switch from Spread: the Ready one with the best rank is kept, the rest are dropped).
 * Boundary: at exactly `failoverGraceMs` of disconnection the grace has run out. An edge with no known disconnection
 * time (never connected) has no grace.
 */
export function singletonChoice(
  workloadUid: string,
  candidates: readonly Edge[],
  currentEdgeNames: readonly string[],
  now: Date,
  failoverGraceMs: number,
): SingletonChoice {
  const current = candidates.filter((e) => currentEdgeNames.includes(e.metadata.name ?? ''));
  const ready = candidates.filter(isEdgeReady);
  const readyCurrent = best(workloadUid, current.filter(isEdgeReady));
  if (readyCurrent !== undefined) return { outcome: SingletonOutcome.Keep, edgeName: readyCurrent.metadata.name };

  const kept = best(workloadUid, current);
  if (kept === undefined) {
    const target = best(workloadUid, ready);
    return target === undefined
      ? { outcome: SingletonOutcome.None }
      : { outcome: SingletonOutcome.Place, edgeName: target.metadata.name };
  }

  const since = disconnectedSince(kept);
  const disconnectedForMs = since === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now.getTime() - since);
  if (disconnectedForMs < failoverGraceMs) {
    return {
      outcome: SingletonOutcome.KeepInGrace,
      edgeName: kept.metadata.name,
      disconnectedForMs,
      requeueAfterMs: failoverGraceMs - disconnectedForMs,
    };
  }
  const target = best(workloadUid, ready);
  if (target === undefined) {
    return { outcome: SingletonOutcome.KeepNoAlternative, edgeName: kept.metadata.name, disconnectedForMs };
  }
  return {
    outcome: SingletonOutcome.FailOver,
    edgeName: target.metadata.name,
    from: kept.metadata.name,
    disconnectedForMs,
  };
}
