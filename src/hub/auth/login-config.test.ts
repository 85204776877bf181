import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOGIN_CONFIG_PATH, type LoginConfig } from '../../api/login-config.ts';
import { routeName } from '../server/server.ts';
import { loginConfig, loginConfigHandler, oidcScopes } from './login-config.ts';

const oidc = { issuerURL: 'https://dex.example/dex', clientID: 'kedge-cli' };

describe('loginConfig', () => {
  it('offers token only for a hub with static tokens and no issuer', () => {
    expect(loginConfig({ staticTokens: true })).toEqual({
      apiVersion: 'kedge.faros.sh/v1alpha1',
      kind: 'LoginConfig',
      methods: ['token'],
    });
  });

  it('offers oidc with the issuer, client, scopes, prefix and CA', () => {
    const doc = loginConfig({ staticTokens: false, oidc: { ...oidc, ca: Buffer.from('PEM'), prefix: 'sso:' } });
    expect(doc.methods).toEqual(['oidc']);
    expect(doc.oidc).toEqual({
      issuerURL: 'https://dex.example/dex',
      clientID: 'kedge-cli',
      scopes: ['openid', 'email', 'groups', 'profile', 'offline_access'],
      prefix: 'sso:',
      caPEM: 'PEM',
    });
    expect(loginConfig({ staticTokens: true, oidc }).methods).toEqual(['token', 'oidc']);
    expect(loginConfig({ staticTokens: true, oidc }).oidc).not.toHaveProperty('caPEM');
  });

  it('asks for the email and groups scopes only when the hub maps those claims', () => {
    expect(oidcScopes({})).toEqual(['openid', 'email', 'groups', 'profile', 'offline_access']);
    expect(oidcScopes({ usernameClaim: 'sub', groupsClaim: 'roles' })).toEqual(['openid', 'profile', 'offline_access']);
    expect(oidcScopes({ usernameClaim: 'preferred_username' })).toEqual([
      'openid',
      'groups',
      'profile',
      'offline_access',
    ]);
  });

  it('refuses invalid OIDC options', () => {
    expect(() => loginConfig({ staticTokens: false, oidc: { ...oidc, issuerURL: 'http://dex' } })).toThrow(/https/);
  });

  it('is routed at /auth/config', () => {
    expect(routeName(LOGIN_CONFIG_PATH)).toBe('login-config');
    expect(routeName(`${LOGIN_CONFIG_PATH}?x=1`)).toBe('login-config');
    expect(routeName(`${LOGIN_CONFIG_PATH}/x`)).toBe('other');
  });
});

describe('loginConfigHandler', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    const h = loginConfigHandler(loginConfig({ staticTokens: true, oidc }));
    server = createServer((req, res) => h(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const call = (method: string): Promise<{ status: number; body: string; allow?: string | undefined }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: LOGIN_CONFIG_PATH, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, allow: res.headers.allow }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers GET without credentials', async () => {
    const r = await call('GET');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as LoginConfig).oidc?.clientID).toBe('kedge-cli');
  });

  it('refuses other methods with 405', async () => {
    for (const m of ['POST', 'PUT', 'DELETE']) {
      const r = await call(m);
      expect([r.status, r.allow]).toEqual([405, 'GET, HEAD']);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 405 });
    }
  });
});
