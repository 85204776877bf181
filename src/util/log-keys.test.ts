// Every child logger in src/ uses only the fixed keys of log-keys.ts.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_KEYS } from './log-keys.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The keys of each `.child({ … })` object literal (shorthand `{ identity }` and `key: value` alike). */
export function childLoggerKeys(text: string): string[] {
  return [...text.matchAll(/\.child\(\{([^}]*)\}/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((part) => part.split(':')[0]?.trim() ?? '')
      .filter((k) => k !== ''),
  );
}

describe('log keys', () => {
  it('reads the keys of child loggers', () => {
    expect(childLoggerKeys("log.child({ component: 'x', identity }); l.child({ edge: e.name, cluster })")).toEqual([
      'component',
      'identity',
      'edge',
      'cluster',
    ]);
  });

  it('every child logger in src/ uses only LOG_KEYS', () => {
    const allowed = new Set<string>(LOG_KEYS);
    const bad = sourceFiles(SRC).flatMap((f) =>
      childLoggerKeys(readFileSync(f, 'utf8'))
        .filter((k) => !allowed.has(k))
        .map((k) => `${relative(SRC, f)}: ${k}`),
    );
    expect(bad).toEqual([]);
  });
});
