import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from 'commander';
import { durationArg, formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1.5', 1_500],
    [' 90s ', 90_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '-1s', '5 days', 'abc', '1 hour', '1w', '0.0001ms'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("durationArg throws commander's usage error with the hint", () => {
    expect(durationArg('1h')).toBe(3_600_000);
    expect(() => durationArg('soon')).toThrow(InvalidArgumentError);
    expect(() => durationArg('soon')).toThrow(/"soon" is not a duration: use e.g. 500ms/);
  });
});

describe('formatDuration', () => {
  it.each([
    [45_900, '45s'],
    [300_000, '5m'],
    [299_000, '4m59s'],
    [undefined, 'an unknown time'],
    [Infinity, 'an unknown time'],
  ])('%p → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
