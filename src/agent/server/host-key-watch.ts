// Keeps the agent's view of sshd's host keys current: a scan at start, every interval and on every tunnel connect
// (coalesced; a connect right after a scan does not scan again, so sshd is not hammered: each probe is a connection
// that never authenticates, and newer OpenSSH penalises sources that do that too often). A failed scan keeps the
// previous result (a restarting sshd must not look like a key change); state changes are logged once.
import type { Logger } from 'pino';
import { describeHostKey, normaliseHostKeys } from '../../api/host-keys.ts';
import { formatSshAddress } from '../options.ts';
import type { SshAddress } from '../options.ts';
import type { ScanResult } from './host-key-scan.ts';

export interface HostKeyWatchOptions {
  address: () => Promise<SshAddress>;
  intervalMs: number;
  logger: Logger;
  /** After a scan whose keys differ from the previous result (also the first success). */
  onChange: (keys: readonly string[]) => void;
  /** The scan itself (host-key-scan.ts); tests pass their own. */
  scan: (addr: SshAddress) => Promise<ScanResult>;
  /** A triggered scan within this long after the last one is skipped (default 10 s). */
  minGapMs?: number;
  now?: () => number;
}

/** Whether two key lists are the same set (both are normalised and sorted by the scanner). */
export function sameKeys(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

export class HostKeyWatch {
  readonly #opts: HostKeyWatchOptions;
  readonly #log: Logger;
  #keys: readonly string[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastScanAt = -Infinity;
  /** '' while healthy, else the failure last logged (address + code). */
  #failure = '';
  #stopped = false;
  scans = 0;

  constructor(opts: HostKeyWatchOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'host-keys' });
  }

  /** The latest successful scan's keys (authorized_keys form); undefined until one succeeded. */
  get keys(): readonly string[] | undefined {
    return this.#keys;
  }

  /** Scans once (awaited: the first heartbeat then carries the keys) and then every interval. */
  async start(): Promise<void> {
    await this.scan();
    if (this.#stopped) return;
    this.#timer = setInterval(() => void this.scan(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A scan unless one runs or one succeeded within minGapMs (the tunnel reconnected). */
  trigger(): void {
    const now = (this.#opts.now ?? Date.now)();
    if (this.#inFlight === undefined && now - this.#lastScanAt < (this.#opts.minGapMs ?? 10_000)) return;
    void this.scan();
  }

  /** Scans now, or joins the scan in flight. Never rejects. */
  scan(): Promise<void> {
    this.#inFlight ??= this.#scan().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #scan(): Promise<void> {
    if (this.#stopped) return;
    let where = 'the sshd address';
    let result: ScanResult;
    try {
      const addr = await this.#opts.address();
      where = formatSshAddress(addr);
      result = await this.#opts.scan(addr);
    } catch (err) {
      result = { ok: false, code: (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err) };
    }
    this.scans++;
    if (this.#stopped) return;
    if (!result.ok) {
      const failure = `${where} ${result.code}`;
      if (failure !== this.#failure) {
        const keeping = this.#keys === undefined ? 'nothing to report yet' : 'keeping the last result';
        this.#log.warn(
          { sshAddress: where, code: result.code },
          `cannot scan sshd's host keys at ${where}; ${keeping}`,
        );
      }
      this.#failure = failure;
      return;
    }
    this.#lastScanAt = (this.#opts.now ?? Date.now)();
    if (this.#failure !== '') this.#log.info({ sshAddress: where }, "sshd's host keys can be scanned again");
    this.#failure = '';
    if (sameKeys(this.#keys, result.keys)) return;
    const first = this.#keys === undefined;
    this.#keys = result.keys;
    const fingerprints = normaliseHostKeys(result.keys).map(describeHostKey);
    this.#log.info({ sshAddress: where, fingerprints }, first ? "sshd's host keys" : "sshd's host keys changed");
    this.#opts.onChange(result.keys);
  }
}
