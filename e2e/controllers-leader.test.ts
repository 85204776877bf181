// Lease leader election against the real kcp (coordination.k8s.io/v1 in root:kedge), one attempt at a time: a
// held Lease is refused to others, taken over once its holder stops renewing for a lease duration, and released.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { WORKSPACE_ROOT } from '../src/api/constants.ts';
import { bootstrap } from '../src/hub/bootstrap/bootstrap.ts';
import { LeaderElector, leasePath, type Lease } from '../src/kube/leader-election.ts';
import type { KubeClient } from '../src/kube/client.ts';
import { adminClient, testLogger } from './harness/controllers.ts';
import { eventually } from './harness/http.ts';

const log = testLogger();
const name = `test-lease-${randomBytes(3).toString('hex')}`;
let kcp: KubeClient;
let root: KubeClient;

beforeAll(async () => {
  kcp = adminClient();
  await bootstrap(kcp, log);
  root = kcp.forCluster(WORKSPACE_ROOT);
});
afterAll(async () => {
  await kcp?.close();
});

const elector = (identity: string): LeaderElector =>
  new LeaderElector(
    root,
    { namespace: 'default', name, identity, leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 },
    log,
  );

it('refuses a held Lease, takes it over after the holder stopped renewing for a lease duration', async () => {
  const a = elector('replica-a');
  const b = elector('replica-b');
  expect(await a.tryAcquireOrRenew()).toBe(true);
  expect(await b.tryAcquireOrRenew()).toBe(false);
  expect(b.leader).toBe('replica-a');
  expect(await a.tryAcquireOrRenew()).toBe(true); // renew
  const renewed = await root.get<Lease>(leasePath('default', name));
  expect(renewed.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 2, leaseTransitions: 0 });
  expect(renewed.spec?.renewTime).toMatch(/\.\d{6}Z$/);
  // b must first observe the record, then see it unchanged for a whole lease duration on its own clock.
  const observed = Date.now();
  expect(await b.tryAcquireOrRenew()).toBe(false);
  await eventually(
    async () => {
      if (!(await b.tryAcquireOrRenew())) throw new Error('replica-b has not taken the Lease over');
    },
    { what: 'replica-b takes over the lapsed Lease', timeoutMs: 15_000, intervalMs: 100 },
  );
  expect(Date.now() - observed).toBeGreaterThanOrEqual(2_000); // not before a whole lease duration
  const taken = await root.get<Lease>(leasePath('default', name));
  expect(taken.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
  expect(await a.tryAcquireOrRenew()).toBe(false);
});

it('run() leads until stopped, then releases so a successor acquires at once', async () => {
  const c = elector('replica-c');
  const d = elector('replica-d');
  const stopC = new AbortController();
  let cLeading = false;
  const cRun = c.run(async (term) => {
    cLeading = true;
    await new Promise((r) => term.addEventListener('abort', r, { once: true }));
    cLeading = false;
  }, stopC.signal);
  // replica-b still holds the Lease from the first test: c waits until it lapses.
  await eventually(
    async () => {
      if (!cLeading) throw new Error('replica-c does not lead yet');
    },
    { what: 'replica-c leads once the Lease lapsed', timeoutMs: 15_000, intervalMs: 100 },
  );
  expect(await d.tryAcquireOrRenew()).toBe(false);
  stopC.abort();
  await cRun;
  expect(cLeading).toBe(false);
  expect((await root.get<Lease>(leasePath('default', name))).spec?.holderIdentity).toBe('');
  expect(await d.tryAcquireOrRenew()).toBe(true);
});
