// Hub bootstrap (docs/kcp.md): the root:kedge workspace tree, the APIResourceSchemas and the kedge.faros.sh APIExport.
// Idempotent: a restarted hub finds everything in place and writes nothing.
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { EXPORT_NAME, WORKSPACE_PROVIDERS, WORKSPACE_ROOT, WORKSPACE_TENANTS } from '../../api/constants.ts';
import { loadKcpConfig } from '../../api/kcp-config.ts';
import { poll, retry } from '../../util/wait.ts';
import { ensureObject, ensureWorkspace, type EnsureResult, type KubeObject } from './ensure.ts';

export interface BootstrapResult {
  /** Logical cluster name of root:kedge:providers (where the APIExport lives). */
  providersCluster: string;
  /** Every object the bootstrap touched and what happened to it, for logs and tests. */
  changes: { object: string; result: EnsureResult }[];
}

type APIExport = KubeObject & { status?: { identityHash?: string } };

/**
 * Runs `bootstrap` until it succeeds or `signal` aborts. kcp answers 404 for a moment after a new workspace
 * turns Ready, and may restart under us; the hub keeps /readyz false and retries with backoff (1 s … 15 s).
 */
export async function bootstrapUntilDone(kcp: KubeClient, log: Logger, signal: AbortSignal): Promise<BootstrapResult> {
  return retry(() => bootstrap(kcp, log, signal), {
    backoff: { initialMs: 1_000, maxMs: 15_000, jitter: 0.1 },
    // kcp answers 404 for a moment after a workspace turns Ready: the first retries are expected.
    onRetry: (err, attempt, delayMs) =>
      log[attempt <= 2 ? 'debug' : 'warn']({ err, attempt, retryInMs: delayMs }, 'bootstrap failed; retrying'),
    signal,
  });
}

/** One bootstrap pass. `kcp` is an admin client on the kcp base URL (no /clusters prefix). */
export async function bootstrap(kcp: KubeClient, log: Logger, signal?: AbortSignal): Promise<BootstrapResult> {
  const changes: BootstrapResult['changes'] = [];
  const note = (object: string, result: EnsureResult): void => {
    changes.push({ object, result });
    if (result !== 'unchanged') log.info({ object, result }, 'bootstrap');
  };

  const [, kedgeName] = WORKSPACE_ROOT.split(':') as [string, string];
  note(`workspace ${WORKSPACE_ROOT}`, (await ensureWorkspace(kcp.forCluster('root'), kedgeName, signal)).result);
  const kedge = kcp.forCluster(WORKSPACE_ROOT);
  const providers = await ensureWorkspace(kedge, lastSegment(WORKSPACE_PROVIDERS), signal);
  note(`workspace ${WORKSPACE_PROVIDERS}`, providers.result);
  note(`workspace ${WORKSPACE_TENANTS}`, (await ensureWorkspace(kedge, lastSegment(WORKSPACE_TENANTS), signal)).result);

  const prov = kcp.forCluster(WORKSPACE_PROVIDERS);
  const config = loadKcpConfig();
  for (const schema of config.schemas as unknown as KubeObject[]) {
    // Schemas are immutable in kcp and named by content hash: a changed CRD yields a new name.
    const { result } = await ensureObject(prov, '/apis/apis.kcp.io/v1alpha1/apiresourceschemas', schema, {
      immutable: true,
    });
    note(`apiresourceschema ${schema.metadata.name}`, result);
  }
  const exp = config.export as unknown as APIExport;
  note(
    `apiexport ${exp.metadata.name}`,
    (await ensureObject(prov, '/apis/apis.kcp.io/v1alpha2/apiexports', exp)).result,
  );
  await poll(
    async () => {
      const e = await prov.get<APIExport>(`/apis/apis.kcp.io/v1alpha2/apiexports/${EXPORT_NAME}`);
      return e.status?.identityHash ? true : undefined;
    },
    {
      what: `APIExport ${EXPORT_NAME} identity hash`,
      timeoutMs: 60_000,
      intervalMs: 200,
      ...(signal ? { signal } : {}),
    },
  );

  return { providersCluster: providers.cluster, changes };
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf(':') + 1);
}
