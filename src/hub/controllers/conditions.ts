// meta/v1 Condition bookkeeping shared by the decision functions: RFC 3339 timestamps and merging freshly computed
// conditions into the previous list so that lastTransitionTime changes only when status changes.
import type { ConditionStatus } from '../../api/constants.ts';
import type { Condition } from '../../api/types.ts';

/** A condition as a decision function computes it: no time, no generation (merge adds them). */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Kubernetes serialises metav1.Time with second precision; writing milliseconds would make every comparison with
 * what the API server returns differ. Sub-second parts are dropped, not rounded.
 */
export function rfc3339(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Milliseconds since the epoch of an RFC 3339 string, or undefined when absent or unparseable. */
export function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * The conditions to write: every `inputs` entry (in that order), its lastTransitionTime kept from `previous` when
 * the status is unchanged and set to `now` otherwise, followed by the previous conditions of other types untouched
 * (another writer may own them).
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  inputs: readonly ConditionInput[],
  now: Date,
  observedGeneration?: number,
): Condition[] {
  const managed = new Set(inputs.map((c) => c.type));
  const merged: Condition[] = inputs.map((input) => {
    const before = findCondition(previous, input.type);
    const lastTransitionTime =
      before !== undefined && before.status === input.status ? before.lastTransitionTime : rfc3339(now);
    const condition: Condition = { ...input, lastTransitionTime };
    if (observedGeneration !== undefined) condition.observedGeneration = observedGeneration;
    return condition;
  });
  for (const c of previous ?? []) if (!managed.has(c.type)) merged.push(c);
  return merged;
}
