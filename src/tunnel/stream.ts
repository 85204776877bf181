// TunnelStream: one yamux stream as a Node Duplex, so it pipes into sockets, http and ssh2 unchanged.
// end() sends FIN (half-close), destroy() sends RST; a full read buffer pauses window updates (backpressure).
import { Duplex } from 'node:stream';
import type { YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import type { StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { TunnelError, TunnelErrorCode } from './errors.ts';
import type { StreamHeader } from './header.ts';

export interface TunnelStreamOptions {
  /** Bytes the Duplex buffers before the yamux stream stops granting window (default 64 KiB). */
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

export class TunnelStream extends Duplex {
  readonly streamId: number;
  /** The typed header this stream was opened with (set once written or read). */
  header: StreamHeader | undefined;
  readonly #ys: YamuxStream;
  #remoteFin = false;
  #localFin = false;
  #resuming = false;
  #pauseAfterResume = false;

  constructor(ys: YamuxStream, opts: TunnelStreamOptions = {}) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: opts.readableHighWaterMark ?? 64 * 1024,
      writableHighWaterMark: opts.writableHighWaterMark ?? 64 * 1024,
    });
    this.#ys = ys;
    this.streamId = ys.streamId;
    lazyWindowUpdates(ys);
    ys.addEventListener('message', this.#onMessage);
    ys.addEventListener('remoteCloseWrite', () => {
      this.#remoteFin = true;
    });
    ys.addEventListener('end', () => {
      if (this.#remoteFin) this.push(null);
    });
    ys.addEventListener('close', this.#onClose);
  }

  readonly #onMessage = (evt: StreamMessageEvent): void => {
    const data = evt.data;
    let more = true;
    if (data instanceof Uint8Array) more = this.push(data);
    else for (const chunk of data) more = this.push(chunk);
    if (more) return;
    if (this.#resuming) this.#pauseAfterResume = true;
    else if (this.#ys.readStatus === 'readable') this.#ys.pause();
  };

  readonly #onClose = (evt: StreamCloseEvent): void => {
    if (evt.error !== undefined) {
      const err = evt.local
        ? evt.error
        : new TunnelError(TunnelErrorCode.StreamReset, `stream ${this.streamId} reset by peer`, { cause: evt.error });
      this.destroy(err);
      return;
    }
    // Closed without error but not both FINs seen: the session went away under us, so data may be missing.
    if (!this.#remoteFin || !this.#localFin) {
      this.destroy(new TunnelError(TunnelErrorCode.SessionClosed, `session closed with stream ${this.streamId} open`));
    }
  };

  override _read(): void {
    const ys = this.#ys;
    if (ys.readStatus !== 'paused') return;
    // resume() delivers the buffered bytes and only then re-enables window updates; pausing from inside that delivery
    // would be undone by it and leave the window open while paused. So a pause requested meanwhile is applied after.
    this.#resuming = true;
    try {
      ys.resume();
    } finally {
      this.#resuming = false;
    }
    if (this.#pauseAfterResume) {
      this.#pauseAfterResume = false;
      if ((ys.readStatus as string) === 'readable') ys.pause(); // resume() changed it
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let more: boolean;
    try {
      more = this.#ys.send(chunk);
    } catch (err) {
      callback(this.#writeError(err));
      return;
    }
    if (more) callback();
    else this.#whenFlushed(callback);
  }

  /**
   * Calls back once the yamux stream has handed all queued bytes to the muxer. 'drain' alone is not enough: the muxer
   * sends it to every stream when the transport drains, also to streams whose send window is still zero, and
   * accepting more then would let the write buffer grow without bound.
   */
  #whenFlushed(callback: (error?: Error | null) => void): void {
    const ys = this.#ys;
    const check = (): void => {
      if (ys.writeBufferLength === 0) callback();
      else if (ys.writeStatus !== 'writable') callback(this.#writeError(new Error(`write status ${ys.writeStatus}`)));
      else
        ys.onDrain().then(
          () => setImmediate(check),
          (err: unknown) => callback(this.#writeError(err)),
        );
    };
    check();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#localFin = true;
    this.#ys.close().then(
      () => callback(),
      (err: unknown) => callback(this.#writeError(err)),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const ys = this.#ys;
    ys.removeEventListener('message', this.#onMessage);
    if (ys.status === 'open' || ys.status === 'closing') {
      ys.abort(err ?? new TunnelError(TunnelErrorCode.StreamReset, `stream ${this.streamId} reset locally`));
    }
    callback(err);
  }

  #writeError(err: unknown): Error {
    if (err instanceof TunnelError) return err;
    return new TunnelError(TunnelErrorCode.StreamReset, `stream ${this.streamId} is closed for writing`, {
      cause: err,
    });
  }
}

/** What `lazyWindowUpdates` touches inside a libp2p YamuxStream (8.x field names). */
interface YamuxWindowInternals {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}
const SYN_SENT = 1;
const ESTABLISHED = 3;

/**
 * libp2p-yamux grants window after every Data frame it reads: one Window Update frame (one WebSocket message) per
 * Data frame, even for a few bytes. hashicorp/yamux and go-yamux grant only once at least half the window was consumed
 * (or a SYN/ACK flag is due). We do the same: a sender never stalls (it still has half a window when we stay quiet),
 * and a small request/response costs no extra frames.
 */
function lazyWindowUpdates(ys: YamuxStream): void {
  const s = ys as unknown as YamuxWindowInternals;
  if (typeof s.sendWindowUpdate !== 'function' || typeof s.recvWindowCapacity !== 'number') return;
  const update = s.sendWindowUpdate.bind(ys);
  s.sendWindowUpdate = () => {
    if ((s.state === SYN_SENT || s.state === ESTABLISHED) && s.recvWindowCapacity * 2 > s.recvWindow) return;
    update();
  };
}
