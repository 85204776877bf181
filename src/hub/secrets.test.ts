import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKedgeError } from '../api/errors.ts';
import { HubErrorCode } from './errors.ts';
import { readTokenFile } from './secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function refusal(path: string): string {
  try {
    readTokenFile(path, '--kcp-webhook-token-file');
  } catch (err) {
    if (!isKedgeError(err, HubErrorCode.WebhookTokenFileInvalid)) throw err;
    return err.message;
  }
  throw new Error('accepted');
}

describe('readTokenFile (--kcp-webhook-token-file)', () => {
  it('reads the one token, ignoring surrounding whitespace (a Secret key written with a newline)', () => {
    expect(readTokenFile(file('ok', '  s3cr3t-Token_value\n'), '--f')).toBe('s3cr3t-Token_value');
    // Group-readable is how a Secret mounted with fsGroup looks: accepted.
    expect(readTokenFile(file('group', 'tok\n', 0o440), '--f')).toBe('tok');
  });

  it('refuses a missing file, a directory, an empty file, two tokens and a world-readable file, saying why', () => {
    expect(refusal(join(dir, 'absent'))).toMatch(/absent cannot be read \(ENOENT\)/);
    mkdirSync(join(dir, 'sub'));
    expect(refusal(join(dir, 'sub'))).toMatch(/cannot be read \(not a regular file\)/);
    expect(refusal(file('empty', ' \n'))).toMatch(/must hold exactly one token/);
    expect(refusal(file('two', 'one two\n'))).toMatch(/must hold exactly one token/);
    const open = file('open', 'tok', 0o644);
    const msg = refusal(open);
    expect(msg).toMatch(/readable by every local user \(mode 0644\); run: chmod 600/);
    expect(msg).not.toContain('tok\n');
  });
});
