import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, NextAuthHandler } from 'ssh2';
import { authHandler, authPlan, defaultIdentities, isEncryptedKey, type AuthStep } from './ssh-auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-ssh-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A key made by the real ssh-keygen, in its default (OpenSSH) format, or PEM with -m PEM. */
function keygen(name: string, type: string, passphrase: string, pem = false): string {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-f', file, ...(pem ? ['-m', 'PEM'] : [])]);
  return file;
}

describe('auth plan', () => {
  const exists = (f: string): boolean => !f.includes('missing');
  test('agent, then -i files, then the defaults that exist, then prompts on a terminal', () => {
    const { steps, notes } = authPlan({
      agentSocket: '/run/agent.sock',
      identities: ['/k/a', '/k/missing', '/k/a', '/h/.ssh/id_rsa'],
      defaults: ['/h/.ssh/id_ed25519', '/h/.ssh/missing_ecdsa', '/h/.ssh/id_rsa'],
      interactive: true,
      exists,
    });
    expect(steps).toEqual([
      { kind: 'agent', socket: '/run/agent.sock' },
      { kind: 'key', file: '/k/a' },
      { kind: 'key', file: '/h/.ssh/id_rsa' },
      { kind: 'key', file: '/h/.ssh/id_ed25519' },
      ...Array(3).fill({ kind: 'keyboard-interactive' }),
      ...Array(3).fill({ kind: 'password' }),
    ]);
    expect(notes).toEqual(['Warning: identity file /k/missing not accessible: no such file.']);
  });

  test('no agent and no terminal: keys only', () => {
    expect(
      authPlan({ agentSocket: '', identities: [], defaults: ['/h/id'], interactive: false, exists }).steps,
    ).toEqual([{ kind: 'key', file: '/h/id' }]);
  });

  test('default identities in OpenSSH order', () => {
    expect(defaultIdentities('/h')).toEqual(['/h/.ssh/id_ed25519', '/h/.ssh/id_ecdsa', '/h/.ssh/id_rsa']);
  });
});

describe('encrypted keys (made by ssh-keygen)', () => {
  test.each([
    ['ed25519', '', false, false],
    ['ed25519', 'pw-long-enough', false, true],
    ['rsa', '', true, false],
    ['rsa', 'pw-long-enough', true, true],
    ['ecdsa', 'pw-long-enough', false, true],
  ])('%s passphrase %j pem %s → encrypted %s', (type, pass, pem, want) => {
    const file = keygen(`${type}-${pass ? 'enc' : 'plain'}-${pem ? 'pem' : 'ossh'}`, type, pass, pem);
    expect(isEncryptedKey(readFileSync(file, 'latin1'))).toBe(want);
  });
});

describe('authHandler', () => {
  const plain = keygen('plain', 'ed25519', '');
  const enc = keygen('enc', 'ed25519', 'sekrit-pass');

  /** Drives the handler like ssh2 does: each call gets what sshd still allows; collects what it offered. */
  async function drive(steps: AuthStep[], allowed: AuthenticationType[], answers: string[], interactive = true) {
    const notes: string[] = [];
    const asked: string[] = [];
    const { handler, state } = authHandler('root', 'pi', steps, interactive, {
      prompt: async (q) => {
        asked.push(q);
        const a = answers.shift();
        if (a === undefined) throw new Error('interrupted');
        return a;
      },
      note: (l) => notes.push(l),
      parseKey: (d, p) => ssh2.utils.parseKey(d, p),
      readFile: (f) => readFileSync(f),
    });
    const offered: (AnyAuthMethod | false)[] = [];
    let left: AuthenticationType[] | null = null;
    for (;;) {
      const m = await new Promise<AnyAuthMethod | false>((resolve) =>
        handler(left, left === null ? null : false, resolve as unknown as NextAuthHandler),
      );
      offered.push(m);
      if (m === false) break;
      left = allowed;
    }
    return { offered, notes, asked, state };
  }
  const kinds = (ms: (AnyAuthMethod | false)[]) => ms.map((m) => (m === false ? false : m.type));

  test('none first, then only what sshd allows, then false', async () => {
    const r = await drive(
      [{ kind: 'agent', socket: '/s' }, { kind: 'key', file: plain }, { kind: 'password' }],
      ['publickey'],
      [],
    );
    expect(kinds(r.offered)).toEqual(['none', 'agent', 'publickey', false]);
    expect(r.asked).toEqual([]);
  });

  test('an encrypted key asks for its passphrase, retries a wrong one, and skips on an empty answer', async () => {
    const ok = await drive([{ kind: 'key', file: enc }], ['publickey'], ['wrong', 'sekrit-pass']);
    expect(kinds(ok.offered)).toEqual(['none', 'publickey', false]);
    expect(ok.asked).toEqual([`Enter passphrase for key '${enc}': `, `Enter passphrase for key '${enc}': `]);
    expect(ok.notes).toEqual(['Bad passphrase, try again.']);
    const skipped = await drive([{ kind: 'key', file: enc }], ['publickey'], ['']);
    expect(kinds(skipped.offered)).toEqual(['none', false]);
  });

  test('without a terminal an encrypted key is skipped with a note', async () => {
    const r = await drive([{ kind: 'key', file: enc }], ['publickey'], [], false);
    expect(kinds(r.offered)).toEqual(['none', false]);
    expect(r.notes[0]).toContain('needs a passphrase and there is no terminal');
  });

  test('password prompts name user and edge; an aborted prompt ends authentication', async () => {
    const r = await drive([{ kind: 'password' }, { kind: 'password' }], ['password'], ['pw1']);
    expect(r.offered[1]).toEqual({ type: 'password', username: 'root', password: 'pw1' });
    expect(r.asked).toEqual(["root@pi's password: ", "root@pi's password: "]);
    expect(r.offered.at(-1)).toBe(false);
    expect(r.state.aborted?.message).toBe('interrupted');
    expect(r.state.methodsLeft).toEqual(['password']);
  });
});
