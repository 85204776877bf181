// Human-readable pieces of condition and event messages: bounded name lists and durations.

const MAX_LISTED = 10;

/** "a, b, c" — at most ten names, then "and N more", so a 1000-edge Spread keeps a short message. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

/** "45s", "5m", "4m59s"; "an unknown time" for undefined or infinite. Whole seconds, rounded down. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'an unknown time';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
