// /readyz follows kcp: a hub on a kcp of this suite's own turns 503 naming the kcp check within seconds of kcp
// stopping, and 200 again once kcp is back (same data, same port).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startHub, type Hub } from '../src/hub/hub.ts';
import { freePort } from '../src/util/free-port.ts';
import { startOwnKcp, testLogger } from './harness/controllers.ts';
import { eventually, hubRequest } from './harness/http.ts';
import type { OwnKcp } from './harness/own-kcp.ts';

const log = testLogger();
let own: OwnKcp;
let hub: Hub;
let hubURL = '';

beforeAll(async () => {
  own = await startOwnKcp(log);
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
  await own?.stop();
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
