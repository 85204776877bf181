// The hub's HTTP limits against a real kcp: kcp's own 413 for an oversized object reaches the caller through
// /clusters (not a 502), oversized headers get a 431 Status, and an oversized token-login body is refused before
// any tenant is created.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../src/kube/client.ts';
import { isNotFound } from '../src/kube/api-error.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { loadTestEnv } from './harness/env.ts';
import { hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';
import { uploadToHub } from './harness/upload.ts';

const env = loadTestEnv();
const suffix = randomBytes(3).toString('hex');
const [tenant, idle] = [`limits-${suffix}`, `limits-idle-${suffix}`];
const [token, idleToken] = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
const ws = `root:kedge:tenants:${tenant}`;
let hub: TestHub;
let admin: KubeClient;

beforeAll(async () => {
  hub = await startTestHub([`${tenant}=${token}`, `${idle}=${idleToken}`]);
  admin = new KubeClient(loadKubeconfig({ path: env.kcpAdminKubeconfig }));
  expect((await hubRequest(hub.hubURL, hub.caFile, 'POST', '/auth/token-login', { token })).status).toBe(200);
});
afterAll(async () => {
  await admin?.close();
  await hub?.stop();
});

function expectStatus(
  reply: { status: number; json(): Record<string, unknown> },
  code: number,
): Record<string, unknown> {
  expect(reply.status).toBe(code);
  const s = reply.json();
  expect(s).toMatchObject({ kind: 'Status', status: 'Failure', code });
  return s;
}

it('relays kcp’s 413 for a 20 MB object instead of answering 502', async () => {
  const reply = await uploadToHub(hub.hubURL, hub.caFile, {
    path: `/clusters/${ws}/api/v1/namespaces/default/configmaps`,
    token,
    size: 20 * 1024 * 1024,
  });
  expectStatus(reply, 413);
  expect(reply.body).not.toContain('unreachable');
  // The hub still works afterwards.
  expect(
    (await hubRequest(hub.hubURL, hub.caFile, 'GET', `/clusters/${ws}/api/v1/namespaces/default/configmaps`, { token }))
      .status,
  ).toBe(200);
});

it('still relays a 4 MB object’s 413', async () => {
  const reply = await uploadToHub(hub.hubURL, hub.caFile, {
    path: `/clusters/${ws}/api/v1/namespaces/default/configmaps`,
    token,
    size: 4 * 1024 * 1024,
  });
  expectStatus(reply, 413);
});

it('answers 431 with a Status naming the limit to a 17 KiB header', async () => {
  const reply = await uploadToHub(hub.hubURL, hub.caFile, {
    method: 'GET',
    path: `/clusters/${ws}/api/v1/namespaces`,
    token,
    headers: { 'x-padding': 'p'.repeat(17 * 1024) },
  });
  const s = expectStatus(reply, 431);
  expect(s.message).toContain('16384 bytes');
});

it('refuses a 1 MB token-login body with 413 and creates no tenant', async () => {
  for (const chunked of [false, true]) {
    const reply = await uploadToHub(hub.hubURL, hub.caFile, {
      path: '/auth/token-login',
      token: idleToken,
      size: 1024 * 1024,
      chunked,
    });
    const s = expectStatus(reply, 413);
    expect(s.message).toContain('65536 bytes');
  }
  const lookup = await admin
    .forCluster('root:kedge:tenants')
    .get(`/apis/tenancy.kcp.io/v1alpha1/workspaces/${idle}`)
    .then(
      () => 'exists',
      (err: unknown) => (isNotFound(err) ? 'not found' : String(err)),
    );
  expect(lookup).toBe('not found');
});
