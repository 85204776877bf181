// The controllers survive a kcp restart on their own: a kcp of this suite's own is stopped and started again (same
// data, same port) under a running controller manager, which must then schedule new work without any help.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bootstrap } from '../src/hub/bootstrap/bootstrap.ts';
import { startControllerManager, type ControllerManager } from '../src/hub/controllers/manager.ts';
import {
  createTenant,
  startOwnKcp,
  TenantApi,
  testLogger,
  workloadManifest,
  type OwnKcp,
} from './harness/controllers.ts';
import { eventually } from './harness/http.ts';

const log = testLogger();
let own: OwnKcp;
let manager: ControllerManager | undefined;
let api: TenantApi;

beforeAll(async () => {
  own = await startOwnKcp(log);
  await bootstrap(own.client, log);
  const tenant = await createTenant(own.client, 'restart', log);
  api = new TenantApi(own.client.forCluster(tenant.workspacePath));
  manager = startControllerManager(
    {
      kcp: own.client,
      identity: 'kcp-restart-test',
      leaderElection: { leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 500 },
      informers: { backoff: { initialMs: 200, maxMs: 2_000 } },
    },
    log,
  );
  await manager.whenRunning();
});

afterAll(async () => {
  await manager?.stop();
  await own?.stop();
});

it('resumes scheduling after kcp restarts', async () => {
  await api.createEdge('e-1', { site: 'x' });
  await api.createWorkload(workloadManifest('before', { edgeSelector: { matchLabels: { site: 'x' } } }));
  await eventually(async () => expect(await api.placementEdges('before')).toEqual(['e-1']), {
    what: 'placement before restart',
  });

  const termsBefore = manager!.stats().terms;
  await own.restart();
  await api.createEdge('e-2', { site: 'x' });
  await api.createWorkload(workloadManifest('after', { edgeSelector: { matchLabels: { site: 'x' } } }));
  await eventually(
    async () => {
      expect(await api.placementEdges('after')).toEqual(['e-1', 'e-2']);
      expect(await api.placementEdges('before')).toEqual(['e-1', 'e-2']);
    },
    { what: 'placements after restart', timeoutMs: 90_000, intervalMs: 500 },
  );
  expect(manager!.isRunning).toBe(true);
  // Either the informers re-watched by themselves or leadership lapsed and a new term started: both are "by itself".
  expect(manager!.stats().terms).toBeGreaterThanOrEqual(termsBefore);
  const placements = await api.placements();
  expect(new Set(placements.map((p) => `${p.spec.workloadRef.name}/${p.spec.edgeName}`)).size).toBe(placements.length);
});
