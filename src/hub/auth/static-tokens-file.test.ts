import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKedgeError } from '../../api/errors.ts';
import { loadStaticTokensFile, parseStaticTokensText } from './static-tokens-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKedgeError(err) ? err.code : `not coded: ${String(err)}`;
  }
  return undefined;
}

describe('static tokens file', () => {
  it('reads one [name=]token per line, skipping blanks and comments', () => {
    const p = file('ok', '# team tokens\n\nalice=aaaaaaaaaaaaaaaaaaaa\r\n  bbbbbbbbbbbbbbbbbbbb  \n');
    expect(loadStaticTokensFile(p)).toEqual({
      specs: ['alice=aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb'],
      warnings: [],
    });
  });
  it('names the file and line of a bad entry, without the token', () => {
    let err: unknown;
    try {
      parseStaticTokensText('alice=aaaaaaaaaaaaaaaaaaaa\n# c\nBob=SECRETSECRETSECRETSECRET\n', '/etc/kedge/tokens');
    } catch (e) {
      err = e;
    }
    expect(isKedgeError(err, 'KEDGE_HUB_STATIC_TOKENS_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^\/etc\/kedge\/tokens:3: .*DNS label/);
    expect((err as Error).message).not.toContain('SECRET');
  });
  it('refuses short tokens and a token given twice', () => {
    expect(() => parseStaticTokensText('short\n', 'f')).toThrow(/^f:1: .*at least 16/);
    expect(() => parseStaticTokensText('a=aaaaaaaaaaaaaaaaaaaa\nb=aaaaaaaaaaaaaaaaaaaa\n', 'f')).toThrow(
      /^f:2: the same token as line 1/,
    );
  });
  it('refuses a world-readable or world-writable file and warns about a group-readable one', () => {
    expect(codeOf(() => loadStaticTokensFile(file('world', 'aaaaaaaaaaaaaaaaaaaa\n', 0o644)))).toBe(
      'KEDGE_HUB_STATIC_TOKENS_FILE_UNSAFE',
    );
    expect(codeOf(() => loadStaticTokensFile(file('worldw', 'aaaaaaaaaaaaaaaaaaaa\n', 0o602)))).toBe(
      'KEDGE_HUB_STATIC_TOKENS_FILE_UNSAFE',
    );
    const group = loadStaticTokensFile(file('group', 'aaaaaaaaaaaaaaaaaaaa\n', 0o640));
    expect(group.specs).toHaveLength(1);
    expect(group.warnings.join()).toMatch(/group.*0640/);
  });
  it('says which file cannot be read', () => {
    expect(codeOf(() => loadStaticTokensFile(join(dir, 'missing')))).toBe('KEDGE_HUB_STATIC_TOKENS_FILE_UNREADABLE');
    expect(() => loadStaticTokensFile(dir)).toThrow(/kedge-tokens-.* cannot be read/);
  });
  it('accepts an empty file (the hub then warns that nobody can log in)', () => {
    expect(loadStaticTokensFile(file('empty', '# nothing yet\n')).specs).toEqual([]);
  });
});
