// What a Placement becomes in the local cluster (src/agent/README.md): its namespace, a Deployment and, when ports are declared,
// a Service, each labelled/annotated back to the Placement. Pure: no I/O, clock or randomness.
import { createHash } from 'node:crypto';
import { DEFAULT_REPLICAS, LABEL_EDGE, LABEL_VIRTUAL_WORKLOAD } from '../../api/constants.ts';
import type { Container, ContainerPort, Placement, PodTemplateSpec, VirtualWorkload } from '../../api/types.ts';
import { labelValueForName, workloadGenerationOf } from '../../api/labels.ts';
import { isApiError } from '../../kube/api-error.ts';
import type { KubeObject } from '../../kube/types.ts';
import { KedgeError } from '../../api/errors.ts';

export const FIELD_MANAGER = 'kedge-agent';

/** Label values are `labelValueForName(name)`; the annotations carry the full names (labels may be hashed). */
export const LABEL_PLACEMENT = 'kedge.faros.sh/placement';
export const LABEL_CLUSTER = 'kedge.faros.sh/cluster';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kedge-agent';
export const ANNOTATION_PLACEMENT = 'kedge.faros.sh/placement';
export const ANNOTATION_PLACEMENT_UID = 'kedge.faros.sh/placement-uid';
export const ANNOTATION_VIRTUAL_WORKLOAD = 'kedge.faros.sh/virtualworkload';
export const ANNOTATION_VIRTUAL_WORKLOAD_UID = 'kedge.faros.sh/virtualworkload-uid';
export const ANNOTATION_CLUSTER = 'kedge.faros.sh/cluster';
/** sha256 of the desired Deployment and Service: the agent skips the apply when the live object carries the same. */
export const ANNOTATION_DESIRED_HASH = 'kedge.faros.sh/desired-hash';

/** Selects every object the agent made (for the orphan sweep). */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PLACEMENT}`;

export interface LocalContext {
  /** Logical cluster of the tenant workspace the Placement lives in. */
  cluster: string;
  edge: string;
}

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: PodTemplateSpec;
    [field: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Service extends KubeObject {
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; type?: string; [field: string]: unknown };
}

export interface DesiredObjects {
  namespace: string;
  deployment: Deployment;
  /** Undefined when no container declares a port: an existing managed Service is then deleted. */
  service: Service | undefined;
  /** ANNOTATION_DESIRED_HASH of both (already set on them). */
  hash: string;
}

/** The VirtualWorkload or Placement cannot be turned into objects on this edge; the Placement says why. */
export class DesiredStateError extends KedgeError<'KEDGE_AGENT_WORKLOAD_INVALID'> {
  override name = 'DesiredStateError';
  constructor(message: string) {
    super('KEDGE_AGENT_WORKLOAD_INVALID', message);
  }
}

/** The pods' labels the Deployment and Service select on: stable for the life of the VirtualWorkload. */
export function selectorLabels(vwName: string): Record<string, string> {
  return { [LABEL_VIRTUAL_WORKLOAD]: labelValueForName(vwName) };
}

/** Labels on every object made for `placement`; `MANAGED_SELECTOR` and `placementSelector` find them. */
export function ownedLabels(placement: Placement, ctx: LocalContext): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_PLACEMENT]: labelValueForName(placement.metadata.name ?? ''),
    [LABEL_VIRTUAL_WORKLOAD]: labelValueForName(placement.spec.workloadRef.name),
    [LABEL_CLUSTER]: labelValueForName(ctx.cluster),
    [LABEL_EDGE]: labelValueForName(ctx.edge),
  };
}

/** Label selector of the objects made for the Placement named `placementName` (confirm with the annotation). */
export function placementSelector(placementName: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_PLACEMENT}=${labelValueForName(placementName)}`;
}

function ownedAnnotations(placement: Placement, vw: VirtualWorkload, ctx: LocalContext): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATION_PLACEMENT]: placement.metadata.name ?? '',
    [ANNOTATION_VIRTUAL_WORKLOAD]: vw.metadata.name ?? '',
    [ANNOTATION_CLUSTER]: ctx.cluster,
  };
  if (placement.metadata.uid) a[ANNOTATION_PLACEMENT_UID] = placement.metadata.uid;
  if (vw.metadata.uid) a[ANNOTATION_VIRTUAL_WORKLOAD_UID] = vw.metadata.uid;
  return a;
}

/** A DNS-1123 label from a VirtualWorkload name (which may be a 253-character subdomain). */
export function containerName(vwName: string): string {
  const s = vwName
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'main' : s;
}

export function replicasFor(placement: Placement, vw: VirtualWorkload): number {
  return placement.spec.replicas ?? vw.spec.replicas ?? DEFAULT_REPLICAS;
}

function podTemplate(vw: VirtualWorkload): PodTemplateSpec {
  const name = vw.metadata.name ?? '';
  const selector = selectorLabels(name);
  if (vw.spec.simple !== undefined && vw.spec.template !== undefined) {
    throw new DesiredStateError(`VirtualWorkload ${name} sets both spec.simple and spec.template`);
  }
  if (vw.spec.template !== undefined) {
    const t = structuredClone(vw.spec.template);
    if (!Array.isArray(t.spec?.containers) || t.spec.containers.length === 0) {
      throw new DesiredStateError(`VirtualWorkload ${name}: spec.template.spec.containers is empty`);
    }
    // Template metadata is kept; the selector labels are added (they win, or the Deployment would select nothing).
    t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...selector } };
    return t;
  }
  const s = vw.spec.simple;
  if (s === undefined || typeof s.image !== 'string' || s.image === '') {
    throw new DesiredStateError(`VirtualWorkload ${name} has neither spec.simple.image nor spec.template`);
  }
  const c: Container = { name: containerName(name), image: s.image };
  if (s.command?.length) c.command = [...s.command];
  if (s.args?.length) c.args = [...s.args];
  if (s.ports?.length) c.ports = structuredClone(s.ports);
  if (s.env?.length) c.env = structuredClone(s.env);
  if (s.resources !== undefined) c.resources = structuredClone(s.resources);
  return { metadata: { labels: selector }, spec: { containers: [c] } };
}

/** The Deployment for `placement` (namespace and name of its VirtualWorkload), without the hash annotation. */
export function desiredDeployment(placement: Placement, vw: VirtualWorkload, ctx: LocalContext): Deployment {
  checkPair(placement, vw);
  const name = vw.metadata.name ?? '';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: vw.metadata.namespace,
      labels: ownedLabels(placement, ctx),
      annotations: ownedAnnotations(placement, vw, ctx),
    },
    spec: {
      replicas: replicasFor(placement, vw),
      selector: { matchLabels: selectorLabels(name) },
      template: podTemplate(vw),
    },
  };
}

/** Every port any container declares, once per (port, protocol), as Service ports; named when there are several. */
export function servicePorts(template: PodTemplateSpec): ServicePort[] {
  const seen = new Set<string>();
  const ports: (ContainerPort & { protocol: 'TCP' | 'UDP' | 'SCTP' })[] = [];
  for (const c of template.spec.containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      const key = `${p.containerPort}/${protocol}`;
      if (seen.has(key)) continue;
      seen.add(key);
      ports.push({ ...p, protocol });
    }
  }
  const names = new Set<string>();
  return ports.map((p) => {
    const out: ServicePort = { port: p.containerPort, targetPort: p.containerPort, protocol: p.protocol };
    if (ports.length > 1) {
      let n = p.name && !names.has(p.name) ? p.name : `${p.protocol.toLowerCase()}-${p.containerPort}`;
      while (names.has(n)) n = `${n}-x`;
      names.add(n);
      out.name = n;
    } else if (p.name) out.name = p.name;
    return out;
  });
}

/** The Service exposing the declared ports, or undefined when none are declared. */
export function desiredService(
  placement: Placement,
  vw: VirtualWorkload,
  ctx: LocalContext,
  deployment: Deployment,
): Service | undefined {
  const template = deployment.spec?.template;
  const ports = template ? servicePorts(template) : [];
  if (ports.length === 0) return undefined;
  const name = vw.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: vw.metadata.namespace,
      labels: ownedLabels(placement, ctx),
      annotations: ownedAnnotations(placement, vw, ctx),
    },
    spec: { type: 'ClusterIP', selector: selectorLabels(name), ports },
  };
}

/** Namespace, Deployment and Service for `placement`, with ANNOTATION_DESIRED_HASH set on both objects. */
export function desiredObjects(placement: Placement, vw: VirtualWorkload, ctx: LocalContext): DesiredObjects {
  const deployment = desiredDeployment(placement, vw, ctx);
  const service = desiredService(placement, vw, ctx, deployment);
  const hash = createHash('sha256')
    .update(JSON.stringify([deployment, service ?? null]))
    .digest('hex')
    .slice(0, 16);
  for (const o of [deployment, service]) {
    if (o !== undefined) o.metadata.annotations = { ...o.metadata.annotations, [ANNOTATION_DESIRED_HASH]: hash };
  }
  return { namespace: vw.metadata.namespace ?? 'default', deployment, service, hash };
}

/**
 * Whether to apply: the live Deployment's hash differs, or the agent's own last apply (`lastAppliedHash`, undefined
 * when it has not applied since it started) differs. The second case covers a local cache that still shows an older
 * Deployment: a VirtualWorkload edited and quickly reverted must not be skipped because the stale cache happens to show
 * the reverted-to state. The hash covers the VirtualWorkload's content, so a new image re-applies even though the
 * Placement's spec is the same.
 */
export function needsApply(
  desiredHash: string,
  liveHash: string | undefined,
  lastAppliedHash: string | undefined,
): boolean {
  return liveHash !== desiredHash || (lastAppliedHash !== undefined && lastAppliedHash !== desiredHash);
}

/**
 * Whether the VirtualWorkload just read is older than the generation the hub stamped on the Placement
 * (ANNOTATION_WORKLOAD_GENERATION): then the read lagged and must be retried, not applied. A Placement still naming
 * an earlier incarnation (other uid) is not "behind": checkPair reports it.
 */
export function workloadBehind(placement: Placement, vw: VirtualWorkload): boolean {
  const want = workloadGenerationOf(placement);
  const have = vw.metadata.generation;
  if (want === undefined || have === undefined) return false;
  const ref = placement.spec.workloadRef;
  if (ref.uid && vw.metadata.uid && ref.uid !== vw.metadata.uid) return false;
  return have < want;
}

/**
 * What a failed local apply means. `namespace-gone`: the namespace was deleted on the edge (404 naming the
 * namespace) or is being deleted (403 with cause NamespaceTerminating); the caller forgets it was made and retries
 * with backoff, so it is created again once the old one is gone. `transient`: retry with backoff (no status).
 * `failed`: a lasting refusal (invalid, forbidden): report it on the Placement and retry slowly.
 */
export type ApplyFailure = 'namespace-gone' | 'transient' | 'failed';

export function applyFailure(err: unknown): ApplyFailure {
  if (!isApiError(err)) return 'transient';
  const details = err.status?.details;
  if (err.code === 404 && details?.kind === 'namespaces') return 'namespace-gone';
  if (err.code === 403 && details?.causes?.some((c) => c.type === 'NamespaceTerminating')) return 'namespace-gone';
  if (err.code >= 500 || err.code === 429 || err.code === 409) return 'transient';
  return 'failed';
}

function checkPair(placement: Placement, vw: VirtualWorkload): void {
  const ref = placement.spec.workloadRef;
  if (ref.name !== vw.metadata.name) {
    throw new DesiredStateError(
      `Placement ${placement.metadata.name} refers to VirtualWorkload ${ref.name}, not ${vw.metadata.name}`,
    );
  }
  if (ref.uid && vw.metadata.uid && ref.uid !== vw.metadata.uid) {
    throw new DesiredStateError(
      `Placement ${placement.metadata.name} refers to an earlier VirtualWorkload ${ref.name} (uid ${ref.uid})`,
    );
  }
  if (
    placement.metadata.namespace !== undefined &&
    vw.metadata.namespace !== undefined &&
    placement.metadata.namespace !== vw.metadata.namespace
  ) {
    throw new DesiredStateError(
      `Placement ${placement.metadata.name} and VirtualWorkload ${ref.name} are in different namespaces`,
    );
  }
}
