// Hub and agent meet here (so neither imports the other): the hub's HTTP-over-tunnel forwarding against the agent's real K8sProxy over an in-memory yamux session pair:
// plain requests reuse pooled keep-alive streams, upgrades get a stream of their own, an agent that closes after each
// exchange still works, and the pool dies with its session.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { pino } from 'pino';
import { K8sProxy } from '../src/agent/tunnel/k8s-proxy.ts';
import { EDGE_IDENTITY_HEADER, encodeEdgeIdentity, type EdgeIdentity } from '../src/api/edge-identity.ts';
import { sessionPair, type SessionPair } from '../src/tunnel/test-support.ts';
import { StreamPool, forwardRequest, forwardUpgrade, streamPool } from '../src/hub/edges/tunnel-http.ts';
import { poll } from '../src/util/wait.ts';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** The identity the hub's edges-proxy would have resolved; the agent refuses a request without one. */
const caller: EdgeIdentity = { user: 'kedge:static:relay', groups: ['kedge:users'], tenant: 'relay', role: 'admin' };

/** upstream (the edge's API server) ← K8sProxy (agent) ← yamux ← front (the hub's forwarding). */
async function chain(
  opts: { agentClosesEachExchange?: boolean } = {},
): Promise<{ pair: SessionPair; proxy: K8sProxy; front: number; upstreamConnections: () => number }> {
  let conns = 0;
  const upstream = createServer((req, res) => {
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end('slow'), 50);
      return;
    }
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url })));
  });
  upstream.on('connection', () => conns++);
  upstream.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
    socket.on('data', (b: Buffer) => socket.write(b.toString().toUpperCase()));
    socket.on('end', () => socket.end());
  });
  const upPort = await listen(upstream);
  const proxy = new K8sProxy(
    { url: new URL(`http://127.0.0.1:${upPort}`), rejectUnauthorized: true, authorization: () => 'Bearer agent' },
    log,
  );
  cleanups.push(() => proxy.close());
  const pair = await sessionPair('memory', {
    onClientStream: (stream) => {
      if (opts.agentClosesEachExchange) {
        // An agent from before keep-alive: one exchange per stream, then Connection: close.
        const orig = stream.write.bind(stream);
        let patched = false;
        stream.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
          if (!patched && typeof chunk === 'string' && chunk.startsWith('HTTP/1.1')) {
            patched = true;
            chunk = chunk.replace(/\r\nConnection: keep-alive\r\n/i, '\r\nConnection: close\r\n');
          }
          return (orig as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof stream.write;
      }
      proxy.handle(stream);
    },
  });
  cleanups.push(() => pair.close());
  const front = createServer((req, res) => forwardRequest(pair.server, req, res, req.url ?? '/', log, caller));
  front.on('upgrade', (req: IncomingMessage, socket, head: Buffer) =>
    forwardUpgrade(pair.server, req, socket, head, req.url ?? '/', log, caller),
  );
  return { pair, proxy, front: await listen(front), upstreamConnections: () => conns };
}

function get(port: number, path: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP over tunnel streams', () => {
  it('reuses one pooled stream for sequential requests', async () => {
    const { pair, proxy, front } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    for (let i = 0; i < 5; i++) {
      const r = await get(front, `/api/v1/nodes/n${i}`, client);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ method: 'GET', url: `/api/v1/nodes/n${i}` });
    }
    expect(proxy.stats.requests).toBe(5);
    expect(pair.server.streamCount).toBe(1);
    expect(streamPool(pair.server).idleStreams).toBe(1);
  });

  it('opens more streams for concurrent requests and keeps them for the next ones', async () => {
    const { pair, front } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    const first = await Promise.all(Array.from({ length: 4 }, (_, i) => get(front, `/slow/${i}`, client)));
    expect(first.map((r) => r.body)).toEqual(['slow', 'slow', 'slow', 'slow']);
    expect(pair.server.streamCount).toBe(4);
    await Promise.all(Array.from({ length: 4 }, (_, i) => get(front, `/slow/${i}`, client)));
    expect(pair.server.streamCount).toBe(4);
  });

  it('gives an upgrade a stream of its own, piped raw after the 101', async () => {
    const { pair, front } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    await get(front, '/version', client);
    const socket = connect(front, '127.0.0.1');
    socket.write(
      'POST /api/v1/namespaces/a/pods/p/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n',
    );
    let got = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (b: Buffer) => {
        got += b.toString();
        if (got.includes('\r\n\r\n') && !got.includes('HELLO')) socket.write('hello');
        if (got.includes('HELLO')) resolve();
      });
    });
    expect(got).toMatch(/^HTTP\/1.1 101/);
    expect(pair.server.streamCount).toBe(2); // the idle pooled stream + the upgrade's
    expect(streamPool(pair.server).idleStreams).toBe(1);
    socket.end();
    await new Promise((r) => socket.once('close', r));
    await poll(async () => (pair.server.streamCount <= 1 ? true : undefined), {
      what: 'the upgrade stream closed',
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    expect(pair.server.streamCount).toBe(1);
  });

  it('works with an agent that closes the stream after each exchange (no reuse)', async () => {
    const { pair, proxy, front } = await chain({ agentClosesEachExchange: true });
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    for (let i = 0; i < 3; i++) expect((await get(front, `/x/${i}`, client)).status).toBe(200);
    expect(proxy.stats.requests).toBe(3);
    await poll(async () => (pair.server.streamCount === 0 ? true : undefined), {
      what: 'every stream closed',
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    expect(streamPool(pair.server).idleStreams).toBe(0);
  });

  it('closes a stream idle for longer than idleMs; the next request opens a new one', async () => {
    const { pair, proxy } = await chain();
    const pool = new StreamPool(pair.server, { idleMs: 30 });
    const viaPool = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const headers = { connection: 'keep-alive', [EDGE_IDENTITY_HEADER]: encodeEdgeIdentity(caller) };
        const req = request({ agent: pool, path, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await viaPool('/a')).toBe(200);
    expect(pool.idleStreams).toBe(1);
    // FIN both ways, not a reset
    await poll(async () => (pair.server.streamCount === 0 ? true : undefined), {
      what: 'the idle stream closed',
      timeoutMs: 5_000,
      intervalMs: 5,
    });
    expect(pool.idleStreams).toBe(0);
    expect(await viaPool('/b')).toBe(200);
    expect(proxy.stats.requests).toBe(2);
  });

  it('drops the pool with its session: the next request gets 502', async () => {
    const { pair, front } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    await get(front, '/version', client);
    await pair.server.close();
    expect(streamPool(pair.server).idleStreams).toBe(0);
    const r = await get(front, '/version', client);
    expect(r.status).toBe(502);
  });
});
