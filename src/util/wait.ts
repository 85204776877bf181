// Polling with a deadline, for things that become true eventually (a process ready, a workspace Ready).

export interface PollOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Thrown inside a poll function to stop polling at once; `poll` rethrows its cause. */
export class StopPolling extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/**
 * Calls `fn` until it returns a value other than undefined; throws naming `what` on timeout. Errors from `fn`
 * count as "not yet", except `StopPolling`, which ends the poll with its cause.
 */
export async function poll<T>(fn: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const v = await fn();
      if (v !== undefined) return v;
      lastError = undefined;
    } catch (err) {
      if (err instanceof StopPolling) throw err.cause;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`, { cause: lastError });
    }
    await sleep(opts.intervalMs ?? 250, opts.signal);
  }
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => { clearTimeout(t); reject(signal?.reason); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
