// Where sshd listens: --ssh-address, else 127.0.0.1:<Edge.spec.server.sshPort, default 22> read from the hub with the
// edge credential. Read at start and again on every tunnel connect (the port may have been edited); until a read
// succeeds there is no address at all — guessing port 22 could relay to, and pin the keys of, the wrong sshd.
import type { Logger } from 'pino';
import type { Edge } from '../../api/types.ts';
import { DEFAULT_SSH_PORT, formatSshAddress } from '../options.ts';
import type { SshAddress } from '../options.ts';

/** The address for an Edge; throws when its sshPort is not a TCP port (the hub validates it; this is a backstop). */
export function sshAddressOf(edge: Pick<Edge, 'spec'>): SshAddress {
  const port = edge.spec?.server?.sshPort ?? DEFAULT_SSH_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`the Edge's spec.server.sshPort ${JSON.stringify(port)} is not a TCP port`);
  return { host: '127.0.0.1', port };
}

export interface SshTargetOptions {
  /** --ssh-address: used as is, the Edge is never read. */
  override?: SshAddress;
  getEdge: () => Promise<Edge>;
  logger: Logger;
}

export class SshTarget {
  readonly #opts: SshTargetOptions;
  #known: SshAddress | undefined;
  #reading: Promise<SshAddress> | undefined;
  #failing = false;

  constructor(opts: SshTargetOptions) {
    this.#opts = opts;
    this.#known = opts.override;
  }

  /** The address to use now: the known one, else a fresh read (rejects when the Edge cannot be read). */
  current(): Promise<SshAddress> {
    if (this.#known !== undefined) return Promise.resolve(this.#known);
    return this.refresh();
  }

  /** Reads the Edge again (coalesced); a failure keeps the known address and is logged once until a read succeeds. */
  refresh(): Promise<SshAddress> {
    if (this.#opts.override !== undefined) return Promise.resolve(this.#opts.override);
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<SshAddress> {
    const log = this.#opts.logger;
    let addr: SshAddress;
    try {
      addr = sshAddressOf(await this.#opts.getEdge());
    } catch (err) {
      if (!this.#failing) log.warn({ err }, 'cannot read the Edge for its sshd port; retrying on the next use');
      this.#failing = true;
      if (this.#known !== undefined) return this.#known;
      throw err;
    }
    this.#failing = false;
    const before = this.#known;
    if (before === undefined || before.host !== addr.host || before.port !== addr.port) {
      log.info({ sshAddress: formatSshAddress(addr), previous: before && formatSshAddress(before) }, 'sshd address');
    }
    this.#known = addr;
    return addr;
  }
}
