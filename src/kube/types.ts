// Wire shapes shared by the kube client layer: objects, lists, watch events and the Status body.
// Only the fields this layer reads are typed; everything else passes through untouched.
import type { ListMeta, OwnerReference } from '../api/meta.ts';

// meta/v1 shapes shared with the API types: one definition each.
export type { ListMeta, OwnerReference };

export type ObjectMeta = {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [field: string]: unknown;
};

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
};

export type KubeList<T extends KubeObject = KubeObject> = {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
};

/** The `Status` object the API server returns with failures and inside watch `ERROR` events. */
export type StatusBody = {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    retryAfterSeconds?: number;
    causes?: { type?: string; message?: string; field?: string }[];
  };
};

export const WatchEventType = {
  Added: 'ADDED',
  Modified: 'MODIFIED',
  Deleted: 'DELETED',
  Bookmark: 'BOOKMARK',
  Error: 'ERROR',
} as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: KubeObject }
  | { type: 'ERROR'; object: StatusBody };
