// Bounded-concurrency map for the controllers' writes: many Placements of one workload go out in parallel, but no
// more than `limit` requests at once so one big workload does not flood kcp or the connection pool.

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all started calls ended. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError !== undefined) throw firstError.err;
}
