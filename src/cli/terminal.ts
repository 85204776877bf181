// The local terminal: questions asked on it (passwords never echoed) and raw mode for an interactive SSH session,
// undone on every way out of the process (normal end, error, signal, uncaught exception).
import { CLIError, CLIErrorCode } from './errors.ts';

/** Whether a person can answer a question: stdin is a terminal. */
export function canPrompt(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return stdin.isTTY === true;
}

/** The line being typed after one more chunk of keys; `done` on Enter, an error on Ctrl-C or Ctrl-D on an empty line. */
export function typed(value: string, chunk: string): { value: string; done: boolean; aborted: boolean; echo: string } {
  let v = value;
  let echo = '';
  for (const ch of chunk) {
    if (ch === '\r' || ch === '\n') return { value: v, done: true, aborted: false, echo };
    if (ch === '\u0003' || (ch === '\u0004' && v === '')) return { value: v, done: false, aborted: true, echo };
    if (ch === '\u007f' || ch === '\b') {
      if (v.length > 0) echo += '\b \b';
      v = [...v].slice(0, -1).join('');
    } else if (ch === '\u0015') {
      echo += '\b \b'.repeat([...v].length);
      v = '';
    } else if (ch >= ' ') {
      v += ch;
      echo += ch;
    }
  }
  return { value: v, done: false, aborted: false, echo };
}

/**
 * Asks on the terminal (question on stderr, answer from stdin in raw mode so nothing is echoed unless `echo`).
 * Rejects when the person presses Ctrl-C.
 */
export function askTerminal(
  question: string,
  echo: boolean,
  stdin: NodeJS.ReadStream = process.stdin,
  out: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  if (!canPrompt(stdin))
    return Promise.reject(new CLIError(CLIErrorCode.FlagsInvalid, `cannot ask "${question.trim()}": no terminal`));
  return new Promise((resolve, reject) => {
    const wasRaw = stdin.isRaw;
    let value = '';
    const finish = (err?: Error): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      out.write('\r\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      const t = typed(value, chunk.toString('utf8'));
      value = t.value;
      if (echo && t.echo) out.write(t.echo);
      if (t.aborted) finish(new CLIError(CLIErrorCode.Interrupted, 'interrupted'));
      else if (t.done) finish();
    };
    out.write(question);
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/**
 * Puts the terminal in raw mode (keys go to the remote side as typed, Ctrl-C included) and returns the function
 * that restores it. The restore also runs on process exit, so no way out leaves the terminal raw.
 */
export function enterRawMode(stdin: NodeJS.ReadStream = process.stdin): () => void {
  if (stdin.isTTY !== true) return () => undefined;
  const wasRaw = stdin.isRaw;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    try {
      stdin.setRawMode(wasRaw);
    } catch {
      // The terminal is gone (hung up): there is nothing left to restore.
    }
  };
  process.on('exit', restore);
  stdin.setRawMode(true);
  return restore;
}
