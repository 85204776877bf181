// TypeScript shapes of the kedge.faros.sh/v1alpha1 kinds: Edge, VirtualWorkload, Placement and their lists.
// Field names match docs/api.md (compatible with the Go Kedge) and crds/*.yaml; src/api/kcp-config.test.ts checks drift.
import type { EdgePhase, EdgeType, PlacementPhase, PlacementStrategy, VirtualWorkloadPhase } from './constants.ts';
import type { Condition, LabelSelector, ListMeta, ObjectMeta } from './meta.ts';
import type { ContainerPort, EnvVar, PodTemplateSpec, ResourceRequirements } from './pod.ts';

export type * from './meta.ts';
export type * from './pod.ts';

interface TypeMeta<K extends string> {
  apiVersion?: 'kedge.faros.sh/v1alpha1';
  kind?: K;
}

interface List<K extends string, T> {
  apiVersion?: 'kedge.faros.sh/v1alpha1';
  kind?: K;
  metadata?: ListMeta;
  items: T[];
}

// ---- Edge (cluster-scoped) ----

export interface EdgeServerSpec {
  /** Port of the SSH server on the host the agent forwards ssh streams to. Default 22. */
  sshPort?: number;
}

export interface EdgeSpec {
  /** Required and immutable. */
  type: EdgeType;
  /** Only allowed when type is server. */
  server?: EdgeServerSpec;
  /** When true the scheduler places no new workloads here. */
  unschedulable?: boolean;
}

export interface EdgeStatus {
  phase?: EdgePhase;
  connected?: boolean;
  /** RFC 3339, written by the agent's heartbeat. */
  lastHeartbeatTime?: string;
  /** Full URL of the edge's edges-proxy endpoint: …/k8s for kubernetes edges, …/ssh for server edges. */
  URL?: string;
  agentVersion?: string;
  hostname?: string;
  kubernetesVersion?: string;
  /** Server edges: operating system (`linux`), kernel release and CPU architecture (`arm64`) the agent reports. */
  os?: string;
  kernelVersion?: string;
  architecture?: string;
  /** The first of sshHostKeys (compatible with the Go Kedge): authorized_keys form "<type> <base64>". */
  sshHostKey?: string;
  /** Pinned SSH host keys, one per key type sshd offers: set from the agent's first report, changed only by
   *  `kedge edge trust-host-key`. Clients accept only these. */
  sshHostKeys?: string[];
  /** The keys sshd presented at the agent's latest scan; differing from sshHostKeys → HostKeyTrusted False. */
  observedSSHHostKeys?: string[];
  /** Ready, TunnelConnected; HostKeyTrusted on server edges. */
  conditions?: Condition[];
}

export interface Edge extends TypeMeta<'Edge'> {
  metadata: ObjectMeta;
  spec: EdgeSpec;
  status?: EdgeStatus;
}

export type EdgeList = List<'EdgeList', Edge>;

// ---- VirtualWorkload (namespaced) ----

export interface SimpleWorkloadSpec {
  image: string;
  ports?: ContainerPort[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  command?: string[];
  args?: string[];
}

export interface WorkloadPlacementSpec {
  /** Absent selects all edges. */
  edgeSelector?: LabelSelector;
  /** Default Spread. */
  strategy?: PlacementStrategy;
}

export interface VirtualWorkloadSpec {
  /** Exactly one of simple and template is set (enforced by CEL). */
  simple?: SimpleWorkloadSpec;
  template?: PodTemplateSpec;
  /** Replicas per edge. Default 1. */
  replicas?: number;
  placement?: WorkloadPlacementSpec;
}

export interface EdgeWorkloadStatus {
  edgeName: string;
  phase?: PlacementPhase;
  readyReplicas?: number;
  message?: string;
}

export interface VirtualWorkloadStatus {
  phase?: VirtualWorkloadPhase;
  readyReplicas?: number;
  availableReplicas?: number;
  /** Length of edges: the Edges printer column (a column cannot count a list itself). */
  edgeCount?: number;
  /** One row per Placement, sorted by edgeName. */
  edges?: EdgeWorkloadStatus[];
  /** Scheduled, Available. */
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface VirtualWorkload extends TypeMeta<'VirtualWorkload'> {
  metadata: ObjectMeta;
  spec: VirtualWorkloadSpec;
  status?: VirtualWorkloadStatus;
}

export type VirtualWorkloadList = List<'VirtualWorkloadList', VirtualWorkload>;

// ---- Placement (namespaced, owned by its VirtualWorkload) ----

export interface WorkloadReference {
  name: string;
  uid: string;
}

export interface PlacementSpec {
  workloadRef: WorkloadReference;
  edgeName: string;
  replicas?: number;
}

export interface PlacementStatus {
  phase?: PlacementPhase;
  readyReplicas?: number;
  availableReplicas?: number;
  message?: string;
  observedGeneration?: number;
}

export interface Placement extends TypeMeta<'Placement'> {
  metadata: ObjectMeta;
  spec: PlacementSpec;
  status?: PlacementStatus;
}

export type PlacementList = List<'PlacementList', Placement>;
