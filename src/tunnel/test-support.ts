// Test helpers for the tunnel: session pairs over an in-memory duplex, TCP and WebSocket (the same cases run on each),
// a TCP proxy that can silently stop forwarding (a cut cable), and byte pumps with SHA-256 digests.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { TunnelConfig } from './config.ts';
import { createDuplexSession, createWebSocketSession, webSocketOptions } from './session.ts';
import type { StreamHandler, TunnelSession } from './session.ts';

export const testLogger: Logger = pino({ level: process.env.KEDGE_TEST_LOG ?? 'silent' });

export type TransportKind = 'memory' | 'tcp' | 'websocket';
export const transportKinds: TransportKind[] = ['memory', 'tcp', 'websocket'];

export interface SessionPair {
  client: TunnelSession;
  server: TunnelSession;
  close(): Promise<void>;
}

export interface PairOptions {
  clientConfig?: Partial<TunnelConfig>;
  serverConfig?: Partial<TunnelConfig>;
  onServerStream?: StreamHandler;
  onClientStream?: StreamHandler;
}

const quiet: Partial<TunnelConfig> = { keepAliveIntervalMs: 0 };

/** Two in-memory Duplexes wired back to back. */
export function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return [Duplex.from({ readable: bToA, writable: aToB }), Duplex.from({ readable: aToB, writable: bToA })];
}

export async function tcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((r) => client.once('connect', r));
  const socket = await accepted;
  server.close();
  return [client, socket];
}

export interface WsEndpoint {
  url: string;
  /** Resolves with the next accepted server-side WebSocket. */
  accept(): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function wsServer(config?: Partial<TunnelConfig>): Promise<WsEndpoint> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, ...webSocketOptions(config) });
  const waiting: ((ws: WebSocket) => void)[] = [];
  const ready: WebSocket[] = [];
  wss.on('connection', (ws) => {
    const w = waiting.shift();
    if (w) w(ws);
    else ready.push(ws);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    accept: () => new Promise((r) => (ready.length > 0 ? r(ready.shift()!) : waiting.push(r))),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => http.close(r));
    },
  };
}

export async function sessionPair(kind: TransportKind, opts: PairOptions = {}): Promise<SessionPair> {
  const clientOpts = {
    role: 'client' as const,
    logger: testLogger,
    config: { ...quiet, ...opts.clientConfig },
    onStream: opts.onClientStream,
  };
  const serverOpts = {
    role: 'server' as const,
    logger: testLogger,
    config: { ...quiet, ...opts.serverConfig },
    onStream: opts.onServerStream,
  };
  let cleanup = async (): Promise<void> => {};
  let client: TunnelSession;
  let server: TunnelSession;
  if (kind === 'memory') {
    const [a, b] = duplexPair();
    client = createDuplexSession(a, clientOpts);
    server = createDuplexSession(b, serverOpts);
  } else if (kind === 'tcp') {
    const [a, b] = await tcpPair();
    client = createDuplexSession(a, clientOpts);
    server = createDuplexSession(b, serverOpts);
    cleanup = async () => {
      a.destroy();
      b.destroy();
    };
  } else {
    const endpoint = await wsServer(opts.serverConfig);
    const ws = new WebSocket(endpoint.url, webSocketOptions(opts.clientConfig));
    client = createWebSocketSession(ws, clientOpts);
    server = createWebSocketSession(await endpoint.accept(), serverOpts);
    cleanup = () => endpoint.close();
  }
  return {
    client,
    server,
    close: async () => {
      await client.close();
      await server.close();
      await cleanup();
    },
  };
}

/** A handler that echoes every stream back (what the acceptor of a 'ping-test' stream does). */
export const echoHandler: StreamHandler = (stream) => {
  stream.pipe(stream);
};

export function sha256(data: Buffer | Buffer[]): string {
  const h = createHash('sha256');
  for (const b of Array.isArray(data) ? data : [data]) h.update(b);
  return h.digest('hex');
}

/** Writes `payload` in chunks honouring backpressure, then ends. */
export async function writeAll(stream: Duplex, payload: Buffer, chunk = 32 * 1024): Promise<void> {
  for (let off = 0; off < payload.length; off += chunk) {
    if (!stream.write(payload.subarray(off, off + chunk))) {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error): void => reject(e);
        stream.once('error', onErr);
        stream.once('drain', () => (stream.off('error', onErr), resolve()));
      });
    }
  }
  stream.end();
}

/** Reads until end; rejects on error. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

export function payload(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** Resolves with the error a stream fails with (rejects if it ends cleanly). */
export function streamError(stream: Duplex): Promise<Error> {
  return new Promise((resolve, reject) => {
    stream.once('error', resolve);
    stream.once('close', () => setImmediate(() => reject(new Error('stream closed without error'))));
    stream.resume();
  });
}

/** A TCP proxy to `target` whose `freeze()` silently drops everything from then on, like a cut cable. */
export async function freezableProxy(targetPort: number): Promise<{ port: number; freeze(): void; close(): void }> {
  let frozen = false;
  const sockets: net.Socket[] = [];
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    sockets.push(inbound, outbound);
    inbound.on('data', (d) => frozen || outbound.write(d));
    outbound.on('data', (d) => frozen || inbound.write(d));
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => frozen || outbound.destroy());
    outbound.on('close', () => frozen || inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

export function onceClosed(
  session: TunnelSession,
): Promise<{ reason: Awaited<ReturnType<typeof closeReason>>; at: number }> {
  return closeReason(session).then((reason) => ({ reason, at: Date.now() }));
}

function closeReason(session: TunnelSession): Promise<TunnelSession['closeReason']> {
  if (session.closed) return Promise.resolve(session.closeReason);
  return new Promise((r) => session.once('close', r));
}
