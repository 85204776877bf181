// Minimal shapes of the Kubernetes meta/v1 types Kedge objects carry: ObjectMeta, ListMeta, OwnerReference,
// LabelSelector and Condition. Only the fields Kedge reads or writes; the API server keeps the rest.
import type { ConditionStatus, LabelSelectorOperator } from './constants.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  /** Absent for cluster-scoped objects (Edge). */
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  /** On objects read through a kcp virtual workspace, `kcp.io/cluster` names the logical cluster. */
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  /** RFC 3339. */
  creationTimestamp?: string;
  /** RFC 3339; set once deletion started. */
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Non-empty for In/NotIn, empty or absent for Exists/DoesNotExist. */
  values?: string[];
}

/** meta/v1 LabelSelector: requirements are ANDed; an empty selector matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** meta/v1 Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  /** The .metadata.generation the condition was computed from. */
  observedGeneration?: number;
  /** RFC 3339; changes only when status changes. */
  lastTransitionTime: string;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
}
