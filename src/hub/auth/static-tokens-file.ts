// The static-tokens file (`kedge-hub --static-tokens-file PATH`): how tokens reach the hub without appearing in
// its argv, where every local user can read them with `ps`. One `[name=]token` per line; blank lines and lines
// starting with '#' are ignored. A file every local user can read is refused; a group-readable one is warned about.
import { readFileWithMode } from '../../util/secret-file.ts';
import { HubError, HubErrorCode } from '../errors.ts';
import { parseStaticToken } from './static-tokens.ts';

export interface StaticTokensFile {
  /** `[name=]token` specs, as `--static-token` takes them. */
  specs: string[];
  /** Things worth telling the operator that do not stop the hub (never containing a token). */
  warnings: string[];
}

export function loadStaticTokensFile(path: string): StaticTokensFile {
  let text: string;
  let mode: number;
  try {
    ({ text, mode } = readFileWithMode(path));
  } catch (err) {
    const why = (err as Error).message;
    throw new HubError(HubErrorCode.StaticTokensFileUnreadable, `static tokens file ${path} cannot be read (${why})`, {
      cause: err,
    });
  }
  const warnings: string[] = [];
  // The tokens are credentials: a file anyone on the machine can read defeats the point of not using argv.
  if (mode & 0o006) {
    throw new HubError(
      HubErrorCode.StaticTokensFileUnsafe,
      `static tokens file ${path} is readable or writable by every local user (mode ${octal(mode)}); run: chmod 600 ${path}`,
    );
  }
  if (mode & 0o060)
    warnings.push(`static tokens file ${path} is accessible to its group (mode ${octal(mode)}); consider chmod 600`);
  return { specs: parseStaticTokensText(text, path), warnings };
}

/** Parses the file's text; errors name `source` and the 1-based line, never the token. */
export function parseStaticTokensText(text: string, source: string): string[] {
  const specs: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let token: string;
    try {
      token = parseStaticToken(line).token;
    } catch (err) {
      throw new HubError(HubErrorCode.StaticTokensInvalid, `${source}:${i + 1}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const first = seen.get(token);
    if (first !== undefined) {
      throw new HubError(
        HubErrorCode.StaticTokensInvalid,
        `${source}:${i + 1}: the same token as line ${first} (each token is one user)`,
      );
    }
    seen.set(token, i + 1);
    specs.push(line);
  });
  return specs;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
