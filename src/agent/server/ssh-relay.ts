// The agent end of `ssh` tunnel streams (docs/agent-protocol.md §7): each one becomes a TCP connection to sshd and
// the bytes are piped both ways unread (SSH runs end to end between the user's client and sshd). Backpressure comes
// from pipe(); a FIN on either side ends the other (half-close kept); any error or reset on either side resets both,
// so the hub sees a reset stream (close code 4002) when sshd is unreachable or drops the connection.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { formatSshAddress } from '../options.ts';
import type { SshAddress } from '../options.ts';

export interface SshRelayStats {
  /** Streams relayed so far (including failed ones). */
  total: number;
  /** Streams reset because sshd could not be reached or failed. */
  failed: number;
}

export class SshRelay {
  readonly stats: SshRelayStats = { total: 0, failed: 0 };
  readonly #address: () => Promise<SshAddress>;
  readonly #log: Logger;
  readonly #open = new Map<Duplex, Socket | undefined>();

  constructor(address: () => Promise<SshAddress>, logger: Logger) {
    this.#address = address;
    this.#log = logger.child({ component: 'ssh-relay' });
  }

  /** Relays sessions currently open. */
  get open(): number {
    return this.#open.size;
  }

  /** Connects `stream` (a tunnel stream with header {kind:'ssh'}, paused at its first byte) to sshd. */
  handle(stream: Duplex): void {
    this.stats.total++;
    this.#open.set(stream, undefined);
    // Errors (a reset from the hub: the user went away) are handled on 'close'; without a listener they would throw.
    stream.on('error', () => {});
    stream.once('close', () => this.#open.delete(stream));
    this.#address().then(
      (addr) => {
        if (stream.destroyed) return; // the hub gave up meanwhile
        this.#pipe(stream, addr);
      },
      (err: unknown) => {
        this.stats.failed++;
        this.#log.info({ err }, 'ssh stream reset: the sshd address is not known (the Edge could not be read)');
        stream.destroy();
      },
    );
  }

  #pipe(stream: Duplex, addr: SshAddress): void {
    const where = formatSshAddress(addr);
    // Half-open: sshd's FIN is passed on as a FIN, and bytes still coming from the client keep flowing to sshd.
    const sock = connect({ host: addr.host, port: addr.port, allowHalfOpen: true, noDelay: true });
    this.#open.set(stream, sock);
    this.#log.debug({ sshAddress: where, open: this.#open.size }, 'ssh relay opened');
    let connected = false;
    sock.once('connect', () => (connected = true));
    let failed = false;
    const fail = (err: NodeJS.ErrnoException | undefined, what: string): void => {
      if (failed) return;
      failed = true;
      // The error's code and address only: the payload is the user's SSH session and is never logged.
      if (err !== undefined) {
        this.stats.failed++;
        this.#log.info({ sshAddress: where, code: err.code ?? err.message, open: this.#open.size }, what);
      }
      sock.destroy();
      stream.destroy(); // RST to the hub
    };
    sock.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err,
        connected ? 'ssh stream reset: the connection to sshd failed' : 'ssh stream reset: cannot connect to sshd',
      ),
    );
    // The hub reset the stream (the user's client went away, or the tunnel dropped): reset sshd's side too.
    stream.once('close', () => {
      if (!stream.readableEnded || !stream.writableFinished) fail(undefined, '');
      else if (!sock.destroyed) sock.end();
    });
    sock.once('close', (hadError) => {
      if (hadError) return; // 'error' did it
      if (!stream.destroyed && !stream.writableEnded) stream.end();
      this.#log.debug({ sshAddress: where, open: this.#open.size }, 'ssh relay closed');
    });
    stream.pipe(sock);
    sock.pipe(stream);
  }

  /** Resets every open relay (the agent is stopping). */
  close(): void {
    for (const [stream, sock] of this.#open) {
      sock?.destroy();
      stream.destroy();
    }
    this.#open.clear();
  }
}
