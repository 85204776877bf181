// Reads a secret (a token) from the first line of a file: what `--token-file` flags take, so a token stays out of
// process arguments (ps) and shell history — a mounted Kubernetes Secret, a systemd credential, a 0600 file.
import { readFileSync, statSync } from 'node:fs';

/** Why a secret file could not be used; `message` names the flag and the file. */
export class SecretFileError extends Error {
  override name = 'SecretFileError';
}

/** The first line of `path`, trimmed. Throws SecretFileError (unreadable or empty) naming `flag`. */
export function readSecretLine(path: string, flag: string, read: (path: string) => string): string {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new SecretFileError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const line = text.split('\n')[0]?.trim() ?? '';
  if (line === '') throw new SecretFileError(`${flag} ${path} is empty`);
  return line;
}

/**
 * A regular file's text and its permission bits (`mode & 0o777`), for callers that refuse a secret file others can
 * read. Throws with the reason (the errno code, or "not a regular file") as message.
 */
export function readFileWithMode(path: string): { text: string; mode: number } {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    return { text: readFileSync(path, 'utf8'), mode: st.mode & 0o777 };
  } catch (err) {
    throw new Error((err as NodeJS.ErrnoException).code ?? (err as Error).message, { cause: err });
  }
}
