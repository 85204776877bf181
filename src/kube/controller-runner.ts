// The single worker loop every controller uses: n workers take keys from a WorkQueue and call `reconcile(key)`.
// Success forgets the key's backoff; failure re-adds it rate-limited. Retries live here, not in business logic;
// the runner is the one place a failing key is logged (first failure at warn, repeats at debug).
import type { Logger } from 'pino';
import type { WorkQueue } from './work-queue.ts';
import { isConflict } from './api-error.ts';

/** What `reconcile` may return: ask for another pass later (e.g. a grace period expiring). */
export type ProcessResult = void | { requeueAfterMs?: number };

export type RunWorkersOptions = {
  /** Drop a key after this many consecutive failures (default: never; level-triggered keys retry at the cap). */
  maxRetries?: number;
};

/** Runs `n` workers until the queue is shut down and empty; resolves when all have exited. */
export async function runWorkers(
  queue: WorkQueue,
  n: number,
  reconcile: (key: string) => Promise<ProcessResult>,
  logger: Logger,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const workers: Promise<void>[] = [];
  for (let i = 0; i < n; i++) workers.push(worker(queue, reconcile, logger, opts));
  await Promise.all(workers);
}

async function worker(
  queue: WorkQueue,
  reconcile: (key: string) => Promise<ProcessResult>,
  logger: Logger,
  opts: RunWorkersOptions,
): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      const result = await reconcile(key);
      const retried = queue.numRequeues(key);
      if (retried > 0) logger.debug({ key, retries: retried }, 'key succeeded after retries');
      queue.forget(key);
      if (result && result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const failures = queue.numRequeues(key) + 1;
      if (opts.maxRetries !== undefined && failures > opts.maxRetries) {
        logger.error({ key, err, failures }, 'key failed too often; dropped until its next change');
        queue.forget(key);
      } else {
        // An optimistic-concurrency conflict is routine (another writer won; the retry reads the new version).
        if (failures === 1 && !isConflict(err)) logger.warn({ key, err }, 'key failed; retrying with backoff');
        else logger.debug({ key, err, failures }, 'key failed; retrying with backoff');
        queue.addRateLimited(key);
      }
    } finally {
      queue.done(key);
    }
  }
}
