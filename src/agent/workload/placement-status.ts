// The Placement status the agent reports for the local Deployment (docs/api.md, src/agent/README.md): Applied after an apply, Running once
// the rollout is complete and every desired replica is ready, Failed with a message when apply or rollout fails.
// Pure; `statusChanged` keeps the agent from writing a status that did not change.
import { PlacementPhase } from '../../api/constants.ts';
import type { PlacementStatus } from '../../api/types.ts';
import type { Deployment } from './desired.ts';

export interface StatusInput {
  /** metadata.generation of the Placement being reported on. */
  generation: number | undefined;
  /** The live Deployment (after the apply), if one exists. */
  deployment?: Deployment;
  /** Why the apply failed (a message fit for users), if it did. */
  error?: string;
}

export function placementStatus(input: StatusInput): PlacementStatus {
  const d = input.deployment;
  const desired = d?.spec?.replicas ?? 1;
  const ready = d?.status?.readyReplicas ?? 0;
  const available = d?.status?.availableReplicas ?? 0;
  const base = { readyReplicas: ready, availableReplicas: available, observedGeneration: input.generation };
  if (input.error !== undefined) return { phase: PlacementPhase.Failed, message: input.error, ...base };
  if (d === undefined) return { phase: PlacementPhase.Pending, message: 'waiting for the Deployment', ...base };
  const stuck = d.status?.conditions?.find(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stuck !== undefined) {
    return { phase: PlacementPhase.Failed, message: `rollout stuck: ${stuck.message ?? stuck.reason}`, ...base };
  }
  const rolledOut = (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
  const updated = d.status?.updatedReplicas ?? 0;
  if (rolledOut && ready >= desired && updated >= desired) {
    return { phase: PlacementPhase.Running, message: `${ready}/${desired} replicas ready`, ...base };
  }
  const failure = d.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const why = failure !== undefined ? `; ${failure.message ?? failure.reason}` : '';
  return { phase: PlacementPhase.Applied, message: `${ready}/${desired} replicas ready${why}`, ...base };
}

/** Whether writing `next` would change what `current` says (fields the agent owns only). */
export function statusChanged(current: PlacementStatus | undefined, next: PlacementStatus): boolean {
  const c = current ?? {};
  return (
    c.phase !== next.phase ||
    (c.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (c.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    (c.message ?? '') !== (next.message ?? '') ||
    c.observedGeneration !== next.observedGeneration
  );
}
