// Hub and agent meet here (so neither imports the other): the hub's HTTP-over-tunnel forwarding against the agent's real K8sProxy over an in-memory yamux session pair:
// plain requests reuse pooled keep-alive streams, upgrades get a stream of their own, `Connection: close` from either
// side ends the stream, pipelined requests and bodies larger than the tunnel window pass, a caller that goes away
// leaves no stream behind on any end, and the pool dies with its session.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
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

interface Chain {
  pair: SessionPair;
  proxy: K8sProxy;
  front: number;
  upstreamConnections: () => number;
  /** Requests the upstream server is still answering (a watch the caller left must end here too). */
  upstreamOpen: () => number;
}

/** upstream (the edge's API server) ← K8sProxy (agent) ← yamux ← front (the hub's forwarding). */
async function chain(): Promise<Chain> {
  let conns = 0;
  let open = 0;
  const upstream = createServer((req, res) => {
    open++;
    res.on('close', () => open--);
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end('slow'), 50);
      return;
    }
    if (req.url?.startsWith('/watch')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      return; // held open until the caller goes away
    }
    if (req.url?.startsWith('/close')) res.setHeader('connection', 'close'); // the API server ends the connection
    if (req.url?.startsWith('/chunked/')) {
      // Written in pieces without a length, as kube-apiserver writes an object over 2 KiB: chunked on the tunnel.
      const size = Number(req.url.slice('/chunked/'.length));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < size; i += 4096) res.write(Buffer.alloc(Math.min(4096, size - i), 'k'));
      res.end();
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (b: Buffer) => {
      bytes += b.length;
      hash.update(b);
    });
    req.on('end', () =>
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          ...(bytes > 0 ? { bytes, sha256: hash.digest('hex') } : {}),
        }),
      ),
    );
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
  const pair = await sessionPair('memory', { onClientStream: (stream) => proxy.handle(stream) });
  cleanups.push(() => pair.close());
  const front = createServer((req, res) => forwardRequest(pair.server, req, res, req.url ?? '/', log, caller));
  front.on('upgrade', (req: IncomingMessage, socket, head: Buffer) =>
    forwardUpgrade(pair.server, req, socket, head, req.url ?? '/', log, caller),
  );
  return {
    pair,
    proxy,
    front: await listen(front),
    upstreamConnections: () => conns,
    upstreamOpen: () => open,
  };
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

/** Waits (polling every 5 ms, up to 5 s) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  await poll(async () => (check() ? true : undefined), { what, timeoutMs: 5_000, intervalMs: 5 });
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

  it('sends an answer that arrives whole with its length, and streams a larger one', async () => {
    const { front } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    const fetchRaw = (path: string, method = 'GET') =>
      new Promise<{ headers: IncomingMessage['headers']; bytes: number }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: front, path, method, agent: client }, (res) => {
          let bytes = 0;
          res.on('data', (b: Buffer) => (bytes += b.length));
          res.on('end', () => resolve({ headers: res.headers, bytes }));
        });
        req.on('error', reject);
        req.end();
      });
    const small = await fetchRaw('/chunked/5000');
    expect(small.headers['content-length']).toBe('5000');
    expect(small.headers['transfer-encoding']).toBeUndefined();
    expect(small.bytes).toBe(5000);
    const large = await fetchRaw('/chunked/300000');
    expect(large.headers['transfer-encoding']).toBe('chunked');
    expect(large.bytes).toBe(300_000);
    const head = await fetchRaw('/chunked/5000', 'HEAD');
    expect(head.bytes).toBe(0);
    expect(head.headers['content-length']).toBeUndefined();
  });

  it('drops the stream when the API server says Connection: close; the next request opens a new one', async () => {
    const { pair, proxy, front, upstreamConnections } = await chain();
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    for (let i = 0; i < 3; i++) expect((await get(front, `/close/${i}`, client)).status).toBe(200);
    expect(proxy.stats.requests).toBe(3);
    expect(upstreamConnections()).toBe(3);
    await until(() => pair.server.streamCount === 0 && proxy.openStreams === 0, 'every stream closed on both ends');
    expect(streamPool(pair.server).idleStreams).toBe(0);
  });

  it('answers a caller that says Connection: close and keeps the tunnel stream for the next caller', async () => {
    const { pair, proxy, front } = await chain();
    for (let i = 0; i < 2; i++) {
      const r = await get(front, `/api/v1/x${i}`, new Agent({ keepAlive: false })); // Connection: close
      expect(r.status).toBe(200);
    }
    expect(proxy.stats.requests).toBe(2);
    expect(pair.server.streamCount).toBe(1); // the caller's close ends its connection to the hub, not the stream
    expect(streamPool(pair.server).idleStreams).toBe(1);
  });

  it('ends the stream when the hub says Connection: close', async () => {
    const { pair, proxy } = await chain();
    const pool = new StreamPool(pair.server);
    cleanups.push(() => pool.destroy());
    const headers = { connection: 'close', [EDGE_IDENTITY_HEADER]: encodeEdgeIdentity(caller) };
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ agent: pool, path: '/a', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    await until(() => pair.server.streamCount === 0 && proxy.openStreams === 0, 'the stream closed on both ends');
    expect(pool.idleStreams).toBe(0);
  });

  it('answers pipelined requests on one client connection in order', async () => {
    const { pair, proxy, front } = await chain();
    const socket = connect(front, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    const paths = ['/api/v1/a', '/slow/b', '/api/v1/c'];
    socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: hub\r\n\r\n`).join(''));
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString()));
    await until(() => (got.match(/HTTP\/1\.1 200/g) ?? []).length === 3 && got.endsWith('}'), 'three answers');
    const urls = [...got.matchAll(/"url":"([^"]+)"|^slow$/gm)].map((m) => m[1]);
    expect(urls).toEqual(['/api/v1/a', '/api/v1/c']);
    expect(got.indexOf('/api/v1/a')).toBeLessThan(got.indexOf('slow'));
    expect(got.indexOf('slow')).toBeLessThan(got.indexOf('/api/v1/c'));
    expect(proxy.stats.requests).toBe(3);
    // The hub forwards them side by side (one pooled stream each) and answers in order; every stream is back in the pool.
    await until(() => streamPool(pair.server).idleStreams === pair.server.streamCount, 'the streams back in the pool');
  });

  it('relays request bodies larger than the tunnel window, with a length or chunked', async () => {
    const { proxy, front } = await chain();
    const body = randomBytes(3 * 1024 * 1024 + 17); // the yamux window is 256 KiB (src/tunnel/config.ts)
    const sha256 = createHash('sha256').update(body).digest('hex');
    const client = new Agent({ keepAlive: true });
    cleanups.push(() => client.destroy());
    for (const chunked of [false, true]) {
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const headers: Record<string, string> = chunked ? {} : { 'content-length': String(body.length) };
        const req = request(
          { host: '127.0.0.1', port: front, method: 'PUT', path: '/big', agent: client, headers },
          (res) => {
            let text = '';
            res.on('data', (b: Buffer) => (text += b.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        if (chunked) for (let i = 0; i < body.length; i += 100_000) req.write(body.subarray(i, i + 100_000));
        else req.write(body);
        req.end();
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ method: 'PUT', url: '/big', bytes: body.length, sha256 });
    }
    // Both went over one kept-alive stream, the next head found after each body.
    expect((await get(front, '/after', client)).body).toContain('"/after"');
    expect(proxy.stats.requests).toBe(3);
    expect(proxy.stats.malformed).toBe(0);
  });

  it('leaves no stream open on the hub, the agent or the API server when the client goes away mid-response', async () => {
    const { pair, proxy, front, upstreamOpen } = await chain();
    const sockets = Array.from({ length: 3 }, () => connect(front, '127.0.0.1'));
    for (const s of sockets) s.write('GET /watch?watch=true HTTP/1.1\r\nHost: hub\r\n\r\n');
    await Promise.all(
      sockets.map((s) => new Promise<void>((resolve) => s.once('data', () => resolve()))), // the first event
    );
    expect(upstreamOpen()).toBe(3);
    expect(proxy.openStreams).toBe(3);
    for (const s of sockets) s.destroy();
    await until(
      () => pair.server.streamCount === 0 && proxy.openStreams === 0 && upstreamOpen() === 0,
      'the watches gone on the hub, the agent and the API server',
    );
    expect(proxy.upstreamConnections).toBe(0);
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
