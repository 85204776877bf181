// The VirtualWorkload controller's steps in calling order, as one pure function: schedule → diff → status.
// The shell reads the view from its stores, calls this, then sends the writes, records the events and requeues.
import type { Edge, Placement, VirtualWorkload, VirtualWorkloadStatus } from '../../api/types.ts';
import { aggregateStatus, statusEqual } from './aggregate-status.ts';
import type { ControllerEvent } from './events.ts';
import { placementDiff, type PlacementDiff } from './placement-diff.ts';
import { desiredPlacements } from './schedule.ts';

/** What the shell reads from its stores for one workload key. */
export interface WorkloadView {
  /** Every Edge of the workload's logical cluster. */
  edges: readonly Edge[];
  /** The workload's Placements (PlacementsByWorkload index). */
  placements: readonly Placement[];
  /** Every Placement name in the workload's namespace (PlacementsByNamespace index). */
  namesInUse: ReadonlySet<string>;
}

export interface WorkloadOptions {
  failoverGraceMs: number;
}

export interface WorkloadReconcile {
  /** Placement writes: create, then update, then delete (creating first keeps a Singleton's move make-before-break). */
  diff: PlacementDiff;
  /** The status to write through the status subresource; undefined when it is unchanged. */
  status?: VirtualWorkloadStatus;
  events: ControllerEvent[];
  requeueAfterMs?: number;
}

const NOTHING: PlacementDiff = { create: [], update: [], delete: [] };

/**
 * A workload being deleted gets nothing: its Placements carry a controller owner reference with
 * blockOwnerDeletion, so the garbage collector removes them, and writing status to a terminating object is noise.
 * Throws only on a shell bug (objects of another cluster; see desiredPlacements).
 */
export function reconcileWorkload(
  workload: VirtualWorkload,
  view: WorkloadView,
  now: Date,
  opts: WorkloadOptions,
): WorkloadReconcile {
  if (workload.metadata.deletionTimestamp !== undefined) return { diff: NOTHING, events: [] };
  const schedule = desiredPlacements(workload, view.edges, view.placements, now, {
    failoverGraceMs: opts.failoverGraceMs,
    namesInUse: view.namesInUse,
  });
  const diff = placementDiff(workload, schedule.placements, view.placements);
  // Placements about to be deleted no longer describe the workload (e.g. the edge a Singleton left).
  const deleting = new Set(diff.delete);
  const kept = view.placements.filter((p) => !deleting.has(p));
  const status = aggregateStatus(workload, kept, schedule.scheduled, now);
  const result: WorkloadReconcile = { diff, events: schedule.events };
  if (!statusEqual(workload.status, status)) result.status = status;
  if (schedule.requeueAfterMs !== undefined) result.requeueAfterMs = schedule.requeueAfterMs;
  return result;
}
