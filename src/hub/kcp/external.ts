// The admin kubeconfig of an external kcp (`--kcp-kubeconfig`). In a pod, the kubeconfig or a file it names (kcp's
// serving CA, a token file) can appear only once a kcp beside the hub has started (the Helm chart's sidecar writes
// its CA into the shared data volume): the hub waits for the missing file instead of exiting, while it already
// listens (/livez answers, /readyz says bootstrap has not finished). Anything else wrong with the kubeconfig fails at once.
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { KubeClientOptions } from '../../kube/client.ts';
import { poll, StopPolling } from '../../util/wait.ts';
import { HubError, HubErrorCode } from '../errors.ts';

export const KCP_KUBECONFIG_WAIT_MS = 5 * 60_000;

/** The path of the file whose absence made loading fail, if that was the reason. */
function missingFile(err: unknown): string | undefined {
  const cause = (err as { cause?: NodeJS.ErrnoException } | undefined)?.cause;
  return cause?.code === 'ENOENT' ? (cause.path ?? 'a file it names') : undefined;
}

export async function loadExternalKcpKubeconfig(
  path: string,
  log: Logger,
  opts: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<KubeClientOptions> {
  // Loaded only for an external kcp: client-node (behind the kubeconfig loader) costs ~85 MB RSS and ~0.7 s.
  const { loadKubeconfig } = await import('../../kube/kubeconfig.ts');
  const timeoutMs = opts.timeoutMs ?? KCP_KUBECONFIG_WAIT_MS;
  let waitingFor: string | undefined;
  let fatal: Error | undefined;
  const attempt = (): KubeClientOptions | undefined => {
    let missing: string | undefined;
    let options: KubeClientOptions | undefined;
    if (!existsSync(path)) missing = path;
    else {
      try {
        options = loadKubeconfig({ path });
      } catch (err) {
        missing = missingFile(err);
        if (missing === undefined) {
          fatal = err as Error;
          throw new StopPolling(fatal);
        }
      }
      if (options?.tokenFile !== undefined && !existsSync(options.tokenFile)) missing = options.tokenFile;
    }
    if (missing === undefined) return options;
    if (missing !== waitingFor) log.info({ kubeconfig: path, missing }, 'waiting for the kcp kubeconfig and its files');
    waitingFor = missing;
    return undefined;
  };
  try {
    return await poll(() => Promise.resolve(attempt()), {
      what: `kcp kubeconfig ${path}`,
      timeoutMs,
      intervalMs: opts.intervalMs ?? 500,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err === fatal || opts.signal?.aborted || waitingFor === undefined) throw err;
    throw new HubError(
      HubErrorCode.KcpKubeconfigMissing,
      `kcp kubeconfig ${path}: ${waitingFor} did not appear within ${Math.round(timeoutMs / 1000)} s (is kcp running?)`,
      { cause: err },
    );
  }
}
