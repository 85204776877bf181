// Helpers for the controller suites and the scheduling benchmark: an admin client, tenant workspaces with the export
// bound, Edge / VirtualWorkload / Placement objects written directly (no agents), a hub with short controller
// timings, and an extra kcp of a suite's own (for restarting it).
import { pino, type Logger } from 'pino';
import { API_VERSION, GROUP, VERSION } from '../../src/api/constants.ts';
import type { Edge, EdgeStatus, Placement, VirtualWorkload } from '../../src/api/types.ts';
import type { Hub } from '../../src/hub/hub.ts';
import { ensureTenant, type Tenant } from '../../src/hub/tenancy/tenants.ts';
import { isConflict } from '../../src/kube/api-error.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { loadKubeconfig } from '../../src/kube/kubeconfig.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { loadTestEnv } from './env.ts';
import { startTestHub } from './hub.ts';

export const G = `/apis/${GROUP}/${VERSION}`;

export function testLogger(): Logger {
  return pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' });
}

/** The hub's admin identity on the run's kcp (bare URL). */
export function adminClient(): KubeClient {
  const o = loadKubeconfig({ path: loadTestEnv().kcpAdminKubeconfig });
  const u = new URL(o.server);
  return new KubeClient({ ...o, server: `${u.protocol}//${u.host}`, userAgent: 'kedge-e2e' });
}

/** A tenant workspace with the export bound, as token login would make it. */
export function createTenant(kcp: KubeClient, tenant: string, log = testLogger()): Promise<Tenant> {
  return ensureTenant(kcp, { username: `kedge:test:${tenant}`, uid: tenant, groups: [], tenant }, log);
}

export function edgeManifest(
  name: string,
  labels: Record<string, string> = {},
  spec: Partial<Edge['spec']> = {},
): Edge {
  return { apiVersion: API_VERSION, kind: 'Edge', metadata: { name, labels }, spec: { type: 'kubernetes', ...spec } };
}

export function workloadManifest(
  name: string,
  placement: VirtualWorkload['spec']['placement'] = {},
  extra: Partial<VirtualWorkload['spec']> = {},
): VirtualWorkload {
  return {
    apiVersion: API_VERSION,
    kind: 'VirtualWorkload',
    metadata: { name, namespace: 'default' },
    spec: { simple: { image: 'nginx:1.27' }, placement, ...extra },
  };
}

/** Typed access to one tenant workspace (`ws` client on /clusters/<path>). */
export class TenantApi {
  readonly ws: KubeClient;
  readonly ns: string;
  constructor(ws: KubeClient, ns = 'default') {
    this.ws = ws;
    this.ns = ns;
  }

  createEdge(
    name: string,
    labels: Record<string, string> = {},
    spec: Partial<Edge['spec']> = {},
  ): Promise<Edge & KubeObject> {
    return this.ws.create(`${G}/edges`, edgeManifest(name, labels, spec));
  }

  getEdge(name: string): Promise<Edge & KubeObject> {
    return this.ws.get(`${G}/edges/${name}`);
  }

  async patchEdgeLabels(name: string, labels: Record<string, string | null>): Promise<void> {
    await this.ws.patch(`${G}/edges/${name}`, { metadata: { labels } }, 'merge');
  }

  /** Retried on conflict: the edge controller writes the status of a new Edge (Pending) at the same time. */
  async setEdgeStatus(name: string, status: EdgeStatus): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const edge = await this.getEdge(name);
      try {
        await this.ws.updateStatus(`${G}/edges/${name}`, { ...edge, status });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 10) throw err;
      }
    }
  }

  async deleteEdge(name: string): Promise<void> {
    await this.ws.delete(`${G}/edges/${name}`);
  }

  createWorkload(vw: VirtualWorkload): Promise<VirtualWorkload & KubeObject> {
    return this.ws.create(`${G}/namespaces/${this.ns}/virtualworkloads`, vw);
  }

  getWorkload(name: string): Promise<VirtualWorkload & KubeObject> {
    return this.ws.get(`${G}/namespaces/${this.ns}/virtualworkloads/${name}`);
  }

  async patchWorkload(name: string, patch: unknown): Promise<void> {
    await this.ws.patch(`${G}/namespaces/${this.ns}/virtualworkloads/${name}`, patch, 'merge');
  }

  async deleteWorkload(name: string): Promise<void> {
    await this.ws.delete(`${G}/namespaces/${this.ns}/virtualworkloads/${name}`);
  }

  /** The Placements of workload `vw` (by spec.workloadRef.name), sorted by edge. */
  async placements(vw?: string): Promise<(Placement & KubeObject)[]> {
    const { items } = await this.ws.listAll<Placement & KubeObject>(`${G}/namespaces/${this.ns}/placements`);
    return items
      .filter((p) => vw === undefined || p.spec.workloadRef.name === vw)
      .sort((a, b) => a.spec.edgeName.localeCompare(b.spec.edgeName));
  }

  async placementEdges(vw: string): Promise<string[]> {
    return (await this.placements(vw))
      .filter((p) => p.metadata.deletionTimestamp === undefined)
      .map((p) => p.spec.edgeName);
  }

  async setPlacementStatus(name: string, status: Placement['status']): Promise<void> {
    const p = await this.ws.get<Placement & KubeObject>(`${G}/namespaces/${this.ns}/placements/${name}`);
    await this.ws.updateStatus(`${G}/namespaces/${this.ns}/placements/${name}`, { ...p, status });
  }

  /** core/v1 Events about `vw`, oldest first. */
  async events(vw: string): Promise<{ reason: string; type: string; message: string }[]> {
    const { items } = await this.ws.listAll<
      KubeObject & {
        involvedObject: { name: string; kind: string };
        reason: string;
        type: string;
        message: string;
        firstTimestamp?: string;
      }
    >(`/api/v1/namespaces/${this.ns}/events`);
    return items
      .filter((e) => e.involvedObject.kind === 'VirtualWorkload' && e.involvedObject.name === vw)
      .sort((a, b) => (a.firstTimestamp ?? '').localeCompare(b.firstTimestamp ?? ''))
      .map((e) => ({ reason: e.reason, type: e.type, message: e.message }));
  }
}

/** A Ready status with the given heartbeat time (what an agent connection would leave behind). */
export function readyEdgeStatus(heartbeat: Date, readySince: Date = heartbeat): EdgeStatus {
  const t = readySince.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    phase: 'Ready',
    connected: true,
    lastHeartbeatTime: heartbeat.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    conditions: [
      { type: 'Ready', status: 'True', reason: 'AgentConnected', message: 'test', lastTransitionTime: t },
      { type: 'TunnelConnected', status: 'True', reason: 'TunnelRegistered', message: 'test', lastTransitionTime: t },
    ],
  };
}

/** A hub on the run's kcp (port kcp's webhook trusts) with controller timings of the caller's choice. */
export function startControllersHub(controllers: {
  failoverGraceMs?: number;
  heartbeatIntervalMs?: number;
  enabled?: boolean;
}): Promise<Hub> {
  return startTestHub([], { controllers });
}

export { startOwnKcp, type OwnKcp } from './own-kcp.ts';
