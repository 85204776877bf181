// Placement names: `<vw>-<edge>` when that is a DNS-1123 label (≤ 63), else `<sanitised prefix>-<10 hex of sha256>`.
// Label-safe on purpose: the agent copies the name into label values and edge-side object names, which allow 63.
import { createHash } from 'node:crypto';
import { MAX_LABEL_VALUE } from '../../api/labels.ts';

/** Placement names double as label values and edge-side object names. */
export const MAX_PLACEMENT_NAME = MAX_LABEL_VALUE;
const HASH_HEX = 10;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `<vw>-<edge>` when it is a valid DNS-1123 label of at most 63 characters, otherwise undefined. */
export function readablePlacementName(workloadName: string, edgeName: string): string | undefined {
  const name = `${workloadName}-${edgeName}`;
  return name.length <= MAX_PLACEMENT_NAME && DNS1123_LABEL.test(name) ? name : undefined;
}

/**
 * Always-hashed name, deterministic in (workload, edge). The hash input joins the two with '/', which neither
 * Kubernetes name may contain, so ("a-b","c") and ("a","b-c") hash differently even though their readable names are
 * equal. 10 hex digits = 40 bits: a collision inside one namespace is negligible, and placementName checks anyway.
 */
export function hashedPlacementName(workloadName: string, edgeName: string): string {
  const hash = createHash('sha256').update(`${workloadName}/${edgeName}`).digest('hex').slice(0, HASH_HEX);
  const prefix = `${workloadName}-${edgeName}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, MAX_PLACEMENT_NAME - HASH_HEX - 1)
    .replace(/^-+|-+$/g, '');
  return prefix === '' ? `p-${hash}` : `${prefix}-${hash}`;
}

/**
 * The name for a new Placement of (workload, edge). The readable form wins unless it is invalid or `namesInUse`
 * (every Placement name in the namespace, from any workload) already holds it: `<vw>-<edge>` is ambiguous
 * ("a-b"+"c" and "a"+"b-c"), so the second pair to arrive falls back to the hashed form. Existing Placements are
 * matched by edge, never by name, so a name chosen once stays.
 */
export function placementName(workloadName: string, edgeName: string, namesInUse?: ReadonlySet<string>): string {
  const readable = readablePlacementName(workloadName, edgeName);
  if (readable !== undefined && !namesInUse?.has(readable)) return readable;
  return hashedPlacementName(workloadName, edgeName);
}
