// The controllers against the run's real kcp, through the APIExport virtual workspace: scheduling (Spread,
// Singleton failover), Placement create/update/delete, garbage collection, status aggregation, Events, the Edge
// lifecycle, two tenants with identical names, a hub restart and a second replica waiting for the Lease.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Hub } from '../src/hub/hub.ts';
import { startControllerManager, type ControllerManager } from '../src/hub/controllers/manager.ts';
import type { KubeClient } from '../src/kube/client.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  adminClient,
  createTenant,
  G,
  readyEdgeStatus,
  startControllersHub,
  TenantApi,
  workloadManifest,
} from './harness/controllers.ts';
import { eventually } from './harness/http.ts';

const suffix = randomBytes(3).toString('hex');
const HEARTBEAT_MS = 10_000; // → Disconnected after 30 s without a heartbeat
const GRACE_MS = 4_000;
let hub: Hub | undefined;
let kcp: KubeClient;
let a: TenantApi;
let b: TenantApi;
let clusterA: string;

const sorted = (xs: string[]): string[] => [...xs].sort();
const within = (what: string, fn: () => Promise<void>, timeoutMs = 30_000): Promise<void> =>
  eventually(fn, { what, timeoutMs, intervalMs: 250 });

beforeAll(async () => {
  hub = await startControllersHub({ failoverGraceMs: GRACE_MS, heartbeatIntervalMs: HEARTBEAT_MS });
  kcp = adminClient();
  const [ta, tb] = await Promise.all([createTenant(kcp, `ctl-a-${suffix}`), createTenant(kcp, `ctl-b-${suffix}`)]);
  a = new TenantApi(kcp.forCluster(ta.workspacePath));
  b = new TenantApi(kcp.forCluster(tb.workspacePath));
  clusterA = ta.cluster;
  await hub.controllers?.whenRunning();
});

afterAll(async () => {
  await hub?.stop();
  await kcp?.close();
});

describe('Spread', () => {
  it('places on the 3 of 5 edges the selector matches, with controller owner refs, labels, status and an Event', async () => {
    for (let i = 1; i <= 5; i++) await a.createEdge(`s-${i}`, { env: i <= 3 ? 'prod' : 'dev', suite: 'spread' });
    const vw = await a.createWorkload(
      workloadManifest('web', { edgeSelector: { matchLabels: { env: 'prod', suite: 'spread' } } }),
    );
    await within('3 placements', async () => expect(await a.placementEdges('web')).toEqual(['s-1', 's-2', 's-3']));
    for (const p of await a.placements('web')) {
      expect(p.metadata.name).toBe(`web-${p.spec.edgeName}`);
      expect(p.spec).toEqual({
        workloadRef: { name: 'web', uid: vw.metadata.uid },
        edgeName: p.spec.edgeName,
        replicas: 1,
      });
      expect(p.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'kedge.faros.sh/v1alpha1',
          kind: 'VirtualWorkload',
          name: 'web',
          uid: vw.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(p.metadata.labels).toMatchObject({
        'kedge.faros.sh/virtualworkload': 'web',
        'kedge.faros.sh/edge': p.spec.edgeName,
      });
    }
    await within('status with 3 edges', async () => {
      const s = (await a.getWorkload('web')).status;
      expect(s?.edgeCount).toBe(3);
      expect(s?.edges?.map((e) => e.edgeName)).toEqual(['s-1', 's-2', 's-3']);
      expect(s?.phase).toBe('Progressing');
      expect(s?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'True', reason: 'Scheduled' });
    });
    await within('Scheduled event', async () =>
      expect((await a.events('web')).map((e) => e.reason)).toContain('Scheduled'),
    );
  });

  it('relabelling an edge removes its Placement, and labelling another adds one', async () => {
    await a.patchEdgeLabels('s-2', { env: 'dev' });
    await within('s-2 placement gone', async () => expect(await a.placementEdges('web')).toEqual(['s-1', 's-3']));
    await a.patchEdgeLabels('s-5', { env: 'prod' });
    await within('s-5 placement added', async () =>
      expect(await a.placementEdges('web')).toEqual(['s-1', 's-3', 's-5']),
    );
  });

  it('deleting an edge removes its Placement', async () => {
    await a.deleteEdge('s-3');
    await within('s-3 placement gone', async () => expect(await a.placementEdges('web')).toEqual(['s-1', 's-5']));
  });

  it('changing replicas updates every Placement in place', async () => {
    const before = await a.placements('web');
    await a.patchWorkload('web', { spec: { replicas: 3 } });
    await within('replicas 3 everywhere', async () =>
      expect((await a.placements('web')).map((p) => p.spec.replicas)).toEqual([3, 3]),
    );
    expect((await a.placements('web')).map((p) => p.metadata.uid)).toEqual(before.map((p) => p.metadata.uid));
  });

  it('aggregates Placement statuses into the workload status, written only on change', async () => {
    const [p1, p5] = await a.placements('web');
    await a.setPlacementStatus(p1!.metadata.name!, {
      phase: 'Running',
      readyReplicas: 3,
      availableReplicas: 3,
      observedGeneration: p1!.metadata.generation!,
    });
    await a.setPlacementStatus(p5!.metadata.name!, {
      phase: 'Running',
      readyReplicas: 2,
      availableReplicas: 1,
      observedGeneration: p5!.metadata.generation!,
    });
    await within('Running with sums', async () => {
      const s = (await a.getWorkload('web')).status;
      expect(s).toMatchObject({ phase: 'Running', readyReplicas: 5, availableReplicas: 4, edgeCount: 2 });
      expect(s?.edges).toEqual([
        { edgeName: 's-1', phase: 'Running', readyReplicas: 3 },
        { edgeName: 's-5', phase: 'Running', readyReplicas: 2 },
      ]);
      expect(s?.conditions?.find((c) => c.type === 'Available')).toMatchObject({
        status: 'True',
        reason: 'AllPlacementsRunning',
      });
    });
    await a.setPlacementStatus(p5!.metadata.name!, {
      phase: 'Failed',
      message: 'image pull failed',
      observedGeneration: p5!.metadata.generation!,
    });
    await within('Degraded', async () => {
      const s = (await a.getWorkload('web')).status;
      expect(s).toMatchObject({ phase: 'Degraded', readyReplicas: 3, availableReplicas: 3 });
      expect(s?.edges?.[1]).toEqual({
        edgeName: 's-5',
        phase: 'Failed',
        readyReplicas: 0,
        message: 'image pull failed',
      });
    });
    // A reconcile that finds the aggregate unchanged must not write it. Touch a Placement (an annotation: the
    // controller reconciles the workload on any Placement update) and wait until that reconcile ran.
    const rv = (await a.getWorkload('web')).metadata.resourceVersion;
    const reconciles = hub!.controllers!.stats().workloads.reconciles;
    await a.ws.patch(
      `${G}/namespaces/${a.ns}/placements/${p1!.metadata.name!}`,
      { metadata: { annotations: { 'e2e.kedge.faros.sh/touch': '1' } } },
      'merge',
    );
    await within('the workload reconciled after the touch', async () => {
      const st = hub!.controllers!.stats();
      expect(st.workloads.reconciles).toBeGreaterThan(reconciles);
      expect(st.queue.workloads).toBe(0);
    });
    expect((await a.getWorkload('web')).metadata.resourceVersion).toBe(rv);
  });

  it('an invalid selector sets Scheduled False and keeps the existing Placements', async () => {
    await a.patchWorkload('web', { spec: { placement: { edgeSelector: { matchLabels: { 'not a key!': 'x' } } } } });
    await within('InvalidSelector condition', async () => {
      const s = (await a.getWorkload('web')).status;
      expect(s?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
        status: 'False',
        reason: 'InvalidSelector',
      });
    });
    expect(await a.placementEdges('web')).toEqual(['s-1', 's-5']);
    expect((await a.events('web')).map((e) => e.reason)).toContain('InvalidSelector');
    await a.patchWorkload('web', {
      spec: { placement: { edgeSelector: { matchLabels: { env: 'prod', suite: 'spread', 'not a key!': null } } } },
    });
    await within('Scheduled again', async () => {
      const s = (await a.getWorkload('web')).status;
      expect(s?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({ status: 'True', reason: 'Scheduled' });
    });
  });

  it('no matching edge: no Placements, Scheduled False NoMatchingEdges and a warning Event', async () => {
    await a.createWorkload(workloadManifest('nomatch', { edgeSelector: { matchLabels: { env: 'nowhere' } } }));
    await within('NoMatchingEdges', async () => {
      const s = (await a.getWorkload('nomatch')).status;
      expect(s?.conditions?.find((c) => c.type === 'Scheduled')).toMatchObject({
        status: 'False',
        reason: 'NoMatchingEdges',
      });
      expect((await a.events('nomatch')).map((e) => `${e.type}/${e.reason}`)).toEqual(['Warning/NoMatchingEdges']);
    });
    expect(await a.placements('nomatch')).toEqual([]);
  });

  it('deleting the workload garbage-collects its Placements (kcp GC through the binding)', async () => {
    await a.deleteWorkload('web');
    await within('placements gone', async () => expect(await a.placements('web')).toEqual([]));
  });
});

describe('Edge lifecycle', () => {
  it('marks an edge Disconnected when its heartbeat expires (re-checked at expiry, no other write)', async () => {
    await a.createEdge('hb-1', { suite: 'hb' });
    // Ready, heartbeat 27 s old: 3 s left of the 30 s limit.
    await a.setEdgeStatus('hb-1', readyEdgeStatus(new Date(Date.now() - 27_000)));
    await within(
      'Disconnected/HeartbeatExpired',
      async () => {
        const s = (await a.getEdge('hb-1')).status;
        expect(s?.phase).toBe('Disconnected');
        expect(s?.connected).toBe(false);
        expect(s?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
          status: 'False',
          reason: 'HeartbeatExpired',
        });
      },
      15_000,
    );
  });

  it('a fresh edge becomes Pending; tunnel Opened → Ready, Closed of a replaced session → unchanged, Closed → Disconnected', async () => {
    await a.createEdge('tun-1', { suite: 'tun' });
    await within('Pending', async () => expect((await a.getEdge('tun-1')).status?.phase).toBe('Pending'));
    await hub!.controllers!.edgeTunnelEvent(clusterA, 'tun-1', 'Opened');
    expect((await a.getEdge('tun-1')).status).toMatchObject({ phase: 'Ready', connected: true });
    await hub!.controllers!.edgeTunnelEvent(clusterA, 'tun-1', 'Closed', false);
    expect((await a.getEdge('tun-1')).status).toMatchObject({ phase: 'Ready', connected: true });
    await hub!.controllers!.edgeTunnelEvent(clusterA, 'tun-1', 'Closed', true);
    const s = (await a.getEdge('tun-1')).status;
    expect(s).toMatchObject({ phase: 'Disconnected', connected: false });
    expect(s?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'TunnelClosed' });
  });
});

describe('Singleton', () => {
  it('picks one Ready edge and fails over only after the grace once that edge is Disconnected', async () => {
    for (const name of ['one-a', 'one-b', 'one-c']) {
      await a.createEdge(name, { suite: 'single' });
      await a.setEdgeStatus(name, readyEdgeStatus(new Date()));
    }
    await a.createWorkload(
      workloadManifest('db', { strategy: 'Singleton', edgeSelector: { matchLabels: { suite: 'single' } } }),
    );
    let first = '';
    await within('one placement', async () => {
      const edges = await a.placementEdges('db');
      expect(edges).toHaveLength(1);
      first = edges[0]!;
    });
    // The chosen edge's agent went silent a minute ago: the edge controller marks it Disconnected now.
    const stale = new Date(Date.now() - 60_000);
    const t0 = Date.now();
    await a.setEdgeStatus(first, readyEdgeStatus(stale));
    await within(
      'edge Disconnected',
      async () => expect((await a.getEdge(first)).status?.phase).toBe('Disconnected'),
      10_000,
    );
    await within(
      'FailoverPending',
      async () => {
        const s = (await a.getWorkload('db')).status;
        expect(s?.conditions?.find((c) => c.type === 'Scheduled')?.reason).toBe('FailoverPending');
      },
      10_000,
    );
    expect(await a.placementEdges('db')).toEqual([first]);
    let second = '';
    await within(
      'moved to another edge',
      async () => {
        const edges = await a.placementEdges('db');
        expect(edges).toHaveLength(1);
        expect(edges[0]).not.toBe(first);
        second = edges[0]!;
      },
      20_000,
    );
    // Condition times have whole seconds, so the grace may start up to 1 s before the transition.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS - 1_000);
    expect(['one-a', 'one-b', 'one-c']).toContain(second);
    await within('FailedOver event', async () => {
      const failedOver = (await a.events('db')).filter((e) => e.reason === 'FailedOver');
      expect(failedOver).toHaveLength(1);
      expect(failedOver[0]?.message).toContain(`moved from ${first}`);
    });
    await a.deleteWorkload('db');
  });
});

describe('tenants', () => {
  it('identical workload and edge names in two tenants never interfere', async () => {
    for (const api of [a, b]) {
      await api.createEdge('same-1', { twin: 'yes' });
      await api.createEdge('same-2', { twin: api === a ? 'yes' : 'no' });
    }
    const [va, vb] = await Promise.all([
      a.createWorkload(workloadManifest('twin', { edgeSelector: { matchLabels: { twin: 'yes' } } })),
      b.createWorkload(workloadManifest('twin', { edgeSelector: { matchLabels: { twin: 'yes' } } })),
    ]);
    await within('a: both edges', async () => expect(await a.placementEdges('twin')).toEqual(['same-1', 'same-2']));
    await within('b: one edge', async () => expect(await b.placementEdges('twin')).toEqual(['same-1']));
    expect((await a.placements('twin')).every((p) => p.spec.workloadRef.uid === va.metadata.uid)).toBe(true);
    expect((await b.placements('twin')).every((p) => p.spec.workloadRef.uid === vb.metadata.uid)).toBe(true);
    const bSame1 = (await b.placements('twin'))[0]?.metadata.uid;
    await a.deleteEdge('same-1');
    await within('a lost same-1', async () => expect(await a.placementEdges('twin')).toEqual(['same-2']));
    // A positive signal from b after a's change: b's controller has run since. Its same-1 Placement must be the very
    // same object (a leak of a's delete would have removed it, and a later reconcile would only have recreated it).
    await b.patchEdgeLabels('same-2', { twin: 'yes' });
    await within('b: both edges', async () => expect(await b.placementEdges('twin')).toEqual(['same-1', 'same-2']));
    expect((await b.placements('twin'))[0]?.metadata.uid).toBe(bSame1);
  });
});

describe('restarts and replicas', () => {
  it('a hub restart neither duplicates nor loses Placements, and catches up with changes made meanwhile', async () => {
    for (let i = 1; i <= 4; i++) await a.createEdge(`r-${i}`, { suite: 'restart', ...(i <= 3 ? { pick: 'yes' } : {}) });
    await a.createWorkload(
      workloadManifest('rs', { edgeSelector: { matchLabels: { suite: 'restart', pick: 'yes' } } }),
    );
    await within('3 placements', async () => expect(await a.placementEdges('rs')).toEqual(['r-1', 'r-2', 'r-3']));
    const uidsBefore = sorted((await a.placements()).map((p) => p.metadata.uid!));
    await hub!.stop();
    hub = undefined;
    await a.patchEdgeLabels('r-4', { pick: 'yes' });
    hub = await startControllersHub({ failoverGraceMs: GRACE_MS, heartbeatIntervalMs: HEARTBEAT_MS });
    await hub.controllers!.whenRunning();
    await within('r-4 added after restart', async () =>
      expect(await a.placementEdges('rs')).toEqual(['r-1', 'r-2', 'r-3', 'r-4']),
    );
    // Every workload the restarted controllers found has been reconciled once their queue drained.
    await within('the restarted controllers are idle', async () =>
      expect(hub!.controllers!.stats().queue.workloads).toBe(0),
    );
    const after = await a.placements();
    const uidsAfter = after.map((p) => p.metadata.uid!);
    for (const uid of uidsBefore) expect(uidsAfter).toContain(uid); // nothing recreated or lost
    expect(uidsAfter).toHaveLength(uidsBefore.length + 1);
    const perEdge = new Set(after.map((p) => `${p.spec.workloadRef.name}/${p.spec.edgeName}`));
    expect(perEdge.size).toBe(after.length); // no duplicates
  });

  it('a second replica waits for the Lease and takes over when the leader stops', async () => {
    // The second replica's log says when it has seen the Lease held by another: the signal that it campaigned.
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString();
        done();
      },
    });
    const second: ControllerManager = startControllerManager(
      {
        kcp,
        identity: `second-${suffix}`,
        failoverGraceMs: GRACE_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        leaderElection: { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 },
      },
      pino({ level: 'info' }, sink),
    );
    try {
      await within('the second replica saw the Lease held', async () =>
        expect(logged).toContain('another replica leads; waiting for the lease'),
      );
      expect(hub!.controllers!.isLeader).toBe(true);
      expect(second.isLeader).toBe(false);
      expect(second.stats().terms).toBe(0);
      await hub!.stop();
      hub = undefined;
      await second.whenRunning();
      expect(second.isLeader).toBe(true);
      await a.createEdge('takeover-1', { suite: 'takeover' });
      await a.createWorkload(workloadManifest('takeover', { edgeSelector: { matchLabels: { suite: 'takeover' } } }));
      await within('the new leader schedules', async () =>
        expect(await a.placementEdges('takeover')).toEqual(['takeover-1']),
      );
    } finally {
      await second.stop();
    }
  });
});
