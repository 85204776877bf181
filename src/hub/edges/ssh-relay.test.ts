// The hub's SSH relay between a WebSocket client and an `ssh` tunnel stream, over an in-memory yamux pair whose
// client side plays the agent: it connects each ssh stream to a local TCP server standing in for sshd. Checks the
// byte relay (binary-safe, both directions, backpressure), each close code, the keepalive and the audit record.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { SshCloseCode } from '../../api/ssh.ts';
import { sessionPair, type SessionPair } from '../../tunnel/test-support.ts';
import { poll } from '../../util/wait.ts';
import type { SshSessionRecord } from './ssh-audit.ts';
import { SshRelay } from './ssh-relay.ts';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function until(cond: () => boolean, what: string): Promise<true> {
  return poll(() => Promise.resolve(cond()), { what, timeoutMs: 5_000, intervalMs: 10 });
}

async function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

interface Rig {
  url: string;
  relay: SshRelay;
  pair: SessionPair;
  records: SshSessionRecord[];
  sshd: Socket[];
}

/** sshd stand-in ← "agent" (pipes ssh streams to it) ← yamux ← SshRelay ← HTTP upgrade front. */
async function rig(sshd: (s: Socket) => void, opts: { keepAliveMs?: number; sshdPort?: number } = {}): Promise<Rig> {
  const sockets: Socket[] = [];
  const fake = createServer((s) => {
    sockets.push(s);
    sshd(s);
  });
  const port = opts.sshdPort ?? (await listen(fake));
  const pair = await sessionPair('memory', {
    onClientStream: (stream) => {
      const tcp = connect(port, '127.0.0.1');
      tcp.on('error', () => stream.destroy());
      stream.on('error', () => tcp.destroy());
      stream.pipe(tcp).pipe(stream);
    },
  });
  cleanups.push(() => pair.close());
  const records: SshSessionRecord[] = [];
  const relay = new SshRelay({ log, keepAliveMs: opts.keepAliveMs ?? 60_000, onEnd: (r) => records.push(r) });
  cleanups.push(() => {
    relay.stop();
    for (const s of sockets) s.destroy();
  });
  const front = createHttpServer();
  front.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const user = { username: 'alice', uid: 'u', groups: [], tenant: 't' };
    void relay.upgrade({ cluster: 'lc', edge: 'pi', user, session: pair.server }, req, socket, head);
  });
  const frontPort = await listen(front);
  cleanups.push(() => front.closeAllConnections());
  return { url: `ws://127.0.0.1:${frontPort}/ssh`, relay, pair, records, sshd: sockets };
}

function open(url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
}

describe('SshRelay', () => {
  it('relays bytes both ways unchanged, 16 MiB with backpressure, and audits the byte counts', async () => {
    const r = await rig((s) => s.pipe(s)); // echo
    const ws = await open(r.url);
    const payload = randomBytes(16 * 1024 * 1024);
    const got = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve) =>
      ws.on('message', (b: Buffer) => {
        got.update(b);
        received += b.length;
        if (received === payload.length) resolve();
      }),
    );
    for (let off = 0; off < payload.length; off += 256 * 1024) ws.send(payload.subarray(off, off + 256 * 1024));
    await done;
    expect(got.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    const c = closed(ws);
    ws.close(1000);
    expect((await c).code).toBe(1000);
    await until(() => r.records.length === 1, 'r.records.length === 1');
    expect(r.records[0]).toMatchObject({
      user: 'alice',
      cluster: 'lc',
      edge: 'pi',
      ended: 'client_closed',
      bytesToEdge: payload.length,
      bytesToClient: payload.length,
    });
    // The client's close reaches "sshd" as a FIN.
    await until(() => r.sshd[0]?.readableEnded === true, 'r.sshd[0]?.readableEnded === true');
  });

  it('sshd closing the connection closes the WebSocket with 1000', async () => {
    const r = await rig((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
    const ws = await open(r.url);
    const first = new Promise<string>((res) => ws.once('message', (b: Buffer) => res(b.toString())));
    const c = closed(ws);
    expect(await first).toBe('SSH-2.0-OpenSSH_9.2\r\n');
    expect(await c).toEqual({ code: SshCloseCode.Normal, reason: 'the SSH server closed the connection' });
    await until(() => r.records[0]?.ended === 'sshd_closed', 'r.records[0]?.ended === sshd_closed');
  });

  it('an edge that cannot reach sshd resets the stream → 4002', async () => {
    const probe = createServer();
    await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
    const unused = (probe.address() as AddressInfo).port;
    await new Promise<void>((res) => probe.close(() => res())); // nothing listens there now: connect is refused
    const r = await rig(() => {}, { sshdPort: unused });
    const ws = await open(r.url);
    expect((await closed(ws)).code).toBe(SshCloseCode.EdgeReset);
    expect(r.records[0]?.ended).toBe('edge_reset');
  });

  it("the edge's tunnel going away mid-session → 4001", async () => {
    const r = await rig(() => {});
    const ws = await open(r.url);
    await until(() => r.sshd.length === 1, 'r.sshd.length === 1');
    const c = closed(ws);
    await r.pair.client.close();
    expect((await c).code).toBe(SshCloseCode.EdgeDisconnected);
    expect(r.records[0]?.ended).toBe('edge_disconnected');
  });

  it('a text message is a protocol error (1003); nothing reaches sshd', async () => {
    const seen: Buffer[] = [];
    const r = await rig((s) => s.on('data', (b: Buffer) => seen.push(b)));
    const ws = await open(r.url);
    const c = closed(ws);
    ws.send('hello', { binary: false });
    expect((await c).code).toBe(1003);
    expect(Buffer.concat(seen).length).toBe(0);
    expect(r.records[0]?.ended).toBe('protocol_error');
  });

  it('pings an idle client and ends a session whose client stopped answering', async () => {
    const r = await rig(() => {}, { keepAliveMs: 100 });
    const live = await open(r.url);
    let pings = 0;
    live.on('ping', () => pings++);
    await until(() => pings >= 3, 'pings >= 3');
    expect(live.readyState).toBe(WebSocket.OPEN); // answered pings keep it open
    const deaf = await open(r.url, { autoPong: false });
    expect((await closed(deaf)).code).toBe(1006); // terminated: no close frame for a dead peer
    await until(() => r.records.some((x) => x.ended === 'keepalive_timeout'), 'the keepalive_timeout record');
    expect(live.readyState).toBe(WebSocket.OPEN);
  });

  it('stop() closes every session with 1001 and refuses new ones', async () => {
    const r = await rig(() => {});
    const ws = await open(r.url);
    const c = closed(ws);
    r.relay.stop();
    expect((await c).code).toBe(SshCloseCode.GoingAway);
    await until(() => r.records[0]?.ended === 'hub_stopping', 'r.records[0]?.ended === hub_stopping');
    await expect(open(r.url)).rejects.toThrow(/503/);
  });
});
