// Finds the kedge.faros.sh APIExport virtual-workspace URL from its APIExportEndpointSlice (docs/kcp.md). kcp
// leaves `status.endpoints` empty until the first APIBinding exists, so an empty or missing slice means "wait".
import type { Logger } from 'pino';
import { EXPORT_NAME, GROUP, Resource, VERSION, WORKSPACE_PROVIDERS } from '../../api/constants.ts';
import { isNotFound } from '../../kube/api-error.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Clock } from '../../util/clock.ts';
import { poll } from '../../util/wait.ts';
import type { KubeObject } from '../../kube/types.ts';

export const ENDPOINT_SLICE_PATH = `/apis/apis.kcp.io/v1alpha1/apiexportendpointslices/${EXPORT_NAME}`;

type EndpointSlice = KubeObject & { status?: { endpoints?: { url?: string }[] } };

/** The first endpoint URL of the slice, or undefined while it has none (no consumer yet) or does not exist yet. */
export async function readVirtualWorkspaceURL(kcp: KubeClient, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const slice = await kcp
      .forCluster(WORKSPACE_PROVIDERS)
      .get<EndpointSlice>(ENDPOINT_SLICE_PATH, signal ? { signal } : {});
    const url = slice.status?.endpoints?.find((e) => typeof e.url === 'string' && e.url !== '')?.url;
    return url?.replace(/\/+$/, '');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function isServing(vw: KubeClient, signal?: AbortSignal): Promise<boolean> {
  try {
    await vw.list(`/clusters/*/apis/${GROUP}/${VERSION}/${Resource.edges}`, { limit: 1 }, signal);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export interface WaitForURLOptions {
  /** Polling period while there is no endpoint (default 1 s). A slice changes at most once per shard, so a poll
   *  is cheaper and simpler than a watch here. */
  intervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Polls until the slice names an endpoint. Never gives up: transport errors (kcp restarting) are logged once per
 * streak and retried. Rejects only when `signal` aborts.
 */
export async function waitForVirtualWorkspaceURL(
  kcp: KubeClient,
  log: Logger,
  opts: WaitForURLOptions = {},
): Promise<string> {
  let waitingLogged = false;
  let failing = false;
  return poll(
    async () => {
      try {
        const url = await readVirtualWorkspaceURL(kcp, opts.signal);
        failing = false;
        // The endpoint is published as soon as a binding exists, a moment before the workspace serves the
        // resources (404 meanwhile): wait for that too, so informers do not start with a failure and a backoff.
        if (url !== undefined && (await isServing(kcp.withServer(url), opts.signal))) {
          log.info({ url }, 'APIExport virtual workspace found');
          return url;
        }
        if (!waitingLogged)
          log.info({ url }, 'APIExport virtual workspace not there or not serving yet (no APIBinding); waiting');
        waitingLogged = true;
      } catch (err) {
        opts.signal?.throwIfAborted();
        if (!failing) log.warn({ err }, 'reading the APIExport endpoint slice failed; retrying');
        failing = true;
      }
      return undefined;
    },
    {
      what: 'the APIExport virtual workspace',
      timeoutMs: Infinity,
      intervalMs: opts.intervalMs ?? 1_000,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}
