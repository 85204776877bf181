// The per-hub OIDC login cache of `kedge login` and `kedge get-token`: ${XDG_CACHE_HOME:-~/.cache}/kedge/tokens/
// <sha256 of the hub URL>.json, mode 0600 in a 0700 directory, replaced atomically (temporary file + rename) so a
// reader never sees half a file. A lock file next to it (O_EXCL create; a lock whose holder died or that is older than
// STALE_LOCK_MS is broken) serialises refreshes: kubectl runs the exec plugin once per process, and several kubectl
// calls at once must renew the ID token once — the issuer rotates refresh tokens, so a second refresh with the same
// one would be refused.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, closeSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { poll } from '../../util/wait.ts';
import { writeFileAtomic } from '../../util/write-file-atomic.ts';
import { CLIError, CLIErrorCode } from '../errors.ts';

export interface CachedLogin {
  hubURL: string;
  issuerURL: string;
  clientID: string;
  scopes: string[];
  /** The issuer's CA (from --oidc-ca-file or the hub's discovery document), for refreshing without the hub. */
  caPEM?: string;
  idToken: string;
  refreshToken?: string;
  /** The ID token's `exp`, ISO 8601. */
  expiry: string;
  email?: string;
}

/** A lock older than this is left over by a process that hung or died on another host sharing $HOME. */
export const STALE_LOCK_MS = 60_000;
/** How long get-token waits for another process's refresh. */
const LOCK_WAIT_MS = 30_000;

export function tokenCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'kedge', 'tokens');
}

export function tokenCachePath(hubURL: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(hubURL).digest('hex').slice(0, 32);
  return join(tokenCacheDir(env), `${hash}.json`);
}

/** The cached login, or undefined when there is none (or it is unreadable: then a new login overwrites it). */
export function readTokenCache(path: string): CachedLogin | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CLIError(CLIErrorCode.LoginRequired, `cannot read the login cache ${path}: ${(err as Error).message}`);
  }
  try {
    const c = JSON.parse(text) as Partial<CachedLogin>;
    if (typeof c.idToken !== 'string' || typeof c.issuerURL !== 'string' || typeof c.clientID !== 'string')
      return undefined;
    return c as CachedLogin;
  } catch {
    return undefined;
  }
}

export function writeTokenCache(path: string, c: CachedLogin): void {
  writeFileAtomic(path, `${JSON.stringify(c, null, 2)}\n`);
  // mkdir's mode applies only to directories it creates: tighten one that was there already.
  chmodSync(join(path, '..'), 0o700);
}

/** A JWT's `exp` and `iat` (seconds since the epoch). Not a verification: the issuer's token endpoint gave it us. */
export function jwtTimes(jwt: string): { exp?: number; iat?: number } {
  try {
    const p = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      ...(typeof p.exp === 'number' ? { exp: p.exp } : {}),
      ...(typeof p.iat === 'number' ? { iat: p.iat } : {}),
    };
  } catch {
    return {};
  }
}

export function jwtExpiry(jwt: string): number | undefined {
  return jwtTimes(jwt).exp;
}

/** Runs `fn` holding the cache's lock; waits for another holder, breaks a stale lock. */
export async function withCacheLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  await poll(async () => tryLock(lock), {
    what: `the login cache lock ${lock}`,
    timeoutMs: LOCK_WAIT_MS,
    intervalMs: 50,
  });
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // already broken as stale by another process: nothing to release
    }
  }
}

function tryLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx', 0o600);
    writeFileSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (isStale(lock)) {
    try {
      unlinkSync(lock);
    } catch {
      // another waiter broke it first
    }
  }
  return false;
}

function isStale(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written right now
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // ESRCH: the holder is gone. ENOENT: released meanwhile (the next try takes it). EPERM: alive, another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
