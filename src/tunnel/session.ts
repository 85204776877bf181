// TunnelSession: one yamux session (hashicorp spec, via @chainsafe/libp2p-yamux) over one WebSocket or Duplex.
// Owns stream accept/open with typed headers, stream limits, keepalive with timeout, and the session close reason.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { verifyConfig } from './config.ts';
import type { TunnelConfig } from './config.ts';
import { TunnelError, TunnelErrorCode, isTunnelError } from './errors.ts';
import { encodeStreamHeader, readStreamHeader } from './header.ts';
import type { StreamHeader } from './header.ts';
import { TunnelStream } from './stream.ts';
import { DuplexTransport, WebSocketTransport } from './transport.ts';
import type { TransportEnd, TransportMessageStream, TransportOptions } from './transport.ts';

export type SessionRole = 'client' | 'server';

/** Called for each inbound stream once its header has been read; the stream is paused at the first body byte. */
export type StreamHandler = (stream: TunnelStream, header: StreamHeader) => void;

export interface SessionOptions {
  /** The agent dials as 'client' (odd stream ids), the hub accepts as 'server' (even stream ids). */
  role: SessionRole;
  logger: Logger;
  config?: Partial<TunnelConfig>;
  onStream?: StreamHandler;
}

export interface SessionEvents {
  /** Emitted once. `reason` is undefined for an orderly close (local `close()` or peer GoAway), else why it failed. */
  close: [reason: TunnelError | undefined];
}

type YamuxMuxer = ReturnType<ReturnType<ReturnType<typeof yamux>>['createStreamMuxer']>;

let nextSessionId = 1;

export class TunnelSession extends EventEmitter<SessionEvents> {
  readonly id = nextSessionId++;
  readonly role: SessionRole;
  readonly config: TunnelConfig;
  readonly #logger: Logger;
  readonly #transport: TransportMessageStream;
  readonly #muxer: YamuxMuxer;
  readonly #streams = new Set<TunnelStream>();
  #handler: StreamHandler | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #pinging = false;
  #closed = false;
  #closeReason: TunnelError | undefined;
  #rttMs = -1;

  /** Use createWebSocketSession / createDuplexSession. */
  constructor(makeTransport: (opts: TransportOptions) => TransportMessageStream, opts: SessionOptions) {
    super();
    this.config = verifyConfig(opts.config);
    this.role = opts.role;
    this.#logger = opts.logger.child({ component: 'tunnel', session: this.id, role: opts.role });
    this.#handler = opts.onStream;
    const c = this.config;
    this.#transport = makeTransport({
      role: opts.role,
      logger: this.#logger,
      maxMessageBytes: c.maxMessageBytes,
      maxDataFrameBytes: c.maxStreamWindowBytes,
      sendBufferBytes: c.sendBufferBytes,
    });
    this.#transport.onEnd = this.#onTransportEnd;
    this.#muxer = yamux({
      enableKeepAlive: false, // ours below has a timeout; libp2p's only logs a failed ping
      maxInboundStreams: c.maxInboundStreams,
      maxOutboundStreams: c.maxOutboundStreams,
      streamOptions: {
        initialStreamWindowSize: c.initialStreamWindowBytes,
        maxStreamWindowSize: c.maxStreamWindowBytes,
        // A paused stream holds at most one window of unread data; more means the peer ignored the window.
        maxReadBufferLength: c.maxStreamWindowBytes + c.initialStreamWindowBytes,
      },
    })().createStreamMuxer(this.#transport);
    this.#muxer.addEventListener('stream', (evt) => this.#accept(evt.detail));
    // Runs after the muxer's own listener: a Go Away from the peer closes the muxer but not the socket under it.
    this.#transport.addEventListener('message', this.#afterFrames);
    if (c.keepAliveIntervalMs > 0) {
      this.#keepAlive = setInterval(() => this.#ping(), c.keepAliveIntervalMs);
      this.#keepAlive.unref();
    }
    this.#logger.debug('tunnel session open');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the session closed: undefined while open or after an orderly close. */
  get closeReason(): TunnelError | undefined {
    return this.#closeReason;
  }

  /** Streams open on this session in either direction. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Last keepalive round trip in ms, -1 before the first. */
  get rttMs(): number {
    return this.#rttMs;
  }

  /** Sets the handler for inbound streams. Without one, inbound streams are reset. */
  onStream(handler: StreamHandler): void {
    this.#handler = handler;
  }

  /** Opens a stream and writes `header` as its first bytes. Fails with SESSION_CLOSED, STREAMS_EXHAUSTED or HEADER_TOO_LARGE. */
  async openStream(header: StreamHeader): Promise<TunnelStream> {
    const encoded = encodeStreamHeader(header, this.config.maxHeaderBytes);
    if (this.#closed) throw this.#closedError();
    let ys: YamuxStream;
    try {
      ys = await this.#muxer.createStream();
    } catch (err) {
      if (this.#closed || this.#muxer.status !== 'open') throw this.#closedError();
      throw new TunnelError(TunnelErrorCode.StreamsExhausted, `cannot open stream: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const stream = this.#track(ys);
    stream.header = header;
    stream.write(encoded);
    return stream;
  }

  /** Sends a yamux ping and resolves with the round trip in ms. */
  async ping(timeoutMs = this.config.keepAliveTimeoutMs): Promise<number> {
    if (this.#closed) throw this.#closedError();
    this.#rttMs = await this.#muxer.ping({ signal: AbortSignal.timeout(timeoutMs) });
    return this.#rttMs;
  }

  /**
   * Closes the session: open streams are reset (their users see SESSION_CLOSED, or `reason`), GoAway is sent and the
   * transport closed. `reason` is reported in the 'close' event, e.g. SESSION_REPLACED from the registry.
   */
  async close(reason?: TunnelError): Promise<void> {
    if (this.#closed) return;
    const streamError = reason ?? new TunnelError(TunnelErrorCode.SessionClosed, 'session closed locally');
    for (const stream of [...this.#streams]) stream.destroy(streamError);
    this.#closeReason = reason;
    await this.#muxer.close();
    await this.#transport.close();
  }

  #track(ys: YamuxStream): TunnelStream {
    const stream = new TunnelStream(ys);
    this.#streams.add(stream);
    stream.once('close', () => this.#streams.delete(stream));
    stream.on('error', () => {}); // owners attach their own; an unhandled reset must not crash the process
    return stream;
  }

  #accept(ys: YamuxStream): void {
    const stream = this.#track(ys);
    const handler = this.#handler;
    if (handler === undefined) {
      this.#logger.debug({ stream: stream.streamId }, 'no stream handler: resetting inbound stream');
      stream.destroy();
      return;
    }
    readStreamHeader(stream, {
      maxHeaderBytes: this.config.maxHeaderBytes,
      timeoutMs: this.config.headerTimeoutMs,
    }).then(
      (header) => {
        stream.header = header;
        try {
          handler(stream, header);
        } catch (err) {
          this.#logger.error({ stream: stream.streamId, err }, 'stream handler threw: resetting stream');
          stream.destroy(err as Error);
        }
      },
      (err: unknown) => {
        if (!stream.destroyed) {
          this.#logger.info(
            { stream: stream.streamId, code: isTunnelError(err) ? err.code : undefined, err },
            'rejecting inbound stream',
          );
          stream.destroy(err as Error);
        }
      },
    );
  }

  readonly #afterFrames = (): void => {
    if (this.#closed || this.#muxer.status === 'open') return;
    const code = (this.#muxer as unknown as { remoteGoAway?: number }).remoteGoAway;
    if (code === 0) {
      void this.#transport.close();
      return;
    }
    const why = code === undefined ? 'the muxer closed' : `peer sent Go Away with code ${code}`;
    this.#transport.fail(new TunnelError(TunnelErrorCode.SessionClosed, why));
  };

  #ping(): void {
    if (this.#pinging || this.#closed) return;
    this.#pinging = true;
    this.ping().then(
      () => {
        this.#pinging = false;
      },
      (err: unknown) => {
        this.#pinging = false;
        if (this.#closed) return;
        const reason = new TunnelError(
          TunnelErrorCode.KeepAliveTimeout,
          `no ping reply within ${this.config.keepAliveTimeoutMs} ms`,
          { cause: err },
        );
        this.#transport.fail(reason);
      },
    );
  }

  readonly #onTransportEnd = (reason: TransportEnd): void => {
    if (this.#closed) return;
    this.#closed = true;
    if (reason !== undefined) this.#closeReason = reason;
    clearInterval(this.#keepAlive);
    // Fail streams with the real reason before the muxer closes them as if nothing happened.
    if (reason !== undefined) this.#muxer.abort(reason);
    for (const stream of [...this.#streams]) stream.destroy(this.#closedError());
    const why = this.#closeReason;
    if (why === undefined) this.#logger.info('tunnel session closed');
    else this.#logger.info({ code: why.code, reason: why.message }, 'tunnel session closed');
    this.emit('close', why);
  };

  #closedError(): TunnelError {
    return this.#closeReason ?? new TunnelError(TunnelErrorCode.SessionClosed, 'session is closed');
  }
}

/** Options for a `ws` WebSocketServer or client carrying a tunnel: no compression, bounded messages. */
export function webSocketOptions(config?: Partial<TunnelConfig>): { perMessageDeflate: false; maxPayload: number } {
  return { perMessageDeflate: false, maxPayload: verifyConfig(config).maxMessageBytes };
}

/** A session over a `ws` WebSocket (open or still connecting; frames written while connecting are queued by ws). */
export function createWebSocketSession(ws: WebSocket, opts: SessionOptions): TunnelSession {
  return new TunnelSession((t) => new WebSocketTransport(ws, t), opts);
}

/** A session over a Node Duplex: a TCP or TLS socket, or an in-memory pair in tests. */
export function createDuplexSession(socket: Duplex, opts: SessionOptions): TunnelSession {
  return new TunnelSession((t) => new DuplexTransport(socket, t), opts);
}
