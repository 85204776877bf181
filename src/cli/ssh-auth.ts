// User authentication of `kedge ssh`, in OpenSSH's order: the ssh-agent, `-i` files, the default ~/.ssh/id_* keys,
// then keyboard-interactive and password prompts on a terminal. The hub never sees any of it: this runs inside
// the end-to-end SSH connection (docs/ssh.md).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthenticationType, NextAuthHandler, ParsedKey, Prompt } from 'ssh2';

/** The default identities OpenSSH tries (id_dsa and the -sk types are left out: ssh2 cannot use them). */
export function defaultIdentities(home = homedir()): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f));
}

export type AuthStep =
  | { kind: 'agent'; socket: string }
  | { kind: 'key'; file: string }
  | { kind: 'keyboard-interactive' }
  | { kind: 'password' };

/** OpenSSH asks for a password (and runs keyboard-interactive) up to three times. */
const PROMPT_TRIES = 3;

/**
 * The methods to try, in order. Explicit `-i` files come before the defaults, each file once; missing default keys
 * are skipped silently, a missing `-i` file with a note (as OpenSSH). Prompts only when a person can answer them.
 */
export function authPlan(opts: {
  agentSocket: string | undefined;
  identities: readonly string[];
  defaults: readonly string[];
  interactive: boolean;
  exists: (file: string) => boolean;
}): { steps: AuthStep[]; notes: string[] } {
  const steps: AuthStep[] = [];
  const notes: string[] = [];
  if (opts.agentSocket) steps.push({ kind: 'agent', socket: opts.agentSocket });
  const seen = new Set<string>();
  for (const file of opts.identities) {
    if (seen.has(file)) continue;
    seen.add(file);
    if (opts.exists(file)) steps.push({ kind: 'key', file });
    else notes.push(`Warning: identity file ${file} not accessible: no such file.`);
  }
  for (const file of opts.defaults) {
    if (seen.has(file) || !opts.exists(file)) continue;
    seen.add(file);
    steps.push({ kind: 'key', file });
  }
  if (opts.interactive) {
    for (let i = 0; i < PROMPT_TRIES; i++) steps.push({ kind: 'keyboard-interactive' });
    for (let i = 0; i < PROMPT_TRIES; i++) steps.push({ kind: 'password' });
  }
  return { steps, notes };
}

/** The SSH method name a step uses (for matching the server's "methods that can continue"). */
function methodOf(step: AuthStep): AuthenticationType {
  return step.kind === 'agent' || step.kind === 'key' ? 'publickey' : step.kind;
}

/** Whether a private key file is passphrase-protected (OpenSSH, PEM and PKCS#8 forms). */
export function isEncryptedKey(text: string): boolean {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /^Proc-Type:\s*4,ENCRYPTED/m.test(text)) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return false;
  const blob = Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (blob.length < magic.length + 4 || blob.subarray(0, magic.length).toString('latin1') !== magic) return false;
  const n = blob.readUInt32BE(magic.length);
  return blob.subarray(magic.length + 4, magic.length + 4 + n).toString('latin1') !== 'none';
}

export interface AuthIO {
  /** Asks a person (on the terminal, never echoing when `echo` is false); rejects when they abort (Ctrl-C). */
  prompt(question: string, echo: boolean): Promise<string>;
  /** A line on stderr. */
  note(line: string): void;
  /** ssh2's key parser (ssh2 is loaded lazily by the caller). */
  parseKey(data: Buffer, passphrase?: string): ParsedKey | Error;
  readFile(file: string): Buffer;
}

export interface AuthState {
  /** The server's last "methods that can continue" (for the error when all fail). */
  methodsLeft: AuthenticationType[];
  /** Set when the person aborted a prompt: the session ends with it instead of "permission denied". */
  aborted: Error | undefined;
}

/** ssh2's `authHandler`: offers `none` first (to learn what sshd allows), then the plan's steps it allows. */
export function authHandler(
  user: string,
  host: string,
  steps: readonly AuthStep[],
  interactive: boolean,
  io: AuthIO,
): {
  handler: (left: AuthenticationType[] | null, partial: boolean | null, next: NextAuthHandler) => void;
  state: AuthState;
} {
  const state: AuthState = { methodsLeft: [], aborted: undefined };
  let i = 0;
  let started = false;
  // ssh2 takes `false` for "no more methods" (its typings omit it).
  const stop = (next: NextAuthHandler): void => (next as unknown as (m: false) => void)(false);
  const handler = (left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
    if (!started) {
      started = true;
      next({ type: 'none', username: user });
      return;
    }
    state.methodsLeft = left ?? [];
    void (async () => {
      while (i < steps.length) {
        const step = steps[i++] as AuthStep;
        if (left && !left.includes(methodOf(step))) continue;
        const method = await methodFor(step);
        if (method) return next(method);
      }
      stop(next);
    })().catch((err: unknown) => {
      state.aborted = err as Error;
      stop(next);
    });
  };

  async function methodFor(step: AuthStep): Promise<AnyAuthMethod | undefined> {
    switch (step.kind) {
      case 'agent':
        return { type: 'agent', username: user, agent: step.socket };
      case 'key':
        return keyMethod(step.file);
      case 'password':
        return { type: 'password', username: user, password: await io.prompt(`${user}@${host}'s password: `, false) };
      case 'keyboard-interactive':
        return {
          type: 'keyboard-interactive',
          username: user,
          prompt: (name: string, instructions: string, _lang: string, prompts: Prompt[], finish) => {
            void (async () => {
              if (name) io.note(name);
              if (instructions) io.note(instructions);
              const answers: string[] = [];
              for (const p of prompts) answers.push(await io.prompt(p.prompt, p.echo === true));
              finish(answers);
            })().catch((err: unknown) => {
              state.aborted = err as Error;
              finish([]);
            });
          },
        };
    }
  }

  async function keyMethod(file: string): Promise<AnyAuthMethod | undefined> {
    let data: Buffer;
    try {
      data = io.readFile(file);
    } catch (err) {
      io.note(`Warning: cannot read identity file ${file}: ${(err as Error).message}`);
      return undefined;
    }
    if (!isEncryptedKey(data.toString('latin1'))) {
      const key = io.parseKey(data);
      if (key instanceof Error) {
        io.note(`Warning: skipping identity file ${file}: ${key.message}`);
        return undefined;
      }
      return { type: 'publickey', username: user, key };
    }
    if (!interactive) {
      io.note(`Skipping ${file}: it needs a passphrase and there is no terminal to ask on (load it into ssh-agent).`);
      return undefined;
    }
    for (let t = 0; t < PROMPT_TRIES; t++) {
      const passphrase = await io.prompt(`Enter passphrase for key '${file}': `, false);
      if (passphrase === '') return undefined; // as OpenSSH: an empty answer skips the key
      const key = io.parseKey(data, passphrase);
      if (!(key instanceof Error)) return { type: 'publickey', username: user, key };
      io.note('Bad passphrase, try again.');
    }
    return undefined;
  }

  return { handler, state };
}

export function fileExists(file: string): boolean {
  return existsSync(file);
}

export function readKeyFile(file: string): Buffer {
  return readFileSync(file);
}
