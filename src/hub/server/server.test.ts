// The hub's listener with real sockets over both protocols ALPN offers: h2 clients get HTTP/2, HTTP/1.1-only clients
// HTTP/1.1, upgrades work on HTTP/1.1, the routes answer Status JSON over HTTP/2, a watch through /clusters streams
// over an HTTP/2 stream, and no HTTP/2 pseudo-header leaves the hub.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import {
  Agent as HttpsAgent,
  createServer as createHttpsServer,
  request as httpsRequest,
  type Server as HttpsServer,
} from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { EdgeAccessReviewer } from '../edges/access-review.ts';
import { edgesProxyHandlers, type EdgesProxyDeps } from '../edges/edges-proxy.ts';
import { edgeRequestHeaders } from '../edges/tunnel-http.ts';
import { createMetrics } from '../metrics.ts';
import { tenantPath } from '../tenancy/tenants.ts';
import { ensureDevPki } from '../tls.ts';
import { forwardHeaders, kcpProxyHandler } from './kcp-proxy.ts';
import { createHubServer, H2_SETTINGS, MAX_HEADER_BYTES, type HubServer } from './server.ts';
import { readBody } from './body.ts';
import { sendStatus } from './status.ts';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kedge-server-'));
const pki = ensureDevPki(join(dir, 'pki'), ['127.0.0.1']);
const tls = { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) };
const ca = readFileSync(pki.caFile);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const user = { username: 'kedge:static:a', uid: 'a', groups: [], tenant: 'a' };
const authn = { authenticate: async (t: string) => (t === 'good-token' ? user : undefined) };
const watchPath = `/clusters/${tenantPath('a')}/api/v1/namespaces/default/configmaps?watch=1`;
const edgePath = '/services/edges-proxy/clusters/lc1/apis/kedge.faros.sh/v1alpha1/edges/e1/k8s/api/v1/pods';

/** A stand-in kcp (HTTP/1.1, like the hub's client to kcp): records request heads, streams watches on demand. */
class FakeKcp {
  readonly server: HttpsServer;
  readonly heads: IncomingHttpHeaders[] = [];
  readonly #watches: ServerResponse[] = [];
  #onWatch: (() => void) | undefined;
  constructor() {
    this.server = createHttpsServer(tls, (req: IncomingMessage, res: ServerResponse) => {
      this.heads.push(req.headers);
      if (!(req.url ?? '').includes('watch=1')) return sendStatus(res, 200, 'listed');
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.flushHeaders();
      this.#watches.push(res);
      this.#onWatch?.();
    });
  }
  /** Resolves once `n` watches are open. */
  watches(n: number): Promise<ServerResponse[]> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#watches.length >= n) resolve(this.#watches);
      };
      this.#onWatch = check;
      check();
    });
  }
}

let hub: HubServer;
let hubURL = '';
let kcp: FakeKcp;
let kcpURL = '';
const metrics = createMetrics();
const sockets = new Set<Socket>();
const upgrades: string[] = [];

function listen(server: HttpsServer | HubServer): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

beforeAll(async () => {
  kcp = new FakeKcp();
  kcpURL = await listen(kcp.server);
  const reviewer = { review: async () => ({ allowed: false }) } as unknown as EdgeAccessReviewer;
  const edges = edgesProxyHandlers({ authn, reviewer, log } as unknown as EdgesProxyDeps);
  hub = createHubServer(
    tls,
    {
      isReady: () => true,
      tokenLogin: (_q, s) => sendStatus(s, 401, 'Unauthorized'),
      // A bounded body like /auth/token-login's: over 64 KiB it is refused and the rest discarded (body.ts).
      tokenReview: (q, s) =>
        readBody(q, 64 * 1024).then(
          () => sendStatus(s, 200, 'read'),
          () => sendStatus(s, 413, 'too large'),
        ),
      kcpProxy: kcpProxyHandler({ kcpURL, kcpCA: ca }, authn, log),
      edgesProxy: (q, s) => edges.request(q, s),
      edgesProxyUpgrade: (q, socket, head) => edges.upgrade(q, socket, head),
      // A protocol switch that then echoes: stands in for the agent tunnel's WebSocket.
      agentProxyUpgrade: (q: IncomingMessage, socket: Duplex) => {
        upgrades.push(`HTTP/${q.httpVersion} ${q.headers.upgrade}`);
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
        socket.pipe(socket);
      },
    },
    metrics,
    log,
  );
  hub.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  hubURL = await listen(hub);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hub.close(r));
  kcp.server.closeAllConnections();
  await new Promise((r) => kcp.server.close(r));
});

interface Reply {
  status: number;
  headers: H2Headers;
  body: string;
}

function h2Session(): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(hubURL, { ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function h2Get(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    const chunks: Buffer[] = [];
    let head: H2Headers = {};
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () =>
      resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks).toString() }),
    );
    stream.on('error', reject);
  });
}

/** A client that offers only http/1.1 in ALPN, like Go's SPDY and WebSocket dialers. */
function h1Get(path: string, headers: Record<string, string> = {}): Promise<Reply & { alpn: string | false | null }> {
  const agent = new HttpsAgent({ ca, ALPNProtocols: ['http/1.1'] });
  return new Promise<Reply & { alpn: string | false | null }>((resolve, reject) => {
    const req = httpsRequest(`${hubURL}${path}`, { headers, agent }, (res) => {
      const alpn = (res.socket as TLSSocket).alpnProtocol;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), alpn }),
      );
    });
    req.on('error', reject);
    req.end();
  }).finally(() => agent.destroy());
}

async function connectionsByProtocol(): Promise<Record<string, number>> {
  const m = await metrics.connections.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels.protocol), v.value]));
}

describe('ALPN', () => {
  it('negotiates h2 with an HTTP/2 client and serves every request of the session on that connection', async () => {
    const before = await connectionsByProtocol();
    const session = await h2Session();
    expect(session.alpnProtocol).toBe('h2');
    const replies = await Promise.all([h2Get(session, '/healthz'), h2Get(session, '/readyz'), h2Get(session, '/x')]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 404]);
    expect(JSON.parse(replies[2]?.body ?? '')).toMatchObject({ kind: 'Status', code: 404 });
    expect((await connectionsByProtocol()).h2).toBe((before.h2 ?? 0) + 1);
    session.close();
  });

  it('answers an HTTP/1.1-only client over HTTP/1.1', async () => {
    const before = await connectionsByProtocol();
    const r = await h1Get('/healthz');
    expect({ status: r.status, alpn: r.alpn, body: r.body }).toEqual({ status: 200, alpn: 'http/1.1', body: 'ok' });
    expect((await connectionsByProtocol())['http/1.1']).toBe((before['http/1.1'] ?? 0) + 1);
  });

  it('advertises the stream and header limits', async () => {
    const session = await h2Session();
    const settings =
      session.remoteSettings.maxConcurrentStreams === H2_SETTINGS.maxConcurrentStreams
        ? session.remoteSettings
        : await new Promise<typeof session.remoteSettings>((r) => session.once('remoteSettings', r));
    expect(settings).toMatchObject(H2_SETTINGS);
    session.close();
  });
});

describe('upgrades stay on HTTP/1.1', () => {
  it('switch protocols on a route that takes upgrades, and the socket then carries raw bytes', async () => {
    expect.assertions(3);
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${hubURL}/services/agent-proxy/clusters/lc1/edges/e1/tunnel`, {
        ca,
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'echo' },
      });
      req.on('upgrade', (res: IncomingMessage, socket: Duplex) => {
        expect(res.statusCode).toBe(101);
        socket.once('data', (c: Buffer) => {
          resolve(c.toString());
          socket.destroy();
        });
        socket.write('ping');
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('ping');
    expect(upgrades).toContain('HTTP/1.1 echo');
  });

  it('refuse an unauthenticated upgrade on the edges-proxy with a 401 Status', async () => {
    const answer = await new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest(`${hubURL}${edgePath}`, {
        ca,
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1' },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      });
      req.on('upgrade', () => reject(new Error('upgraded without credentials')));
      req.on('error', reject);
      req.end();
    });
    expect({ status: answer.status, body: JSON.parse(answer.body) }).toMatchObject({
      status: 401,
      body: { kind: 'Status', code: 401, reason: 'Unauthorized' },
    });
  });
});

describe('routes over HTTP/2', () => {
  let session: ClientHttp2Session;
  beforeAll(async () => {
    session = await h2Session();
  });
  afterAll(() => session.close());

  it.each([
    ['/clusters without a token', watchPath, {}, 401, 'Unauthorized'],
    [
      '/clusters outside the tenants tree',
      '/clusters/root/api/v1/namespaces',
      { authorization: 'Bearer good-token' },
      403,
      'Forbidden',
    ],
    ['the edges-proxy without a token', edgePath, {}, 401, 'Unauthorized'],
    [
      'the edges-proxy without the proxy permission',
      edgePath,
      { authorization: 'Bearer good-token' },
      403,
      'Forbidden',
    ],
    ['token login', '/auth/token-login', {}, 401, 'Unauthorized'],
  ])('%s: a Status JSON', async (_what, path, headers, code, reason) => {
    const r = await h2Get(session, path, headers);
    expect({ status: r.status, type: r.headers['content-type'], body: JSON.parse(r.body) }).toMatchObject({
      status: code,
      type: 'application/json',
      body: { kind: 'Status', status: 'Failure', code, reason },
    });
  });

  it('answers a header list over the limit with a 431 Status and resets one far over it, the connection going on', async () => {
    const over = await h2Get(session, '/readyz', { 'x-big': 'a'.repeat(MAX_HEADER_BYTES + 1) });
    expect({ status: over.status, body: JSON.parse(over.body) }).toMatchObject({
      status: 431,
      body: { kind: 'Status', code: 431, reason: 'RequestHeaderFieldsTooLarge' },
    });
    expect(JSON.parse(over.body).message).toContain(String(MAX_HEADER_BYTES));
    await expect(h2Get(session, '/readyz', { 'x-big': 'a'.repeat(H2_SETTINGS.maxHeaderListSize) })).rejects.toThrow(
      /NGHTTP2_ENHANCE_YOUR_CALM/,
    );
    expect((await h2Get(session, '/readyz', { 'x-ok': 'a'.repeat(MAX_HEADER_BYTES - 1024) })).status).toBe(200);
  });

  it('cuts an oversized upload by resetting its stream only: the connection and its other streams go on', async () => {
    const upload = session.request({
      ':method': 'POST',
      ':path': '/authn/tokenreview',
      'content-length': String(4 * 1024 * 1024),
    });
    upload.on('error', () => {});
    upload.resume();
    const status = new Promise<number>((resolve) => upload.once('response', (h) => resolve(Number(h[':status']))));
    upload.end(Buffer.alloc(4 * 1024 * 1024, 0x20));
    expect(await status).toBe(413);
    await new Promise((r) => (upload.closed ? r(undefined) : upload.once('close', r)));
    expect(upload.rstCode).toBe(0); // NGHTTP2_NO_ERROR: the hub closed this stream after discarding 1 MiB
    expect((await h2Get(session, '/healthz')).status).toBe(200);
    expect(session.destroyed).toBe(false);
  });

  it('streams a /clusters watch: headers before the first event, then each event, no pseudo-header to kcp, and a cancel reaches kcp', async () => {
    expect.assertions(5);
    const seen = kcp.heads.length;
    const stream = session.request({ ':path': watchPath, authorization: 'Bearer good-token' });
    const head = await new Promise<H2Headers>((resolve) => stream.once('response', resolve));
    expect(head[':status']).toBe(200);
    const [watch] = (await kcp.watches(1)).slice(-1);
    const events = ['{"type":"ADDED"}\n', '{"type":"MODIFIED"}\n'];
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => {
        got.push(c.toString());
        if (got.length === 1) watch?.write(events[1]);
        else resolve();
      });
      watch?.write(events[0]);
    });
    expect(got).toEqual(events);
    const sent = kcp.heads[seen] ?? {};
    expect(Object.keys(sent).filter((k) => k.startsWith(':'))).toEqual([]);
    expect(sent.host).toBe(new URL(kcpURL).host); // kcp's own, not the hub's :authority
    // The client cancels its watch (RST_STREAM): the hub's request to kcp goes away too, nothing is left open.
    const upstreamClosed = new Promise((r) => watch?.once('close', r));
    stream.close();
    await upstreamClosed;
    expect(watch?.writableEnded).toBe(false);
  });

  it('closes a connection that had no stream open for the idle time', async () => {
    const quick = createHubServer(
      tls,
      { isReady: () => true, tokenLogin: () => {}, tokenReview: () => {}, kcpProxy: () => {} },
      createMetrics(),
      log,
      { h2IdleMs: 50 },
    );
    const url = await listen(quick);
    const idle = connect(url, { ca });
    const stream = idle.request({ ':path': '/healthz' });
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    await new Promise((r) => idle.once('goaway', r));
    await new Promise((r) => (idle.closed ? r(undefined) : idle.once('close', r)));
    expect(idle.closed).toBe(true);
    await new Promise((r) => quick.close(r));
  });
});

describe('forwarded request heads', () => {
  const h2Head = {
    ':method': 'GET',
    ':path': '/api',
    ':authority': 'hub:8443',
    ':scheme': 'https',
    accept: 'application/json',
    authorization: 'Bearer t',
  };

  it('carry no HTTP/2 pseudo-header to kcp', () => {
    expect(forwardHeaders(h2Head)).toEqual({ accept: 'application/json', authorization: 'Bearer t' });
  });

  it('carry no HTTP/2 pseudo-header to the edge', () => {
    expect(edgeRequestHeaders(h2Head, undefined)).toEqual({
      accept: 'application/json',
      host: 'kubernetes',
      connection: 'keep-alive',
    });
  });
});
