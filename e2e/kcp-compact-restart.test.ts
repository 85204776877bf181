// Behaviour against a kcp of this suite's own (e2e/harness/own-kcp.ts) that compacts etcd every 5 s and that the
// suite stops and starts again (same data, same port): the informer relists after 410 Gone, the controllers resume
// scheduling after a restart, and the hub's /readyz follows kcp down and up. The three share one private kcp because
// starting one costs ~25 s; the run's shared kcp (global setup) stays untouched.
// The kcp watches etcd directly (--watch-cache=false) and compacts every 5 s, so an old resourceVersion really
// expires. Neither flag weakens the restart groups: a controller that resumes its watches after a restart must cope
// with 410 Gone anyway, and /readyz only asks whether kcp answers.
// Order: the compaction group runs first, on a fresh kcp; each group after it starts from a running kcp and leaves
// one running (restart() waits for it to be ready), and each sets up and tears down what it starts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bootstrap } from '../src/hub/bootstrap/bootstrap.ts';
import { startControllerManager, type ControllerManager } from '../src/hub/controllers/manager.ts';
import { startHub, type Hub } from '../src/hub/hub.ts';
import { isGone } from '../src/kube/api-error.ts';
import { Informer } from '../src/kube/informer.ts';
import { freePort } from '../src/util/free-port.ts';
import { createTenant, TenantApi, testLogger, workloadManifest } from './harness/controllers.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startOwnKcp, type OwnKcp } from './harness/own-kcp.ts';

const log = testLogger();
let own: OwnKcp;

beforeAll(async () => {
  own = await startOwnKcp(log, { extraArgs: ['--watch-cache=false', '--etcd-compaction-interval=5s'] });
});
afterAll(async () => {
  await own?.stop();
});

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } });

describe('informer on a kcp that compacts etcd', () => {
  it('relists when its watch resourceVersion is too old (410 Gone) and ends up with the right objects', async () => {
    const client = own.client.forCluster('root');
    const old = await client.list('/api/v1/namespaces/default/configmaps');
    await client.create('/api/v1/namespaces/default/configmaps', cm('gone-1'));
    // Wait until etcd really compacted past `old` (kube-apiserver compacts up to the previous interval's revision,
    // so two intervals): an exact read at that revision then fails with 410, as the informer's watch will.
    await eventually(
      async () => {
        try {
          await client.list('/api/v1/namespaces/default/configmaps', {
            resourceVersion: old.metadata.resourceVersion,
            resourceVersionMatch: 'Exact',
            limit: 1,
          });
        } catch (err) {
          if (isGone(err)) return;
          throw err;
        }
        throw new Error(`revision ${old.metadata.resourceVersion} not compacted yet`);
      },
      { what: 'the old revision compacted', timeoutMs: 60_000, intervalMs: 500 },
    );
    const inf = new Informer({
      client,
      path: '/api/v1/namespaces/default/configmaps',
      logger: log,
      watchResourceVersion: old.metadata.resourceVersion ?? '1',
    });
    inf.start();
    try {
      await inf.waitForSync();
      await eventually(
        async () => {
          if (inf.relists < 1) throw new Error(`relists=${inf.relists}`);
        },
        { what: 'a relist after 410' },
      );
      await client.create('/api/v1/namespaces/default/configmaps', cm('gone-2'));
      await eventually(
        async () => {
          const names = inf.list().map((o) => o.metadata.name);
          if (!names.includes('gone-1') || !names.includes('gone-2')) throw new Error(names.join(','));
        },
        { what: 'both ConfigMaps in the store' },
      );
    } finally {
      await inf.stop();
    }
  });
});

// The controllers survive a kcp restart on their own: kcp is stopped and started again under a running controller
// manager, which must then schedule new work without any help.
describe('controllers across a kcp restart', () => {
  let manager: ControllerManager | undefined;
  let api: TenantApi;

  beforeAll(async () => {
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
    expect(new Set(placements.map((p) => `${p.spec.workloadRef.name}/${p.spec.edgeName}`)).size).toBe(
      placements.length,
    );
  });
});

// /readyz follows kcp: a hub on this kcp turns 503 naming the kcp check within seconds of kcp stopping, and 200
// again once kcp is back.
describe('hub /readyz across a kcp stop', () => {
  let hub: Hub;
  let hubURL = '';

  beforeAll(async () => {
    const kubeconfig = join(own.workDir, 'admin-hub.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'admin',
        clusters: [
          {
            name: 'kcp',
            cluster: {
              server: own.kcp.url,
              'certificate-authority-data': readFileSync(own.kcp.caFile).toString('base64'),
            },
          },
        ],
        users: [{ name: 'admin', user: { token: own.adminToken } }],
        contexts: [{ name: 'admin', context: { cluster: 'kcp', user: 'admin' } }],
      }),
      { mode: 0o600 },
    );
    const port = await freePort();
    hubURL = `https://127.0.0.1:${port}`;
    hub = await startHub(
      {
        listenHost: '127.0.0.1',
        port,
        externalURL: hubURL,
        dataDir: join(own.workDir, 'hub'),
        staticTokens: [],
        kcp: { mode: 'external', kubeconfig },
        controllers: { enabled: false },
      },
      log,
    );
    await hub.ready;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const readyz = () => hubRequest(hubURL, hub.caFile!, 'GET', '/readyz');

  it('turns 503 naming kcp when kcp stops, and 200 when it is back', async () => {
    await eventually(async () => expect((await readyz()).status).toBe(200), { what: 'readyz 200 with kcp up' });

    await own.kcp.stop();
    const down = await eventually(
      async () => {
        const r = await readyz();
        expect(r.status).toBe(503);
        return r;
      },
      { what: 'readyz 503 with kcp stopped', timeoutMs: 15_000 },
    );
    expect(down.json()).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(down.json<{ message: string }>().message).toMatch(/\[-\]kcp failed: /);
    // /healthz is liveness: the hub itself is fine.
    expect((await hubRequest(hubURL, hub.caFile!, 'GET', '/healthz')).status).toBe(200);

    await own.restart();
    await eventually(async () => expect((await readyz()).status).toBe(200), {
      what: 'readyz 200 after kcp restarted',
      timeoutMs: 60_000,
    });
  });
});
