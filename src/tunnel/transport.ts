// Adapts a byte transport (a `ws` WebSocket, or a Node Duplex such as a TCP socket) to libp2p's MessageStream, the
// interface @chainsafe/libp2p-yamux reads frames from and writes frames to. Outbound frames written in one tick are
// coalesced into one WebSocket message / one corked socket write; inbound bytes pass the FrameGuard first.
import { AbstractMessageStream } from '@libp2p/utils';
import type { SendResult } from '@libp2p/utils';
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from 'pino';
import { FrameGuard } from './frame-guard.ts';
import { TunnelError, TunnelErrorCode } from './errors.ts';
import { libp2pLogger } from './libp2p-logger.ts';

// The muxer's buffer-list type, taken from the base class (several uint8arraylist majors are installed).
type SendPayload = Parameters<AbstractMessageStream['send']>[0];
type DataList = Parameters<AbstractMessageStream['sendData']>[0];

export interface TransportOptions {
  /** 'client' dials (odd stream ids), 'server' accepts (even stream ids). */
  role: 'client' | 'server';
  logger: Logger;
  /** Largest outbound message (WebSocket) and largest inbound Data frame payload accepted. */
  maxMessageBytes: number;
  maxDataFrameBytes: number;
  /** Above this many queued bytes `send` returns false and the muxer pauses its streams until 'drain'. */
  sendBufferBytes: number;
}

/** Why the transport ended: undefined for an orderly close, else a TunnelError. */
export type TransportEnd = TunnelError | undefined;

export abstract class TransportMessageStream extends AbstractMessageStream {
  readonly #guard: FrameGuard;
  readonly #sendBufferBytes: number;
  /** Past this the peer is not reading (ping flood, stuck socket): the session is failed instead of buffering on. */
  readonly #hardLimitBytes: number;
  protected readonly maxMessage: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #needsDrain = false;
  #ended = false;
  #endReason: TransportEnd;
  /** Called once, before the muxer hears of the end, so the session can fail its streams with the real reason. */
  onEnd: ((reason: TransportEnd) => void) | undefined;

  constructor(opts: TransportOptions) {
    super({ log: libp2pLogger(opts.logger), direction: opts.role === 'client' ? 'outbound' : 'inbound' });
    this.#guard = new FrameGuard(opts.maxDataFrameBytes);
    this.#sendBufferBytes = opts.sendBufferBytes;
    this.#hardLimitBytes = 4 * (opts.sendBufferBytes + opts.maxDataFrameBytes);
    this.maxMessage = opts.maxMessageBytes;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get endReason(): TransportEnd {
    return this.#endReason;
  }

  /** Bytes accepted by the underlying transport but not yet on the wire. */
  protected abstract transportBufferedBytes(): number;
  /** Writes one batch; must call `written()` when the transport has taken it (for drain detection). */
  protected abstract writeBatch(chunks: Uint8Array[], bytes: number): void;
  /** False while the transport cannot take bytes yet (a connecting WebSocket); call `flushQueued` once it can. */
  protected writable(): boolean {
    return true;
  }
  protected abstract closeTransport(): void;
  protected abstract destroyTransport(): void;

  override send(data: SendPayload): boolean {
    if (this.#ended) return true; // frames after the end (GoAway, RST of an aborting muxer) are dropped
    if (data instanceof Uint8Array) this.#queue.push(data);
    else for (const chunk of data) this.#queue.push(chunk);
    this.#queuedBytes += data.byteLength;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    const buffered = this.#queuedBytes + this.transportBufferedBytes();
    if (buffered > this.#hardLimitBytes) {
      queueMicrotask(() =>
        this.fail(new TunnelError(TunnelErrorCode.Protocol, `peer is not reading: ${buffered} bytes queued`)),
      );
    }
    if (buffered >= this.#sendBufferBytes) {
      this.#needsDrain = true;
      return false;
    }
    return true;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#ended || this.#queuedBytes === 0 || !this.writable()) return;
    const queue = this.#queue;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.writeBatch(queue, bytes);
  };

  protected flushQueued(): void {
    this.#flush();
  }

  /** Subclasses call this when a batch left the user-space queue; emits 'drain' once below half the send buffer. */
  protected written(): void {
    if (!this.#needsDrain || this.#ended) return;
    if (this.#queuedBytes + this.transportBufferedBytes() > this.#sendBufferBytes / 2) return;
    this.#needsDrain = false;
    this.safeDispatchEvent('drain');
  }

  /** Subclasses feed every inbound chunk here. */
  protected received(chunk: Uint8Array): void {
    if (this.#ended) return;
    const problem = this.#guard.check(chunk);
    if (problem !== undefined) {
      this.fail(new TunnelError(TunnelErrorCode.Protocol, `invalid frame from peer: ${problem}`));
      return;
    }
    this.onData(chunk);
  }

  /** The transport is gone or must go: tell the session, then the muxer, then drop the connection. */
  fail(reason: TunnelError): void {
    this.#finish(reason);
    this.destroyTransport();
  }

  /** The transport closed underneath us; `reason` undefined means an orderly close by the peer. */
  protected transportClosed(reason: TransportEnd): void {
    this.#finish(reason);
  }

  #finish(reason: TransportEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.onEnd?.(reason);
    this.onTransportClosed(reason);
  }

  /** Orderly close: flush what is queued (e.g. GoAway), then close the transport. */
  override async close(): Promise<void> {
    if (this.#ended) return;
    this.#flush();
    this.#finish(undefined);
    this.closeTransport();
  }

  // The AbstractMessageStream write path is bypassed by `send`; these satisfy the abstract contract.
  sendData(data: DataList): SendResult {
    return { sentBytes: data.byteLength, canSendMore: this.send(data) };
  }

  /** The muxer aborts its transport when the peer breaks the protocol (bad flags, unexpected ping ack, …). */
  override abort(err: Error): void {
    if (!this.#ended) {
      this.fail(
        err instanceof TunnelError
          ? err
          : new TunnelError(TunnelErrorCode.Protocol, `yamux: ${err.message}`, { cause: err }),
      );
      return;
    }
    super.abort(err);
  }

  sendReset(): void {
    this.destroyTransport();
  }

  sendPause(): void {}
  sendResume(): void {}
}

/** A yamux transport over one `ws` WebSocket. Binary messages are a byte stream: boundaries carry no meaning. */
export class WebSocketTransport extends TransportMessageStream {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket, opts: TransportOptions) {
    super(opts);
    this.#ws = ws;
    ws.binaryType = 'nodebuffer';
    // ws throws on send() while CONNECTING, so frames written before 'open' stay queued until then.
    if (ws.readyState === ws.CONNECTING) ws.once('open', () => this.flushQueued());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        this.fail(new TunnelError(TunnelErrorCode.Protocol, 'text WebSocket message on the tunnel'));
        return;
      }
      if (Array.isArray(data)) for (const d of data) this.received(d);
      else this.received(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (code === 1000 || code === 1001) this.transportClosed(undefined);
      else
        this.transportClosed(
          new TunnelError(
            TunnelErrorCode.TransportClosed,
            `WebSocket closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`,
          ),
        );
    });
    ws.on('error', (err: Error) => {
      this.fail(new TunnelError(TunnelErrorCode.TransportClosed, `WebSocket error: ${err.message}`, { cause: err }));
    });
  }

  protected transportBufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  protected override writable(): boolean {
    return this.#ws.readyState !== this.#ws.CONNECTING;
  }

  protected writeBatch(chunks: Uint8Array[], bytes: number): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    const max = this.maxMessage;
    const onSent = (err?: Error): void => {
      if (err === undefined || err === null) this.written();
    };
    if (bytes <= max) {
      ws.send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes), { binary: true }, onSent);
      return;
    }
    const all = Buffer.concat(chunks, bytes);
    for (let off = 0; off < bytes; off += max)
      ws.send(all.subarray(off, Math.min(bytes, off + max)), { binary: true }, onSent);
  }

  protected closeTransport(): void {
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) this.#ws.close(1000);
  }

  protected destroyTransport(): void {
    this.#ws.terminate();
  }
}

/** A yamux transport over a Node Duplex (TCP socket, TLS socket, in-memory pair). */
export class DuplexTransport extends TransportMessageStream {
  readonly #socket: Duplex;

  constructor(socket: Duplex, opts: TransportOptions) {
    super(opts);
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => this.written());
    socket.on('error', (err: Error) => {
      this.fail(new TunnelError(TunnelErrorCode.TransportClosed, `transport error: ${err.message}`, { cause: err }));
    });
    socket.on('end', () => this.transportClosed(undefined));
    socket.on('close', () =>
      this.transportClosed(new TunnelError(TunnelErrorCode.TransportClosed, 'transport closed')),
    );
  }

  protected transportBufferedBytes(): number {
    return this.#socket.writableLength;
  }

  protected writeBatch(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  }

  protected closeTransport(): void {
    this.#socket.end();
  }

  protected destroyTransport(): void {
    this.#socket.destroy();
  }
}
