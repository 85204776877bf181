// docs/errors.md and the source agree: every code raised in src/ is documented, every documented code exists.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KedgeError, isKedgeError } from './errors.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(SRC, '..', 'docs', 'errors.md');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Codes as string literals in the source (`'KEDGE_…'`). */
export function codesInSource(texts: string[]): Set<string> {
  return new Set(texts.flatMap((t) => [...t.matchAll(/'(KEDGE_[A-Z0-9_]+)'/g)].map((m) => m[1] ?? '')));
}

/** Codes in the first column of the tables of docs/errors.md. */
export function codesInDoc(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^\| `(KEDGE_[A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? ''));
}

describe('error catalogue', () => {
  const source = codesInSource(sourceFiles(SRC).map((f) => readFileSync(f, 'utf8')));
  const doc = codesInDoc(readFileSync(DOC, 'utf8'));

  it('reads codes from both sides', () => {
    expect(codesInSource(["throw new X('KEDGE_A_B', 'm'); // env `KEDGE_CACHE`"])).toEqual(new Set(['KEDGE_A_B']));
    expect(codesInDoc('| `KEDGE_A` | 401 | x | y |\ntext `KEDGE_B` here\n')).toEqual(new Set(['KEDGE_A']));
    expect(source.size).toBeGreaterThan(20);
  });

  it('documents every code in the source', () => {
    expect([...source].filter((c) => !doc.has(c)).sort()).toEqual([]);
  });

  it('lists no code the source does not have', () => {
    expect([...doc].filter((c) => !source.has(c)).sort()).toEqual([]);
  });
});

describe('KedgeError', () => {
  it('carries code, status and cause, and is recognised by code', () => {
    const cause = new Error('low level');
    const err = new KedgeError('KEDGE_HUB_NOT_FOUND', 'edge x not found', { httpStatus: 404, cause });
    expect([err.code, err.httpStatus, err.cause, err.message]).toEqual([
      'KEDGE_HUB_NOT_FOUND',
      404,
      cause,
      'edge x not found',
    ]);
    expect(isKedgeError(err, 'KEDGE_HUB_NOT_FOUND')).toBe(true);
    expect(isKedgeError(err, 'KEDGE_HUB_FORBIDDEN')).toBe(false);
    expect(isKedgeError(cause)).toBe(false);
  });
});
