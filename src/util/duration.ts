// Durations as people type them on command lines: "500ms", "30s", "5m", "1h", "2d"; a bare number means seconds.
// The hub, the agent and the CLI parse every duration flag with this one function.
import { InvalidArgumentError } from 'commander';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_HINT = 'use e.g. 500ms, 30s, 5m, 1h or 2d';

/** Milliseconds (rounded) for a positive duration; undefined when `text` is malformed, zero or not finite. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m?.[1]) return undefined;
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1_000));
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** commander argument parser for a `<duration>` option: milliseconds, or commander's usage error. */
export function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a duration: ${DURATION_HINT}`);
  return ms;
}

/** "45s", "5m", "4m59s" for messages; "an unknown time" for undefined or infinite. Whole seconds, rounded down. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'an unknown time';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
