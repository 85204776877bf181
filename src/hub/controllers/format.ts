// Human-readable pieces of condition and event messages: bounded name lists (durations: src/util/duration.ts).

const MAX_LISTED = 10;

/** "a, b, c" — at most ten names, then "and N more", so a 1000-edge Spread keeps a short message. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}
