// Hostile input on the WebSocket: each garbage frame closes only the session it arrived on, with PROTOCOL, while a
// second session on the same server keeps working.
import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { WebSocket } from 'ws';
import { TunnelErrorCode } from './errors.ts';
import { StreamKind } from './header.ts';
import { createWebSocketSession, webSocketOptions } from './session.ts';
import type { TunnelSession } from './session.ts';
import { echoHandler, onceClosed, payload, readAll, sha256, testLogger, writeAll, wsServer } from './test-support.ts';
import type { WsEndpoint } from './test-support.ts';

function frame(version: number, type: number, flags: number, streamId: number, length: number, body?: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt8(version, 0);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(flags, 2);
  h.writeUInt32BE(streamId, 4);
  h.writeUInt32BE(length, 8);
  return body === undefined ? h : Buffer.concat([h, body]);
}
const SYN = 1;
const ACK = 2;

const cases: [string, (ws: WebSocket) => void][] = [
  ['random garbage bytes', (ws) => ws.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))],
  ['a bad version', (ws) => ws.send(frame(1, 0, 0, 0, 0))],
  ['an unknown frame type', (ws) => ws.send(frame(0, 9, 0, 1, 0))],
  ['a data frame longer than any window (header only)', (ws) => ws.send(frame(0, 0, SYN, 1, 0xfffffff0))],
  [
    'data beyond the granted stream window',
    (ws) => {
      ws.send(frame(0, 1, SYN, 1, 0)); // open stream 1 with the default 256 KiB window
      ws.send(frame(0, 0, 0, 1, 300 * 1024, Buffer.alloc(300 * 1024)));
    },
  ],
  ['an unsolicited ping ACK', (ws) => ws.send(frame(0, 2, ACK, 0, 7))],
  ['a data frame on stream 0', (ws) => ws.send(frame(0, 0, 0, 0, 4, Buffer.alloc(4)))],
  ['a text message', (ws) => ws.send('hello')],
];

describe('hostile frames on the tunnel WebSocket', () => {
  let endpoint: WsEndpoint;
  let goodServer: TunnelSession;
  let goodClient: TunnelSession;

  beforeAll(async () => {
    endpoint = await wsServer();
    goodClient = createWebSocketSession(new WebSocket(endpoint.url, webSocketOptions()), {
      role: 'client',
      logger: testLogger,
    });
    goodServer = createWebSocketSession(await endpoint.accept(), {
      role: 'server',
      logger: testLogger,
      onStream: echoHandler,
      config: { keepAliveIntervalMs: 0 },
    });
  });

  afterAll(async () => {
    await goodClient.close();
    await goodServer.close();
    await endpoint.close();
  });

  it.each(cases)('%s closes that session with PROTOCOL; the other session keeps working', async (_name, attack) => {
    const raw = new WebSocket(endpoint.url, webSocketOptions());
    await new Promise((r) => raw.once('open', r));
    const victim = createWebSocketSession(await endpoint.accept(), {
      role: 'server',
      logger: testLogger,
      onStream: echoHandler,
      config: { keepAliveIntervalMs: 0 },
    });
    const rawClosed = new Promise<number>((r) => raw.once('close', r));
    // Traffic on the healthy session runs while the attack happens.
    const data = payload(2 * 1024 * 1024);
    const healthy = (async () => {
      const s = await goodClient.openStream({ kind: StreamKind.PingTest });
      const [, back] = await Promise.all([writeAll(s, data), readAll(s)]);
      return sha256(back);
    })();
    attack(raw);
    const { reason } = await onceClosed(victim);
    expect(reason?.code).toBe(TunnelErrorCode.Protocol);
    await rawClosed;
    expect(await healthy).toBe(sha256(data));
    expect(goodServer.closed).toBe(false);
    expect(goodClient.closed).toBe(false);
  });

  it.each([
    ['normal', 0, undefined],
    ['protocol error', 1, TunnelErrorCode.SessionClosed],
  ])('a Go Away (%s) from a peer that keeps the socket open closes that session', async (_name, code, expected) => {
    const raw = new WebSocket(endpoint.url, webSocketOptions());
    await new Promise((r) => raw.once('open', r));
    const victim = createWebSocketSession(await endpoint.accept(), {
      role: 'server',
      logger: testLogger,
      config: { keepAliveIntervalMs: 0 },
    });
    raw.send(frame(0, 3, 0, 0, code));
    const { reason } = await onceClosed(victim);
    expect(reason?.code).toBe(expected);
    expect(goodServer.closed).toBe(false);
    raw.terminate();
  });

  it('a ping flood from a peer that does not read closes that session instead of buffering without bound', async () => {
    const raw = new WebSocket(endpoint.url, webSocketOptions());
    await new Promise((r) => raw.once('open', r));
    const victim = createWebSocketSession(await endpoint.accept(), {
      role: 'server',
      logger: testLogger,
      config: { keepAliveIntervalMs: 0, sendBufferBytes: 16 * 1024, maxStreamWindowBytes: 256 * 1024 },
    });
    raw.pause(); // never read the ping ACKs
    const pings = Buffer.concat(Array.from({ length: 8192 }, (_, i) => frame(0, 2, SYN, 0, i)));
    let closed = false;
    const done = onceClosed(victim).then((c) => ((closed = true), c));
    for (let i = 0; i < 2000 && !closed; i++) {
      raw.send(pings);
      await new Promise((r) => setImmediate(r));
    }
    const { reason } = await done;
    expect(reason?.code).toBe(TunnelErrorCode.Protocol);
    expect(reason?.message).toContain('not reading');
    expect(goodServer.closed).toBe(false);
    raw.terminate();
  }, 30_000);

  it('a message over maxPayload closes only that session', async () => {
    const raw = new WebSocket(endpoint.url, { perMessageDeflate: false });
    await new Promise((r) => raw.once('open', r));
    const victim = createWebSocketSession(await endpoint.accept(), {
      role: 'server',
      logger: testLogger,
      config: { keepAliveIntervalMs: 0 },
    });
    raw.send(Buffer.alloc(webSocketOptions().maxPayload + 1));
    const { reason } = await onceClosed(victim);
    expect(reason?.code).toBe(TunnelErrorCode.TransportClosed);
    expect(goodServer.closed).toBe(false);
    expect(await goodClient.ping()).toBeGreaterThanOrEqual(0);
  });
});
