// Window updates: the receiver grants window once half of it was consumed (as hashicorp/go-yamux do), not after every
// Data frame, so small exchanges cost no extra frames; large transfers still flow (see session.test.ts).
import { describe, expect, it } from '@jest/globals';
import type { Duplex } from 'node:stream';
import { StreamKind } from './header.ts';
import { createDuplexSession } from './session.ts';
import { duplexPair, payload, readAll, testLogger, writeAll } from './test-support.ts';

/** Counts Data frames and window-granting Window Update frames (not FIN/RST carriers) written to `socket`. */
function frameCounter(socket: Duplex): { windowUpdates: () => number; data: () => number } {
  let buf: Buffer = Buffer.alloc(0);
  let updates = 0;
  let data = 0;
  const write = socket.write.bind(socket);
  socket.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 12) {
      const type = buf[1];
      const id = buf.readUInt32BE(4);
      const len = type === 0 ? buf.readUInt32BE(8) : 0;
      if (buf.length < 12 + len) break;
      if (id !== 0 && type === 1 && (buf.readUInt16BE(2) & 0xc) === 0) updates++; // not a FIN/RST carrier
      if (id !== 0 && type === 0) data++;
      buf = buf.subarray(12 + len);
    }
    return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof socket.write;
  return { windowUpdates: () => updates, data: () => data };
}

describe('window updates', () => {
  it('100 small Data frames cost the receiver one Window Update (the ACK), not 100', async () => {
    const [a, b] = duplexPair();
    const fromServer = frameCounter(b);
    let received: Buffer = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => {
      const server = createDuplexSession(b, {
        role: 'server',
        logger: testLogger,
        config: { keepAliveIntervalMs: 0 },
        onStream: (s) =>
          void readAll(s).then((all) => {
            received = all;
            s.end();
            resolve();
          }),
      });
      void server;
    });
    const client = createDuplexSession(a, { role: 'client', logger: testLogger, config: { keepAliveIntervalMs: 0 } });
    const stream = await client.openStream({ kind: StreamKind.PingTest });
    for (let i = 0; i < 100; i++) {
      stream.write(Buffer.from(`message-${String(i).padStart(3, '0')}`));
      await new Promise((r) => setImmediate(r));
    }
    stream.end();
    await done;
    expect(received.length).toBe(1100);
    expect(fromServer.windowUpdates()).toBeLessThanOrEqual(1);
    await client.close();
  });

  it('grants window again once half of it was read: 1 MiB flows through a 256 KiB window', async () => {
    const [a, b] = duplexPair();
    const fromServer = frameCounter(b);
    const server = createDuplexSession(b, {
      role: 'server',
      logger: testLogger,
      config: { keepAliveIntervalMs: 0 },
      onStream: (s) => s.pipe(s),
    });
    const client = createDuplexSession(a, { role: 'client', logger: testLogger, config: { keepAliveIntervalMs: 0 } });
    const stream = await client.openStream({ kind: StreamKind.PingTest });
    const data = payload(1024 * 1024);
    const [, back] = await Promise.all([writeAll(stream, data), readAll(stream)]);
    expect(back.equals(data)).toBe(true);
    expect(fromServer.windowUpdates()).toBeGreaterThanOrEqual(2);
    expect(fromServer.windowUpdates()).toBeLessThan(fromServer.data());
    await client.close();
    await server.close();
  });
});
