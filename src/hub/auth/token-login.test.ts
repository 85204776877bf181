import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { staticTokenAuthenticator } from './static-tokens.ts';
import { TOKEN_LOGIN_BODY_LIMIT, tokenLoginHandler } from './token-login.ts';

const TOKEN = 'alice=aaaaaaaaaaaaaaaaaaaa';
let server: Server;
let port = 0;
let ensured = 0;

beforeAll(async () => {
  const handler = tokenLoginHandler(
    staticTokenAuthenticator([TOKEN]),
    async (user) => {
      ensured++;
      return { name: user.tenant, workspacePath: `root:kedge:tenants:${user.tenant}` } as never;
    },
    { hubURL: 'https://hub.example' },
    pino({ level: 'silent' }),
  );
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function login(body: Buffer | undefined, chunked = false): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: 'Bearer aaaaaaaaaaaaaaaaaaaa' };
    if (body && !chunked) headers['content-length'] = String(body.length);
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/auth/token-login', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          });
          req.destroy();
        });
      },
    );
    req.on('error', (err) => reject(err));
    if (body && chunked) for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end(chunked ? undefined : body);
  });
}

describe('POST /auth/token-login', () => {
  it('logs in without a body', async () => {
    const before = ensured;
    const r = await login(undefined);
    expect(r.status).toBe(200);
    expect(r.json.workspace).toBe('root:kedge:tenants:alice');
    expect(ensured).toBe(before + 1);
  });

  it.each([
    ['declared', false],
    ['chunked', true],
  ])('refuses a 1 MB %s body with 413 before creating anything', async (_what, chunked) => {
    const before = ensured;
    const r = await login(Buffer.alloc(1024 * 1024, 0x20), chunked);
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ kind: 'Status', code: 413, reason: 'RequestEntityTooLarge' });
    expect(r.json.message).toContain(String(TOKEN_LOGIN_BODY_LIMIT));
    expect(ensured).toBe(before);
  });
});
