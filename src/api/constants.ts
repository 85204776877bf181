// Names of the kedge.faros.sh/v1alpha1 API: group, kinds, plurals, label/annotation keys, kcp workspace paths,
// and the enum-like values (phases, types, strategies, condition types, event reasons); docs/api.md.

export const GROUP = 'kedge.faros.sh';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const Kind = {
  Edge: 'Edge',
  VirtualWorkload: 'VirtualWorkload',
  Placement: 'Placement',
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const Resource = {
  edges: 'edges',
  virtualworkloads: 'virtualworkloads',
  placements: 'placements',
} as const;
export type Resource = (typeof Resource)[keyof typeof Resource];

export const ShortName = {
  edges: 'ed',
  virtualworkloads: 'vw',
  placements: 'pl',
} as const;

/** `kubectl get kedge` lists all three kinds. */
export const CATEGORY = 'kedge';

/** On a Placement: the name of the VirtualWorkload it belongs to. */
export const LABEL_VIRTUAL_WORKLOAD = 'kedge.faros.sh/virtualworkload';
/** On a Placement (and on the objects the agent creates for it): the name of its Edge. */
export const LABEL_EDGE = 'kedge.faros.sh/edge';
/**
 * On a Placement: `metadata.generation` of its VirtualWorkload when the scheduler last wrote it. A VirtualWorkload spec
 * edit that keeps the Placements (a new image, a template change) bumps the generation, so every Placement is updated
 * and its agent — which watches only its Placements — re-reads the VirtualWorkload at once instead of at its next
 * resync. Status writes do not bump the generation, so they cause no Placement writes.
 */
export const ANNOTATION_WORKLOAD_GENERATION = 'kedge.faros.sh/workload-generation';
/** kcp sets this on every object read across workspaces: the logical cluster it lives in. */
export const ANNOTATION_KCP_CLUSTER = 'kcp.io/cluster';

/** The APIExport tenants bind; it lives in WORKSPACE_PROVIDERS. */
export const EXPORT_NAME = 'kedge.faros.sh';

export const WORKSPACE_ROOT = 'root:kedge';
export const WORKSPACE_PROVIDERS = 'root:kedge:providers';
export const WORKSPACE_TENANTS = 'root:kedge:tenants';

export const EdgeType = {
  Kubernetes: 'kubernetes',
  Server: 'server',
} as const;
export type EdgeType = (typeof EdgeType)[keyof typeof EdgeType];

/** Pending: never connected. Ready: tunnel up. Disconnected: tunnel closed or heartbeat stale. */
export const EdgePhase = {
  Pending: 'Pending',
  Ready: 'Ready',
  Disconnected: 'Disconnected',
} as const;
export type EdgePhase = (typeof EdgePhase)[keyof typeof EdgePhase];

export const VirtualWorkloadPhase = {
  Pending: 'Pending',
  Progressing: 'Progressing',
  Running: 'Running',
  Degraded: 'Degraded',
} as const;
export type VirtualWorkloadPhase = (typeof VirtualWorkloadPhase)[keyof typeof VirtualWorkloadPhase];

export const PlacementPhase = {
  Pending: 'Pending',
  Applied: 'Applied',
  Running: 'Running',
  Failed: 'Failed',
} as const;
export type PlacementPhase = (typeof PlacementPhase)[keyof typeof PlacementPhase];

/** Spread: every matching edge. Singleton: exactly one Ready matching edge, with failover. */
export const PlacementStrategy = {
  Spread: 'Spread',
  Singleton: 'Singleton',
} as const;
export type PlacementStrategy = (typeof PlacementStrategy)[keyof typeof PlacementStrategy];

export const ConditionType = {
  /** Edge */
  Ready: 'Ready',
  /** Edge */
  TunnelConnected: 'TunnelConnected',
  /** Edge (server): the keys sshd presents are the pinned ones (docs/ssh.md). */
  HostKeyTrusted: 'HostKeyTrusted',
  /** VirtualWorkload */
  Scheduled: 'Scheduled',
  /** VirtualWorkload */
  Available: 'Available',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionStatus = {
  True: 'True',
  False: 'False',
  Unknown: 'Unknown',
} as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

/** Event reasons emitted by the scheduler (src/hub/controllers/README.md). Also usable as condition reasons. */
export const EventReason = {
  Scheduled: 'Scheduled',
  NoMatchingEdges: 'NoMatchingEdges',
  FailedOver: 'FailedOver',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export const LabelSelectorOperator = {
  In: 'In',
  NotIn: 'NotIn',
  Exists: 'Exists',
  DoesNotExist: 'DoesNotExist',
} as const;
export type LabelSelectorOperator = (typeof LabelSelectorOperator)[keyof typeof LabelSelectorOperator];

/** Defaults applied by the CRD schema; code reading objects that bypassed admission uses the same values. */
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_STRATEGY: PlacementStrategy = PlacementStrategy.Spread;
export const DEFAULT_SSH_PORT = 22;
