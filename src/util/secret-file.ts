// Reads a secret (a token) from the first line of a file: what `--token-file` flags take, so a token stays out of
// process arguments (ps) and shell history — a mounted Kubernetes Secret, a systemd credential, a 0600 file.

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
