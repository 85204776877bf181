import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, isAlreadyExists, isConflict, isForbidden, isGone, isNotFound, isUnauthorized } from './api-error.ts';
import { apply, applyStatus } from './apply.ts';
import { KubeClient } from './client.ts';
import { resourcePath } from './resource-path.ts';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

let server: Server | undefined;
let clients: KubeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  let connections = 0;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, seen, connections: () => connections };
}

function client(server: string, token?: string): KubeClient {
  const c = new KubeClient({ server, token, userAgent: 'kedge-test' });
  clients.push(c);
  return c;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
});

describe('KubeClient', () => {
  it('keeps the server path prefix, unescaped, and derives cluster clients', async () => {
    const srv = await serve((_req, res) => json(res, 200, { metadata: { name: 'x' } }));
    const c = client(`${srv.base}/clusters/root:kedge/`, 's3cret');
    await c.get(resourcePath({ version: 'v1', resource: 'configmaps', namespace: 'ns', name: 'x' }));
    await c
      .forCluster('root:kedge:tenants:a')
      .list('/apis/kedge.faros.sh/v1alpha1/edges', { labelSelector: 'a=b', limit: 5 });
    const vw = c.withServer(`${srv.base}/services/apiexport/2abc/kedge.faros.sh`);
    await vw.forCluster('*').list('/apis/kedge.faros.sh/v1alpha1/edges');
    await vw.forCluster('lc1').get('/apis/kedge.faros.sh/v1alpha1/edges/e1');
    await c.withPath('/extra').get('/api');
    expect(srv.seen.map((s) => s.url)).toEqual([
      '/clusters/root:kedge/api/v1/namespaces/ns/configmaps/x',
      '/clusters/root:kedge:tenants:a/apis/kedge.faros.sh/v1alpha1/edges?labelSelector=a%3Db&limit=5',
      '/services/apiexport/2abc/kedge.faros.sh/clusters/*/apis/kedge.faros.sh/v1alpha1/edges',
      '/services/apiexport/2abc/kedge.faros.sh/clusters/lc1/apis/kedge.faros.sh/v1alpha1/edges/e1',
      '/clusters/root:kedge/extra/api',
    ]);
    expect(srv.seen.every((s) => s.headers.authorization === 'Bearer s3cret')).toBe(true);
    expect(srv.seen[0]?.headers['user-agent']).toBe('kedge-test');
  });

  it('reuses one TCP connection for sequential requests, errors included, across derived clients', async () => {
    const srv = await serve((req, res) =>
      req.url?.endsWith('/missing')
        ? json(res, 404, status(404, 'NotFound', 'nope'))
        : json(res, 200, { metadata: {} }),
    );
    const c = client(`${srv.base}/clusters/root`);
    const other = c.forCluster('root:b');
    for (let i = 0; i < 20; i++) {
      await (i % 2 ? other : c).get('/api/v1/namespaces/default');
      await expect(c.get('/api/v1/missing')).rejects.toBeInstanceOf(ApiError);
    }
    expect(srv.seen).toHaveLength(40);
    expect(srv.connections()).toBe(1);
  });

  it('turns Status bodies and plain failures into typed ApiErrors', async () => {
    const replies: Record<string, [number, unknown]> = {
      '/nf': [404, status(404, 'NotFound', 'edges.kedge.faros.sh "e1" not found')],
      '/exists': [409, status(409, 'AlreadyExists', 'exists')],
      '/conflict': [409, status(409, 'Conflict', 'the object has been modified')],
      '/gone': [410, status(410, 'Expired', 'too old resource version')],
      '/forbidden': [403, status(403, 'Forbidden', 'no')],
      '/unauth': [401, status(401, 'Unauthorized', 'Unauthorized')],
      '/busy': [429, { ...status(429, 'TooManyRequests', 'slow down'), details: { retryAfterSeconds: 3 } }],
    };
    const srv = await serve((req, res) => {
      const reply = replies[req.url ?? ''];
      if (reply) return json(res, reply[0], reply[1]);
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('upstream down');
    });
    const c = client(srv.base);
    const err = async (p: string) =>
      c.get(p).then(
        () => undefined,
        (e: unknown) => e,
      );
    const nf = await err('/nf');
    expect(nf).toBeInstanceOf(ApiError);
    expect(nf).toMatchObject({ code: 404, reason: 'NotFound', method: 'GET', path: '/nf' });
    expect((nf as ApiError).status?.message).toBe('edges.kedge.faros.sh "e1" not found');
    expect(isNotFound(nf)).toBe(true);
    const exists = await err('/exists');
    expect([isAlreadyExists(exists), isConflict(exists)]).toEqual([true, false]);
    const conflict = await err('/conflict');
    expect([isAlreadyExists(conflict), isConflict(conflict)]).toEqual([false, true]);
    expect(isGone(await err('/gone'))).toBe(true);
    expect(isForbidden(await err('/forbidden'))).toBe(true);
    expect(isUnauthorized(await err('/unauth'))).toBe(true);
    expect(((await err('/busy')) as ApiError).retryAfterSeconds).toBe(3);
    expect(await err('/plain')).toMatchObject({ code: 503, reason: 'ServiceUnavailable', status: undefined });
    expect(isNotFound(new Error('404 not found'))).toBe(false);
  });

  it('sends patch content types, server-side apply parameters, DeleteOptions and status updates', async () => {
    const srv = await serve((_req, res) => json(res, 200, { metadata: { name: 'x' } }));
    const c = client(srv.base);
    const p = '/apis/kedge.faros.sh/v1alpha1/edges/e1';
    const obj = { apiVersion: 'kedge.faros.sh/v1alpha1', kind: 'Edge', metadata: { name: 'e1' } };
    await c.patch(p, { spec: { unschedulable: true } }, 'merge');
    await c.patch(p, [{ op: 'remove', path: '/spec/x' }], 'json');
    await apply(c, p, obj, { fieldManager: 'kedge-hub', force: true });
    await applyStatus(c, p, obj, { fieldManager: 'kedge-hub' });
    await c.updateStatus(p, obj);
    await c.delete(p, { propagationPolicy: 'Foreground' });
    await c.delete(p);
    expect(srv.seen.map((s) => [s.method, s.url, s.headers['content-type']])).toEqual([
      ['PATCH', p, 'application/merge-patch+json'],
      ['PATCH', p, 'application/json-patch+json'],
      ['PATCH', `${p}?fieldManager=kedge-hub&force=true`, 'application/apply-patch+yaml'],
      ['PATCH', `${p}/status?fieldManager=kedge-hub`, 'application/apply-patch+yaml'],
      ['PUT', `${p}/status`, 'application/json'],
      ['DELETE', p, 'application/json'],
      ['DELETE', p, undefined],
    ]);
    expect(JSON.parse(srv.seen[2]?.body ?? '')).toEqual(obj);
    expect(JSON.parse(srv.seen[5]?.body ?? '')).toMatchObject({
      kind: 'DeleteOptions',
      propagationPolicy: 'Foreground',
    });
  });

  it('follows continue tokens in listAll and fills apiVersion/kind of items', async () => {
    const srv = await serve((req, res) => {
      const u = new URL(req.url ?? '', 'http://x');
      const second = u.searchParams.get('continue') === 'tok';
      json(res, 200, {
        apiVersion: 'v1',
        kind: 'ConfigMapList',
        metadata: { resourceVersion: second ? '11' : '10', continue: second ? '' : 'tok' },
        items: [{ metadata: { name: second ? 'b' : 'a' } }],
      });
    });
    const got = await client(srv.base).listAll('/api/v1/configmaps', {}, { limit: 1 });
    expect(got.resourceVersion).toBe('11');
    expect(got.items).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
    ]);
    expect(srv.seen.map((s) => s.url)).toEqual([
      '/api/v1/configmaps?limit=1',
      '/api/v1/configmaps?limit=1&continue=tok',
    ]);
  });

  it('streams watch events whose lines and UTF-8 characters are split across chunks', async () => {
    const events = [
      { type: 'ADDED', object: { metadata: { name: 'ä-edge', resourceVersion: '5', annotations: { note: '雪' } } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '6' } } },
      { type: 'DELETED', object: { metadata: { name: 'b', resourceVersion: '7' } } },
    ];
    const bytes = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''));
    const cuts = [3, bytes.indexOf(Buffer.from('雪')) + 1, bytes.indexOf(0x0a) + 1, bytes.length - 4];
    const srv = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        res.write(bytes.subarray(from, cut));
        from = cut;
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
    });
    const got: unknown[] = [];
    for await (const e of await client(srv.base).stream('/api/v1/pods', { resourceVersion: '4' })) got.push(e);
    expect(got).toEqual(events);
    expect(srv.seen[0]?.url).toBe('/api/v1/pods?watch=true&resourceVersion=4');
  });

  it('rejects a watch that fails with an HTTP status before streaming', async () => {
    const srv = await serve((_req, res) => json(res, 410, status(410, 'Expired', 'too old')));
    await expect(client(srv.base).stream('/api/v1/pods')).rejects.toMatchObject({ code: 410, reason: 'Expired' });
  });
});
