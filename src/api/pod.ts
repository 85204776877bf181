// Minimal shapes of the core/v1 pod types a VirtualWorkload embeds (ContainerPort, EnvVar, ResourceRequirements,
// PodTemplateSpec). The CRD schema is the full upstream one; code passes unknown fields through untouched.

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostPort?: number;
  hostIP?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  /** core/v1 EnvVarSource (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef…), passed through. */
  valueFrom?: Record<string, unknown>;
}

/** Quantities are strings ("100m", "128Mi") or numbers, as the API server accepts both (int-or-string). */
export type Quantity = string | number;

export interface ResourceRequirements {
  limits?: Record<string, Quantity>;
  requests?: Record<string, Quantity>;
  claims?: { name: string; request?: string }[];
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPort[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec: PodSpec;
}
