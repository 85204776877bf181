// Label and annotation values that hub, agent and CLI must derive the same way: the label value standing for a
// Kubernetes name, and the workload generation a Placement carries.
import { createHash } from 'node:crypto';
import { ANNOTATION_WORKLOAD_GENERATION } from './constants.ts';
import type { Placement } from './types.ts';

/** Longest label value Kubernetes accepts. */
export const MAX_LABEL_VALUE = 63;
const HASH_HEX = 10;

/**
 * A label value standing for a Kubernetes name: the name itself when it fits a label value (≤ 63), else its first
 * 52 characters and 10 hex of its sha256. VirtualWorkload and Edge names may be 253 characters long; the
 * `kedge.faros.sh/virtualworkload` and `kedge.faros.sh/edge` labels must stay valid for them, and every reader
 * (scheduler list, agent-proxy filter) must derive the value with this function.
 */
export function labelValueForName(name: string): string {
  if (name.length <= MAX_LABEL_VALUE) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_HEX);
  const prefix = name.slice(0, MAX_LABEL_VALUE - HASH_HEX - 1).replace(/[-.]+$/, '');
  return `${prefix}-${hash}`;
}

/** The workload generation a Placement carries, or undefined when absent or not a non-negative integer. */
export function workloadGenerationOf(p: Placement): number | undefined {
  const v = p.metadata.annotations?.[ANNOTATION_WORKLOAD_GENERATION];
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}
