import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { pino } from 'pino';
import { EDGE_IDENTITY_HEADER, encodeEdgeIdentity } from '../../api/edge-identity.ts';
import { freePort } from '../../util/free-port.ts';
import { K8sProxy, forwardHeaders } from './k8s-proxy.ts';

/** Node-style flat [name, value, …] to pairs. */
const pairs = (flat: string[]): [string, string][] =>
  flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1] ?? ''] as [string, string]] : []));

describe('forwardHeaders', () => {
  it("drops the caller's identity and hop-by-hop headers, keeps the body's framing and sets the agent's", () => {
    const raw = pairs([
      'Host',
      'hub.example',
      'Authorization',
      'Bearer user',
      'Impersonate-User',
      'admin',
      'Impersonate-Extra-Scopes',
      'x',
      'X-Remote-User',
      'root',
      'Connection',
      'keep-alive, X-Secret',
      'X-Secret',
      's',
      'Keep-Alive',
      '5',
      'Accept',
      'application/json',
      'Transfer-Encoding',
      'chunked',
      'Proxy-Authorization',
      'p',
      'kedge-identity',
      'e30',
    ]);
    expect(forwardHeaders(raw, { host: '127.0.0.1:6443', authorization: 'Bearer agent', upgrade: false })).toEqual([
      ['Host', '127.0.0.1:6443'],
      ['Accept', 'application/json'],
      ['Transfer-Encoding', 'chunked'],
      ['Authorization', 'Bearer agent'],
    ]);
    expect(forwardHeaders(pairs(['Content-Length', '2']), { host: 'h', upgrade: false, close: true })).toEqual([
      ['Host', 'h'],
      ['Content-Length', '2'],
      ['Connection', 'close'],
    ]);
  });

  it('keeps Upgrade (normalised) for a protocol switch and omits Authorization for client-certificate identities', () => {
    const raw = pairs([
      'Connection',
      'keep-alive, Upgrade',
      'Upgrade',
      'SPDY/3.1',
      'X-Stream-Protocol-Version',
      'v4.channel.k8s.io',
      'Authorization',
      'Bearer u',
    ]);
    expect(forwardHeaders(raw, { host: 'h', upgrade: true, close: true })).toEqual([
      ['Host', 'h'],
      ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'SPDY/3.1'],
    ]);
  });
});

const identity = encodeEdgeIdentity({
  user: 'kedge:static:acme',
  uid: 'static-acme',
  groups: ['kedge:users', 'kedge:tenant:acme'],
  tenant: 'acme',
  role: 'view',
});

describe('K8sProxy over a socket (stand-in for a tunnel stream)', () => {
  let upstream: Server;
  let front: NetServer;
  let proxy: K8sProxy;
  let frontPort = 0;
  const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
  const raw = new Set<{ destroy(): void }>();

  beforeAll(async () => {
    let connId = 0;
    upstream = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { kedgeConn?: number };
      socket.kedgeConn ??= ++connId;
      seen.push({ url: req.url, headers: { ...req.headers, 'x-conn': String(socket.kedgeConn) } });
      if (req.url?.startsWith('/prefix/watch')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"type":"ADDED"}\n');
        setTimeout(() => res.end('{"type":"DELETED"}\n'), 300);
        return;
      }
      const body: Buffer[] = [];
      req.on('data', (b: Buffer) => body.push(b));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body: Buffer.concat(body).toString() }));
      });
    });
    upstream.on('upgrade', (req, socket) => {
      seen.push({ url: req.url, headers: req.headers });
      raw.add(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      socket.on('data', (b: Buffer) => socket.write(Buffer.from(b.toString().toUpperCase())));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const addr = upstream.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    proxy = new K8sProxy(
      {
        url: new URL(`http://127.0.0.1:${addr.port}/prefix`),
        rejectUnauthorized: true,
        authorization: () => 'Bearer agent-token',
      },
      pino({ level: 'silent' }),
    );
    front = createNetServer((socket) => {
      raw.add(socket);
      proxy.handle(socket);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const f = front.address();
    if (f === null || typeof f === 'string') throw new Error('no port');
    frontPort = f.port;
  });

  afterAll(async () => {
    proxy.close();
    for (const s of raw) s.destroy();
    await new Promise((r) => front.close(r));
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it("forwards with the agent's credentials as the hub's caller, streams the body, and closes when the caller says Connection: close", async () => {
    const res = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: frontPort,
          method: 'POST',
          path: '/api/v1/namespaces/a/configmaps',
          headers: {
            authorization: 'Bearer user-token',
            'impersonate-user': 'system:admin',
            'impersonate-group': 'system:masters',
            'content-type': 'application/json',
            [EDGE_IDENTITY_HEADER]: identity,
          },
          agent: false,
        },
        (r) => {
          let body = '';
          r.on('data', (b: Buffer) => (body += b.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        },
      );
      req.on('error', reject);
      req.end('{"x":1}');
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({ method: 'POST', body: '{"x":1}' });
    expect(res.headers.connection).toBe('close');
    const last = seen.at(-1);
    expect(last?.url).toBe('/prefix/api/v1/namespaces/a/configmaps');
    expect(last?.headers.authorization).toBe('Bearer agent-token');
    expect(last?.headers['impersonate-user']).toBe('kedge:static:acme');
    // Node joins repeated request headers with ', ' (the API server sees separate lines).
    expect(last?.headers['impersonate-group']).toBe('kedge:users, kedge:tenant:acme, kedge:edge:view');
    expect(last?.headers['impersonate-uid']).toBe('static-acme');
    expect(last?.headers[EDGE_IDENTITY_HEADER]).toBeUndefined();
  });

  it('refuses a request or an upgrade without a valid identity (403 Status, nothing sent upstream)', async () => {
    const before = seen.length;
    for (const h of [undefined, 'garbage!', encodeEdgeIdentity({ user: 'system:admin', groups: [], tenant: 'acme' })]) {
      const res = await getOnce(frontPort, '/api/v1/pods', {
        authorization: 'Bearer user',
        ...(h === undefined ? {} : { [EDGE_IDENTITY_HEADER]: h }),
      });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({
        kind: 'Status',
        code: 403,
        details: { causes: [{ type: 'KEDGE_AGENT_EDGE_IDENTITY_INVALID' }] },
      });
    }
    const socket = connect(frontPort, '127.0.0.1');
    socket.write(
      'POST /api/v1/namespaces/a/pods/p/exec?command=sh HTTP/1.1\r\nHost: hub\r\n' +
        'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n',
    );
    let got = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (b: Buffer) => (got += b.toString()));
      socket.on('close', () => resolve());
    });
    expect(got).toMatch(/^HTTP\/1.1 403 Forbidden/);
    expect(got).toContain('KEDGE_AGENT_EDGE_IDENTITY_INVALID');
    expect(seen.length).toBe(before);
  });

  it('delivers a watch event before the upstream response ends', async () => {
    const started = Date.now();
    const firstAt = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: frontPort,
          path: '/watch?watch=true',
          headers: { [EDGE_IDENTITY_HEADER]: identity },
          agent: false,
        },
        (r) => {
          r.once('data', () => resolve(Date.now() - started));
          r.resume();
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(firstAt).toBeLessThan(250);
  });

  it('pipes raw bytes after a 101 (exec, port-forward)', async () => {
    const socket = connect(frontPort, '127.0.0.1');
    socket.write(
      'POST /api/v1/namespaces/a/pods/p/exec?command=sh HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer user\r\n' +
        `Impersonate-User: system:admin\r\n${EDGE_IDENTITY_HEADER}: ${identity}\r\n` +
        'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
    );
    let got = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (b: Buffer) => {
        got += b.toString();
        if (got.includes('\r\n\r\n') && !got.includes('HELLO')) socket.write('hello');
        if (got.includes('HELLO')) resolve();
      });
    });
    socket.destroy();
    expect(got).toMatch(/^HTTP\/1.1 101/);
    const last = seen.at(-1);
    expect(last?.url).toBe('/prefix/api/v1/namespaces/a/pods/p/exec?command=sh');
    expect(last?.headers.authorization).toBe('Bearer agent-token');
    expect(last?.headers.upgrade).toBe('SPDY/3.1');
    expect(last?.headers['x-stream-protocol-version']).toBe('v4.channel.k8s.io');
    expect(last?.headers['impersonate-user']).toBe('kedge:static:acme');
    expect(last?.headers['impersonate-group']).toBe('kedge:users, kedge:tenant:acme, kedge:edge:view');
  });

  it('relays keep-alive and pipelined requests on one stream over one upstream connection, bodies unparsed', async () => {
    const before = seen.length;
    const socket = connect(frontPort, '127.0.0.1');
    const h = `Host: hub\r\n${EDGE_IDENTITY_HEADER}: ${identity}\r\n`;
    socket.write(
      `POST /a HTTP/1.1\r\n${h}Content-Length: 3\r\n\r\nabc` +
        `POST /b HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n` +
        `GET /c HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    );
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString()));
    await new Promise((r) => socket.once('close', r));
    expect(got.match(/HTTP\/1\.1 201/g)).toHaveLength(3);
    expect(got).toContain('{"method":"POST","body":"abc"}');
    expect(got).toContain('{"method":"POST","body":"def"}');
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/prefix/a', '/prefix/b', '/prefix/c']);
    expect(new Set(seen.slice(before).map((s) => s.headers['x-conn'])).size).toBe(1);
  });

  it('answers a malformed request 400 and closes, sending nothing upstream', async () => {
    const before = { seen: seen.length, malformed: proxy.stats.malformed };
    for (const bad of [
      `GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n${EDGE_IDENTITY_HEADER}: ${identity}\r\n\r\n`,
      'garbage\r\n\r\n',
    ]) {
      const socket = connect(frontPort, '127.0.0.1');
      socket.write(bad);
      let got = '';
      socket.on('data', (b: Buffer) => (got += b.toString()));
      await new Promise((r) => socket.once('close', r));
      expect(got).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
      expect(got).toContain('"kind":"Status"');
    }
    expect(seen.length).toBe(before.seen);
    expect(proxy.stats.malformed).toBe(before.malformed + 2);
  });

  it('answers 502 Status when the local API server is down', async () => {
    const down = new K8sProxy(
      {
        url: new URL(`http://127.0.0.1:${await freePort()}`),
        rejectUnauthorized: true,
        authorization: () => undefined,
      },
      pino({ level: 'silent' }),
    );
    const srv = createNetServer((s) => down.handle(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    const res = await getOnce(a.port, '/version', { [EDGE_IDENTITY_HEADER]: identity });
    down.close();
    await new Promise((r) => srv.close(r));
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: 502 });
  });
});

/** One GET on a fresh connection to 127.0.0.1:`port`: the status and the whole body. */
function getOnce(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
