// What `kedge ssh [user@]NAME [-- COMMAND…]` was asked to do, decided like OpenSSH's ssh(1): the login name, the
// remote command, whether to ask for a PTY, and how the remote end becomes the exit status. Pure.
import { constants } from 'node:os';
import { DEFAULT_SSH_USER } from '../api/ssh.ts';
import { CLIError, CLIErrorCode } from './errors.ts';

export interface SshFlags {
  /** -l USER */
  login?: string;
  /** -i FILE, repeatable */
  identity?: string[];
  /** How often -t was given (-tt counts 2). */
  tty?: number;
  /** -T */
  noTty?: boolean;
  /** -v: ssh2's protocol debug lines on stderr */
  verbose?: boolean;
}

export interface SshInvocation {
  edge: string;
  user: string;
  /** The remote command line (see remoteCommand), or undefined for a login shell. */
  command: string | undefined;
  pty: boolean;
  /** A note for stderr when a requested PTY is not allocated (OpenSSH prints the same). */
  note?: string;
  identities: string[];
  verbose: boolean;
}

/**
 * The login name for the session. `-l` wins over `user@`; then the identity's name (a seam for OIDC: the email's
 * local part, passed as `identityUser`), then DEFAULT_SSH_USER.
 */
export function sshTarget(
  target: string,
  login: string | undefined,
  identityUser?: string,
): { edge: string; user: string } {
  const at = target.lastIndexOf('@');
  const edge = at >= 0 ? target.slice(at + 1) : target;
  const fromTarget = at >= 0 ? target.slice(0, at) : undefined;
  if (edge === '')
    throw new CLIError(CLIErrorCode.FlagsInvalid, `no edge name in ${JSON.stringify(target)}: use [user@]NAME`);
  if (fromTarget === '')
    throw new CLIError(CLIErrorCode.FlagsInvalid, `empty user name in ${JSON.stringify(target)}: use user@NAME`);
  if (login === '') throw new CLIError(CLIErrorCode.FlagsInvalid, '-l needs a user name');
  return { edge, user: login ?? fromTarget ?? identityUser ?? DEFAULT_SSH_USER };
}

/**
 * OpenSSH's PTY rule: -T never; -tt always; -t when the local stdin is a terminal; without -t/-T a PTY exactly when
 * there is no command and stdin is a terminal.
 */
export function wantsPty(
  hasCommand: boolean,
  tty: number,
  noTty: boolean,
  stdinIsTTY: boolean,
): { pty: boolean; note?: string } {
  if (noTty) return { pty: false };
  if (tty >= 2) return { pty: true };
  if (tty === 1 || !hasCommand) {
    if (stdinIsTTY) return { pty: true };
    return tty === 1
      ? { pty: false, note: 'Pseudo-terminal will not be allocated because stdin is not a terminal.' }
      : { pty: false };
  }
  return { pty: false };
}

/** A word as a POSIX shell must see it: unchanged when it has nothing special, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line sshd hands to the login shell. One word is a shell command line, as with OpenSSH
 * (`kedge ssh pi -- 'make && make install'`); several words are arguments, each quoted as needed, as with
 * `kubectl exec` (`kedge ssh pi -- sh -c 'exit 7'` runs `sh` with the two arguments `-c` and `exit 7`). OpenSSH joins
 * several words with spaces and lets the remote shell split them again, which turns that example into `sh -c exit 7`.
 */
export function remoteCommand(words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  if (words.length === 1) return words[0];
  return words.map(shellQuote).join(' ');
}

export function sshInvocation(
  target: string,
  words: readonly string[],
  flags: SshFlags,
  stdinIsTTY: boolean,
  identityUser?: string,
): SshInvocation {
  if ((flags.tty ?? 0) > 0 && flags.noTty)
    throw new CLIError(CLIErrorCode.FlagsInvalid, 'use either -t or -T, not both');
  const { edge, user } = sshTarget(target, flags.login, identityUser);
  // `--` right after the target only ends the options (commander keeps it when options pass through).
  const rest = words[0] === '--' ? words.slice(1) : words;
  const command = remoteCommand(rest);
  const p = wantsPty(command !== undefined, flags.tty ?? 0, flags.noTty === true, stdinIsTTY);
  return {
    edge,
    user,
    command,
    pty: p.pty,
    ...(p.note !== undefined ? { note: p.note } : {}),
    identities: flags.identity ?? [],
    verbose: flags.verbose === true,
  };
}

/** Signal numbers for the names SSH carries (RFC 4254 §6.10, without "SIG"), as on Linux. */
const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  ABRT: 6,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
};

/** The exit status for "the SSH connection failed", as OpenSSH. */
export const SSH_FAILURE_STATUS = 255;

/**
 * `kedge ssh`'s exit status from what the remote end reported: its exit code; a signal → 128+n like a shell; nothing
 * at all (the channel closed without an exit status) → 255.
 */
export function remoteExitStatus(code: number | null | undefined, signal?: string | null): number {
  if (typeof code === 'number') return code & 0xff;
  if (signal) {
    const name = signal.replace(/^SIG/, '');
    const n = SIGNALS[name] ?? (constants.signals as Record<string, number | undefined>)[`SIG${name}`];
    if (n !== undefined) return 128 + n;
  }
  return SSH_FAILURE_STATUS;
}
