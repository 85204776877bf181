// The hub's HTTP limits with real sockets: oversized headers (431 Status), bounded bodies (413 Status, the rest
// discarded), and kcp's early answers relayed through the /clusters proxy instead of a 502.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMetrics } from '../metrics.ts';
import { tenantPath } from '../tenancy/tenants.ts';
import { ensureDevPki } from '../tls.ts';
import { readBody, BodyTooLargeError } from './body.ts';
import { kcpProxyHandler } from './kcp-proxy.ts';
import { createHubServer, MAX_HEADER_BYTES, type HubServer } from './server.ts';
import { sendStatus } from './status.ts';
import { upload as send } from './test-upload.ts';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'kedge-limits-'));
const pki = ensureDevPki(join(dir, 'pki'), ['127.0.0.1']);
const tls = { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) };
const ca = readFileSync(pki.caFile);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listen(server: HttpServer | HttpsServer | HubServer, scheme: 'http' | 'https'): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }),
  );
}

/** The hub's server has no closeAllConnections: the tests' clients close their own connections. */
function close(server: HttpServer | HttpsServer | HubServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe('oversized headers', () => {
  let hub: HubServer;
  let url = '';
  beforeAll(async () => {
    hub = createHubServer(
      tls,
      {
        isReady: () => true,
        tokenLogin: (_q, s) => sendStatus(s, 401, 'Unauthorized'),
        tokenReview: () => {},
        kcpProxy: () => {},
      },
      createMetrics(),
      log,
    );
    url = await listen(hub, 'https');
  });
  afterAll(() => close(hub));

  it('answer 431 with a Status naming the limit', async () => {
    const a = await send(url, { ca, path: '/clusters/root', headers: { 'x-big': 'a'.repeat(17 * 1024) } });
    expect(a.status).toBe(431);
    expect(a.json()).toMatchObject({ kind: 'Status', code: 431, reason: 'RequestHeaderFieldsTooLarge' });
    expect(a.json().message).toContain(String(MAX_HEADER_BYTES));
  });

  it('still serve requests just under the limit', async () => {
    const a = await send(url, {
      ca,
      method: 'GET',
      path: '/readyz',
      headers: { 'x-big': 'a'.repeat(MAX_HEADER_BYTES - 1024) },
    });
    expect(a.status).toBe(200);
  });
});

describe('bounded bodies', () => {
  let server: HttpServer;
  let url = '';
  beforeAll(async () => {
    server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      readBody(req, 64 * 1024).then(
        (b) => sendStatus(res, 200, `read ${b.length}`),
        (err: unknown) => sendStatus(res, err instanceof BodyTooLargeError ? 413 : 500, (err as Error).message),
      );
    });
    url = await listen(server, 'http');
  });
  afterAll(() => close(server));

  it('read a body within the limit', async () => {
    expect((await send(url, { ca, path: '/', size: 64 * 1024 })).json().message).toBe(`read ${64 * 1024}`);
  });

  it('answer 413 to a declared Content-Length over the limit', async () => {
    const a = await send(url, { ca, path: '/', size: 1_000_000 });
    expect(a.status).toBe(413);
    expect(a.json()).toMatchObject({
      kind: 'Status',
      reason: 'RequestEntityTooLarge',
      message: 'the request body exceeds the limit of 65536 bytes',
    });
  });

  it('answer 413 to a chunked body that grows over the limit, and close a 50 MB upload instead of reading it all', async () => {
    const a = await send(url, { ca, path: '/', size: 50 * 1024 * 1024, chunked: true });
    expect(a.status).toBe(413);
  });
});

describe('the /clusters proxy', () => {
  let kcp: HttpsServer;
  let front: HttpServer;
  let hub: HubServer;
  let url = '';
  let hubURL = '';
  let kcpRead = 0;
  beforeAll(async () => {
    // Answers like kube-apiserver behind Go's net/http: reads up to its limit, answers 413, half-closes, and
    // closes for good a moment later while the client may still be uploading.
    kcp = createHttpsServer(tls, (req, res) => {
      let read = 0;
      req.on('data', (c: Buffer) => {
        read += c.length;
        kcpRead += c.length;
        if (read > 3 * 1024 * 1024 && !res.headersSent) {
          req.pause();
          res.on('finish', () => {
            req.socket.end();
            setTimeout(() => req.socket.destroy(), 300);
          });
          sendStatus(res, 413, 'Request entity too large: limit is 3145728');
        }
      });
      req.on('end', () => {
        if (!res.headersSent) sendStatus(res, 201, `stored ${read}`);
      });
    });
    const kcpURL = await listen(kcp, 'https');
    const authn = {
      authenticate: async (t: string) =>
        t === 'good-token' ? { username: 'kedge:static:a', uid: 'a', groups: [], tenant: 'a' } : undefined,
    };
    const proxy = kcpProxyHandler({ kcpURL, kcpCA: ca }, authn, log);
    front = createHttpServer((req, res) => void proxy(req, res));
    url = await listen(front, 'http');
    hub = createHubServer(
      tls,
      { isReady: () => true, tokenLogin: () => {}, tokenReview: () => {}, kcpProxy: proxy },
      createMetrics(),
      log,
    );
    hubURL = await listen(hub, 'https');
  });
  afterAll(async () => {
    await close(hub);
    await close(front);
    await close(kcp);
  });

  const path = `/clusters/${tenantPath('a')}/api/v1/namespaces/default/configmaps`;

  it('relays a small body and kcp’s answer', async () => {
    const a = await send(url, { ca, path, size: 1024, headers: { authorization: 'Bearer good-token' } });
    expect(a.status).toBe(201);
  });

  it('relays kcp’s early 413 for a 20 MB body instead of answering 502, and stops uploading', async () => {
    kcpRead = 0;
    const a = await send(url, { ca, path, size: 20 * 1024 * 1024, headers: { authorization: 'Bearer good-token' } });
    expect(a.status).toBe(413);
    expect(a.json()).toMatchObject({
      kind: 'Status',
      code: 413,
      message: 'Request entity too large: limit is 3145728',
    });
    expect(kcpRead).toBeLessThan(20 * 1024 * 1024);
  });

  it('relays kcp’s early 413 to an HTTP/2 client through the hub’s listener, and stops uploading', async () => {
    kcpRead = 0;
    const a = await send(hubURL, {
      ca,
      path,
      size: 20 * 1024 * 1024,
      headers: { authorization: 'Bearer good-token' },
      http2: true,
    });
    expect(a.status).toBe(413);
    expect(a.json()).toMatchObject({ kind: 'Status', code: 413 });
    expect(kcpRead).toBeLessThan(20 * 1024 * 1024);
  });
});
