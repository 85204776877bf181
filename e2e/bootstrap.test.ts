// Hub bootstrap against a real kcp: the workspace tree and export exist, and a restarted hub changes nothing.
import { afterAll, describe, expect, it } from '@jest/globals';
import { KubeClient } from '../src/kube/client.ts';
import { loadKubeconfig } from '../src/kube/kubeconfig.ts';
import { EXPORT_NAME, WORKSPACE_PROVIDERS } from '../src/api/constants.ts';
import { loadTestEnv } from './harness/env.ts';
import { hubRequest } from './harness/http.ts';
import { startTestHub, type TestHub } from './harness/hub.ts';

const env = loadTestEnv();
const admin = new KubeClient(loadKubeconfig({ path: env.kcpAdminKubeconfig }));
let hub: TestHub | undefined;
afterAll(async () => {
  await hub?.stop();
  await admin.close();
});

async function bootstrapVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ws = async (cluster: string, name: string) => {
    const o = await admin.forCluster(cluster).get(`/apis/tenancy.kcp.io/v1alpha1/workspaces/${name}`);
    out[`ws ${cluster}:${name}`] = o.metadata.resourceVersion ?? '';
  };
  await ws('root', 'kedge');
  await ws('root:kedge', 'providers');
  await ws('root:kedge', 'tenants');
  const prov = admin.forCluster(WORKSPACE_PROVIDERS);
  const schemas = await prov.listAll('/apis/apis.kcp.io/v1alpha1/apiresourceschemas');
  for (const s of schemas.items) out[`schema ${s.metadata.name}`] = s.metadata.resourceVersion ?? '';
  const exp = await prov.get(`/apis/apis.kcp.io/v1alpha2/apiexports/${EXPORT_NAME}`);
  out[`export ${EXPORT_NAME}`] = exp.metadata.resourceVersion ?? '';
  return out;
}

describe('hub bootstrap', () => {
  it('creates root:kedge, providers, tenants, the schemas and the export, and turns /readyz green', async () => {
    hub = await startTestHub([]);
    const ready = await hubRequest(hub.hubURL, hub.caFile, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    const versions = await bootstrapVersions();
    expect(Object.keys(versions).filter((k) => k.startsWith('schema ')).length).toBe(3);
    const exp = await admin
      .forCluster(WORKSPACE_PROVIDERS)
      .get<{ metadata: { name: string }; status?: { identityHash?: string } }>(
        `/apis/apis.kcp.io/v1alpha2/apiexports/${EXPORT_NAME}`,
      );
    expect(exp.status?.identityHash).toMatch(/^[0-9a-f]{20,}$/);
  });

  it('changes nothing when the hub restarts (resourceVersions equal)', async () => {
    const before = await bootstrapVersions();
    await hub?.stop();
    hub = await startTestHub([]);
    const result = await hub.bootstrapResult;
    expect(result.changes.filter((c) => c.result !== 'unchanged')).toEqual([]);
    expect(await bootstrapVersions()).toEqual(before);
  });
});
