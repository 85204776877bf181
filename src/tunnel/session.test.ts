// Session behaviour over every transport (in-memory duplex, TCP, WebSocket): integrity with many concurrent streams in
// both directions, half-close, reset, backpressure, header and stream limits, orderly close.
import { describe, it, expect, afterEach } from '@jest/globals';
import { TunnelErrorCode, isTunnelError } from './errors.ts';
import { StreamKind } from './header.ts';
import type { TunnelStream } from './stream.ts';
import { poll } from '../util/wait.ts';
import {
  echoHandler,
  onceClosed,
  payload,
  readAll,
  sessionPair,
  sha256,
  streamError,
  transportKinds,
  writeAll,
} from './test-support.ts';
import type { SessionPair } from './test-support.ts';

let pair: SessionPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function echoRoundTrip(opener: SessionPair['client'], bytes: number): Promise<void> {
  const data = payload(bytes);
  const stream = await opener.openStream({ kind: StreamKind.PingTest });
  const [, back] = await Promise.all([writeAll(stream, data), readAll(stream)]);
  expect(back.length).toBe(bytes);
  expect(sha256(back)).toBe(sha256(data));
}

describe.each(transportKinds)('tunnel session over %s', (kind) => {
  it('carries 40 concurrent streams each way with intact data (sha256)', async () => {
    pair = await sessionPair(kind, { onServerStream: echoHandler, onClientStream: echoHandler });
    const { client, server } = pair;
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => echoRoundTrip(client, 64 * 1024 + i * 7919)),
      ...Array.from({ length: 20 }, (_, i) => echoRoundTrip(server, 64 * 1024 + i * 104729)),
      echoRoundTrip(client, 3 * 1024 * 1024),
    ]);
    expect(client.streamCount).toBe(0);
    expect(server.streamCount).toBe(0);
  });

  it('delivers the stream header and the body bytes after it', async () => {
    let seen: unknown;
    pair = await sessionPair(kind, {
      onServerStream: (stream, header) => {
        seen = header;
        readAll(stream).then(
          (body) => stream.end(`got ${body.toString()}`),
          () => {},
        );
      },
    });
    const stream = await pair.client.openStream({ kind: StreamKind.Ssh, mode: 'raw' });
    stream.end('hello');
    expect((await readAll(stream)).toString()).toBe('got hello');
    expect(seen).toEqual({ kind: 'ssh', mode: 'raw' });
  });

  it('half-close: after the opener sends FIN the acceptor can still write, then both sides end', async () => {
    pair = await sessionPair(kind, {
      onServerStream: (stream) => {
        stream.once('end', () => {
          stream.write('reply-after-fin');
          stream.end();
        });
        stream.resume();
      },
    });
    const stream = await pair.client.openStream({ kind: StreamKind.PingTest });
    const closed = new Promise((r) => stream.once('close', r));
    stream.end('request');
    const reply = await readAll(stream);
    expect(reply.toString()).toBe('reply-after-fin');
    await closed;
    expect(stream.errored).toBeNull();
  });

  it('reset: destroy() on one side fails the peer stream with STREAM_RESET and leaves the session usable', async () => {
    const accepted: TunnelStream[] = [];
    pair = await sessionPair(kind, {
      onServerStream: (stream, header) =>
        header.kind === StreamKind.PingTest ? stream.pipe(stream) : accepted.push(stream),
    });
    const stream = await pair.client.openStream({ kind: StreamKind.K8s });
    stream.write('partial');
    await poll(async () => accepted[0], { what: 'the server accepted the stream', timeoutMs: 5_000, intervalMs: 5 });
    const failed = streamError(accepted[0]!);
    stream.destroy();
    const err = await failed;
    expect(isTunnelError(err, TunnelErrorCode.StreamReset)).toBe(true);
    await echoRoundTrip(pair.client, 1024);
    expect(pair.client.closed).toBe(false);
  });

  it('backpressure: a reader that does not read bounds what the writer can queue', async () => {
    const accepted: TunnelStream[] = [];
    pair = await sessionPair(kind, { onServerStream: (stream) => void accepted.push(stream) });
    const stream = await pair.client.openStream({ kind: StreamKind.PingTest });
    const data = payload(48 * 1024 * 1024);
    let accepted_ = 0;
    let blocked = false;
    for (let off = 0; off < data.length && !blocked; off += 64 * 1024) {
      accepted_ += 64 * 1024;
      if (!stream.write(data.subarray(off, off + 64 * 1024))) {
        // Bounded on purpose: no drain within 500 ms is what "blocked" means here (the reader never reads).
        await Promise.race([new Promise((r) => stream.once('drain', r)), new Promise((r) => setTimeout(r, 500))]);
        blocked = stream.writableNeedDrain;
      }
    }
    // Nothing reads on the far side: the writer stalls after window + buffers, far below 48 MiB.
    expect(blocked).toBe(true);
    expect(accepted_).toBeLessThan(16 * 1024 * 1024);
    // Once the reader reads, everything arrives intact.
    const rest = data.subarray(accepted_);
    const received = readAll(accepted[0]!);
    await writeAll(stream, rest);
    const got = await received;
    expect(got.length).toBe(data.length);
    expect(sha256(got)).toBe(sha256(data));
  }, 30_000);

  it('an oversized header resets only that stream', async () => {
    pair = await sessionPair(kind, {
      clientConfig: { maxHeaderBytes: 1024 * 1024 },
      serverConfig: { maxHeaderBytes: 1024 },
      onServerStream: echoHandler,
    });
    const big = await pair.client.openStream({ kind: StreamKind.K8s, pad: 'x'.repeat(4096) });
    const err = await streamError(big);
    expect(isTunnelError(err, TunnelErrorCode.StreamReset)).toBe(true);
    const unknown = await pair.client.openStream({ kind: 'telnet' as typeof StreamKind.K8s });
    expect(isTunnelError(await streamError(unknown), TunnelErrorCode.StreamReset)).toBe(true);
    await echoRoundTrip(pair.client, 4096);
  });

  it('refuses a header over the local limit before opening', async () => {
    pair = await sessionPair(kind, { clientConfig: { maxHeaderBytes: 64 } });
    await expect(pair.client.openStream({ kind: StreamKind.K8s, pad: 'x'.repeat(100) })).rejects.toMatchObject({
      code: TunnelErrorCode.HeaderTooLarge,
    });
    expect(pair.client.streamCount).toBe(0);
  });

  it('stream limits: inbound streams beyond the limit are reset, outbound opens beyond it fail', async () => {
    const held: TunnelStream[] = [];
    pair = await sessionPair(kind, {
      serverConfig: { maxInboundStreams: 3 },
      clientConfig: { maxOutboundStreams: 6 },
      onServerStream: (stream) => void held.push(stream),
    });
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => pair!.client.openStream({ kind: StreamKind.PingTest })),
    );
    // Positive signals, not a timeout: the server accepted 3 and two resets arrived; the 3 others are then open.
    const outcomes: unknown[] = streams.map(() => 'open');
    // (The destroy() at the end closes the open ones without an error: that rejection is expected and ignored.)
    streams.forEach(
      (s, i) =>
        void streamError(s).then(
          (e) => (outcomes[i] = (e as { code?: string }).code),
          () => undefined,
        ),
    );
    await poll(
      async () => (held.length === 3 && outcomes.filter((o) => o !== 'open').length === 2 ? true : undefined),
      { what: '3 streams accepted and 2 reset', timeoutMs: 5_000, intervalMs: 5 },
    );
    expect(outcomes.filter((o) => o === TunnelErrorCode.StreamReset)).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(3);
    expect(held).toHaveLength(3);
    // The client still counts the 3 live streams against its own limit of 6.
    const more = await Promise.all(
      Array.from({ length: 3 }, () => pair!.client.openStream({ kind: StreamKind.PingTest })),
    );
    await expect(pair.client.openStream({ kind: StreamKind.PingTest })).rejects.toMatchObject({
      code: TunnelErrorCode.StreamsExhausted,
    });
    for (const s of [...streams, ...more]) s.destroy();
    expect(pair.client.closed).toBe(false);
    expect(pair.server.closed).toBe(false);
  });

  it('orderly close: the peer sees a close without error and open streams fail with SESSION_CLOSED', async () => {
    const held: TunnelStream[] = [];
    pair = await sessionPair(kind, { onServerStream: (stream) => void held.push(stream) });
    const stream = await pair.client.openStream({ kind: StreamKind.PingTest });
    stream.write('x');
    await poll(async () => held[0], { what: 'the server accepted the stream', timeoutMs: 5_000, intervalMs: 5 });
    const serverClosed = onceClosed(pair.server);
    const localErr = streamError(stream);
    const remoteErr = streamError(held[0]!);
    await pair.client.close();
    expect((await serverClosed).reason).toBeUndefined();
    expect(isTunnelError(await localErr, TunnelErrorCode.SessionClosed)).toBe(true);
    expect(await remoteErr).toBeInstanceOf(Error);
    await expect(pair.client.openStream({ kind: StreamKind.PingTest })).rejects.toMatchObject({
      code: TunnelErrorCode.SessionClosed,
    });
  });
});
