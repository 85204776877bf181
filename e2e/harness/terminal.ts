// A real pseudo-terminal for interactive tests, driven through tmux on a private socket: a shell in an 80×24
// window, keys typed as a person would, the screen read with `capture-pane`, resizes as a terminal emulator makes
// them (the program inside gets SIGWINCH).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poll } from '../../src/util/wait.ts';
import { run } from './cli.ts';

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  /** Extra environment for the shell (and everything started in it), e.g. HOME or PATH. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface Terminal {
  /** Types `text` literally (no key names), without Enter. */
  type(text: string): Promise<void>;
  /** Types `text` and presses Enter. */
  line(text: string): Promise<void>;
  /** Presses tmux key names, e.g. 'Enter', 'C-c', 'C-d'. */
  keys(...names: string[]): Promise<void>;
  /** The visible screen plus scrollback, trailing blank lines removed. */
  screen(): Promise<string>;
  /** Polls the screen until `pattern` matches it; returns the match. Names the screen on timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resizes the window like a terminal emulator would (the foreground program gets SIGWINCH). */
  resize(cols: number, rows: number): Promise<void>;
  /** The command running in the foreground of the pane (`bash` when the shell is back). */
  foreground(): Promise<string>;
  /** Polls until the foreground command is `name` (e.g. 'bash' once a program started from the shell exited). */
  waitForeground(name: string, timeoutMs?: number): Promise<void>;
  /** Clears the screen and scrollback, so the next waitFor only sees new output. */
  clear(): Promise<void>;
  kill(): Promise<void>;
}

const SESSION = 't';

/**
 * A shell line printing the terminal's echo and icanon flags: "echo icanon" in cooked mode (as a shell leaves it),
 * "-echo -icanon" in raw mode (as an SSH client sets it while it holds the terminal).
 */
export const TTY_MODES_COMMAND = `stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon)' | sort | paste -sd ' ' -`;
export const TTY_MODES_LINE = /^-?echo -?icanon$/m;

export async function startTerminal(opts: TerminalOptions = {}): Promise<Terminal> {
  const dir = mkdtempSync(join(tmpdir(), 'kedge-tmux-'));
  const socket = join(dir, 'tmux.sock');
  const tmux = async (...args: string[]): Promise<string> => {
    const r = await run('tmux', ['-S', socket, ...args], { env: opts.env ?? {}, timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  // A shell without rc files and with a fixed prompt, so the screen holds only what the test caused.
  const shell = "env PS1='$ ' bash --norc --noprofile";
  await tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    SESSION,
    '-x',
    String(opts.cols ?? 80),
    '-y',
    String(opts.rows ?? 24),
    ...(opts.cwd === undefined ? [] : ['-c', opts.cwd]),
    shell,
  );
  // Scrollback for long outputs, and the window keeps the size we set (no client attaches).
  await tmux('set-option', '-g', 'history-limit', '10000');
  await tmux('set-option', '-g', 'window-size', 'manual');

  const screen = async (): Promise<string> =>
    (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', SESSION)).replace(/\s+$/, '');

  const term: Terminal = {
    async type(text) {
      await tmux('send-keys', '-t', SESSION, '-l', text);
    },
    async line(text) {
      await term.type(text);
      await tmux('send-keys', '-t', SESSION, 'Enter');
    },
    async keys(...names) {
      await tmux('send-keys', '-t', SESSION, ...names);
    },
    screen,
    async waitFor(pattern, timeoutMs = 15_000) {
      let last = '';
      try {
        return await poll(
          async () => {
            last = await screen();
            return pattern.exec(last) ?? undefined;
          },
          { what: `${pattern} on the terminal`, timeoutMs, intervalMs: 50 },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- screen ---\n${last}\n--------------`, { cause: err });
      }
    },
    async foreground() {
      return (await tmux('display-message', '-p', '-t', SESSION, '#{pane_current_command}')).trim();
    },
    async waitForeground(name, timeoutMs = 15_000) {
      let last = '';
      await poll(
        async () => {
          last = await term.foreground();
          return last === name;
        },
        { what: `${name} in the foreground of the terminal`, timeoutMs, intervalMs: 50 },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message} (it is ${last})`, { cause: err });
      });
    },
    async resize(cols, rows) {
      await tmux('resize-window', '-t', SESSION, '-x', String(cols), '-y', String(rows));
    },
    async clear() {
      await tmux('send-keys', '-t', SESSION, '-R');
      await tmux('clear-history', '-t', SESSION);
    },
    async kill() {
      await run('tmux', ['-S', socket, 'kill-server'], { timeoutMs: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return term;
}
