// The informer against the run's kcp: resume after the watch connection is cut (through the hub, over a TCP relay
// the test can sever), and no collisions between identical names in two workspaces. The relist after 410 Gone needs
// a kcp without watch cache and is in e2e/kcp-compact-restart.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { KubeClient } from '../src/kube/client.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { Informer } from '../src/kube/informer.ts';
import { clusterKey } from '../src/kube/cluster-key.ts';
import { EXPORT_NAME, WORKSPACE_PROVIDERS } from '../src/api/constants.ts';
import { loadTestEnv } from './harness/env.ts';
import { eventually, hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { readFileSync } from 'node:fs';

const env = loadTestEnv();
const log = pino({ level: process.env.KEDGE_TEST_LOG ?? 'warn' });
const admin = new KubeClient(loadKubeconfig({ path: env.kcpAdminKubeconfig }));
const suffix = randomBytes(3).toString('hex');
const tenants = [`inf-a-${suffix}`, `inf-b-${suffix}`];
const tokens = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
const ws = tenants.map((t) => `root:kedge:tenants:${t}`);
let hub: TestHub;
const informers: Informer[] = [];

beforeAll(async () => {
  hub = await startTestHub(tenants.map((t, i) => `${t}=${tokens[i]}`));
  for (const t of tokens)
    expect((await hubRequest(hub.hubURL, hub.caFile, 'POST', '/auth/token-login', { token: t })).status).toBe(200);
});
afterAll(async () => {
  for (const i of informers) await i.stop(); // stop() is idempotent
  await hub?.stop();
  await admin.close();
});

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } });

function track(i: Informer): Informer {
  informers.push(i);
  i.start();
  return i;
}

describe('informer on a real kcp', () => {
  it('resumes from its resourceVersion after the connection to the hub is cut, without relisting', async () => {
    // A TCP relay in front of the hub: destroying its sockets cuts the watch mid-stream like a network failure.
    const sockets = new Set<Socket>();
    const relay: Server = createServer((down) => {
      const up = connect(hub.port, '127.0.0.1');
      for (const s of [down, up]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const port = (relay.address() as { port: number }).port;
    const client = new KubeClient({
      server: `https://127.0.0.1:${port}/clusters/${ws[0]}`,
      token: tokens[0],
      ca: readFileSync(hub.caFile),
    });
    const inf = track(
      new Informer({
        client,
        path: '/api/v1/namespaces/default/configmaps',
        logger: log,
        backoff: { initialMs: 100, maxMs: 500 },
      }),
    );
    await inf.waitForSync();
    const writer = admin.forCluster(ws[0] ?? '');
    await writer.create('/api/v1/namespaces/default/configmaps', cm('before-cut'));
    await eventually(
      async () => {
        if (!inf.list().some((o) => o.metadata.name === 'before-cut')) throw new Error('not seen yet');
      },
      { what: 'the watch to be established' },
    );
    const listsBefore = inf.stats.lists;
    for (const s of sockets) s.destroy();
    await writer.create('/api/v1/namespaces/default/configmaps', cm('after-cut'));
    await eventually(
      async () => {
        if (!inf.list().some((o) => o.metadata.name === 'after-cut')) throw new Error('not seen yet');
      },
      { what: 'the ConfigMap created after the cut' },
    );
    expect(inf.watchRestarts).toBeGreaterThanOrEqual(1);
    expect(inf.stats.lists).toBe(listsBefore); // resumed from the last resourceVersion
    await inf.stop();
    await client.close();
    relay.close();
  });

  it('keeps identical names from two workspaces apart on the APIExport virtual workspace', async () => {
    const slice = await admin
      .forCluster(WORKSPACE_PROVIDERS)
      .get<{ metadata: { name: string }; status?: { endpoints?: { url: string }[] } }>(
        `/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${EXPORT_NAME}`,
      );
    const url = slice.status?.endpoints?.[0]?.url;
    expect(url).toMatch(/\/services\/apiexport\//);
    const vw = {
      apiVersion: 'kedge.faros.sh/v1alpha1',
      kind: 'VirtualWorkload',
      metadata: { name: `same-${suffix}` },
      spec: { simple: { image: 'nginx' } },
    };
    for (const w of ws)
      await admin.forCluster(w).create('/apis/kedge.faros.sh/v1alpha1/namespaces/default/virtualworkloads', vw);
    const inf = track(
      new Informer({
        client: admin.withServer(`${url}/clusters/*`),
        path: '/apis/kedge.faros.sh/v1alpha1/virtualworkloads',
        logger: log,
      }),
    );
    await inf.waitForSync();
    await eventually(
      async () => {
        const mine = inf.list().filter((o) => o.metadata.name === `same-${suffix}`);
        if (mine.length !== 2) throw new Error(`found ${mine.length}`);
        expect(new Set(mine.map(clusterKey)).size).toBe(2);
      },
      { what: 'both same-named workloads in the store' },
    );
    await admin
      .forCluster(ws[0] ?? '')
      .delete(`/apis/kedge.faros.sh/v1alpha1/namespaces/default/virtualworkloads/same-${suffix}`);
    await eventually(
      async () => {
        const mine = inf.list().filter((o) => o.metadata.name === `same-${suffix}`);
        if (mine.length !== 1) throw new Error(`found ${mine.length}`);
      },
      { what: 'only the other workspace’s workload left' },
    );
  });
});
