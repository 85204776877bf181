import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshInvocation } from './ssh-args.ts';
import { identityLoginName, loginNameFromEmail, oidcHubOfContext } from './ssh-identity.ts';
import { parseKubeconfig, withExecUsers, writeKubeconfigFile } from './kubeconfig.ts';
import { tokenCachePath, writeTokenCache } from './oidc/token-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'kedge-ssh-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hubURL = 'https://hub.example:8443';
const tenant = parseKubeconfig(`
clusters: [{name: kedge, cluster: {server: "${hubURL}/clusters/root:kedge:tenants:alice-0123456789"}}]
users: [{name: kedge, user: {token: t}}]
contexts: [{name: kedge, context: {cluster: kedge, user: kedge}}]
current-context: kedge
`);

describe('loginNameFromEmail', () => {
  it("takes the email's local part as a valid login name", () => {
    expect(loginNameFromEmail('alice@example.com')).toBe('alice');
    expect(loginNameFromEmail('Bob.Smith+kedge@example.com')).toBe('bob.smith');
    expect(loginNameFromEmail('o’brien@example.com')).toBe('o_brien');
    expect(loginNameFromEmail('a@b@example.com')).toBe('a_b');
  });
  it('gives none for what no system accepts as a login name', () => {
    for (const e of ['1abc@example.com', '-x@example.com', '@example.com', 'no-at-sign', `${'a'.repeat(33)}@x`])
      expect(loginNameFromEmail(e)).toBeUndefined();
  });
});

describe('identityLoginName', () => {
  const env = { XDG_CACHE_HOME: join(dir, 'cache') };
  const oidcKubeconfig = join(dir, 'oidc.kubeconfig');
  writeKubeconfigFile(oidcKubeconfig, withExecUsers(tenant, hubURL, '/opt/kedge/bin/kedge'));
  const tokenKubeconfig = join(dir, 'token.kubeconfig');
  writeKubeconfigFile(tokenKubeconfig, tenant);

  it('finds the hub of an OIDC context by its get-token plugin only', () => {
    expect(oidcHubOfContext(withExecUsers(tenant, hubURL), 'kedge')).toBe(hubURL);
    expect(oidcHubOfContext(withExecUsers(tenant, hubURL), 'other')).toBeUndefined();
    expect(oidcHubOfContext(tenant, 'kedge')).toBeUndefined();
  });

  it("uses the cached email of the context's hub; nothing without an OIDC login", () => {
    expect(identityLoginName({ kubeconfig: oidcKubeconfig }, env)).toBeUndefined();
    writeTokenCache(tokenCachePath(hubURL, env), {
      hubURL,
      issuerURL: 'https://dex.example/dex',
      clientID: 'kedge-cli',
      scopes: ['openid'],
      idToken: 'a.b.c',
      expiry: new Date().toISOString(),
      email: 'alice@example.com',
    });
    expect(identityLoginName({ kubeconfig: oidcKubeconfig }, env)).toBe('alice');
    expect(identityLoginName({ kubeconfig: tokenKubeconfig }, env)).toBeUndefined();
    expect(identityLoginName({ kubeconfig: join(dir, 'missing') }, env)).toBeUndefined();
    expect(identityLoginName({ kubeconfig: oidcKubeconfig, context: 'nope' }, env)).toBeUndefined();
  });

  it('is the login name unless -l or user@ says otherwise', () => {
    expect(sshInvocation('pi', [], {}, false, 'alice').user).toBe('alice');
    expect(sshInvocation('bob@pi', [], {}, false, 'alice').user).toBe('bob');
    expect(sshInvocation('pi', [], { login: 'carol' }, false, 'alice').user).toBe('carol');
    expect(sshInvocation('pi', [], {}, false, undefined).user).toBe('root');
  });
});
