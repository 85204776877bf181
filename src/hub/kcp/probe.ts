// The hub's readiness check of kcp: kcp's own /readyz, asked with the hub's admin client. Failures are short fixed
// sentences (they are served unauthenticated on the hub's /readyz): a status code or a socket error code only.
// waitForKcpReady uses the same check to hold bootstrap until kcp answers.
import { ApiError, transportCode } from '../../kube/api-error.ts';
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.ts';
import { poll } from '../../util/wait.ts';
import type { ReadinessCheck } from '../server/readyz.ts';

export function kcpReadinessCheck(client: () => KubeClient | undefined): ReadinessCheck {
  return {
    name: 'kcp',
    async run(signal) {
      const kcp = client();
      if (!kcp) throw new Error('no kcp client yet');
      try {
        const res = await kcp.requestRaw('GET', '/readyz', { signal, headers: { accept: 'text/plain' } });
        await res.body.text();
      } catch (err) {
        if (err instanceof ApiError) throw new Error(`kcp /readyz answered ${err.code}`, { cause: err });
        if (signal.aborted) throw new Error('no answer in time', { cause: err });
        const code = transportCode(err);
        throw new Error(`kcp is unreachable${code === undefined ? '' : ` (${code})`}`, { cause: err });
      }
    },
  };
}

/**
 * Resolves once kcp's /readyz answers 200, asking every `intervalMs` (each attempt bounded by `attemptMs`): the hub
 * starts bootstrap within a second of a starting kcp (a sidecar in the same pod) turning ready, instead of after a
 * bootstrap backoff grown while kcp was down. Says once that it waits, and why; rejects only when `signal` aborts.
 */
export async function waitForKcpReady(
  kcp: KubeClient,
  log: Logger,
  signal: AbortSignal,
  opts: { intervalMs?: number; attemptMs?: number } = {},
): Promise<void> {
  const check = kcpReadinessCheck(() => kcp);
  const started = Date.now();
  let waiting = false;
  await poll(
    async () => {
      try {
        await check.run(AbortSignal.any([signal, AbortSignal.timeout(opts.attemptMs ?? 2_000)]));
        return true;
      } catch (err) {
        if (!waiting) log.info({ reason: (err as Error).message }, 'waiting for kcp to become ready');
        waiting = true;
        return undefined;
      }
    },
    { what: 'kcp /readyz', timeoutMs: Infinity, intervalMs: opts.intervalMs ?? 1_000, signal },
  );
  if (waiting) log.info({ waitedMs: Date.now() - started }, 'kcp is ready');
}
