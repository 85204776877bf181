import { describe, expect, it } from '@jest/globals';
import { isUnderWorkspace, parseClusterPath, unsafePathReason } from './paths.ts';

describe('parseClusterPath', () => {
  it('splits workspace and rest', () => {
    expect(parseClusterPath('/clusters/root:kedge:tenants:a/api/v1/namespaces')).toEqual({
      ok: true,
      workspace: 'root:kedge:tenants:a',
      rest: '/api/v1/namespaces',
    });
    expect(parseClusterPath('/clusters/root:kedge:tenants:a')).toEqual({
      ok: true,
      workspace: 'root:kedge:tenants:a',
      rest: '',
    });
  });
  it.each([
    ['/clusters/root:a/../b/api', 'dot segments'],
    ['/clusters/root:a/./api', 'dot segments'],
    ['/clusters/root:a%2f..%2fb/api', 'encoded'],
    ['/clusters/root:a/%2E%2E/api', 'encoded'],
    ['/clusters/root:a//api', 'empty path segments'],
    ['/clusters/root:a\\..\\b', 'backslashes'],
    ['/clusters/root:a%3ab/api', 'invalid workspace path'],
    ['/clusters/*/api', 'invalid workspace path'],
    ['/clusters/~/api', 'invalid workspace path'],
    ['/clusters/Root/api', 'invalid workspace path'],
    ['/clusters/root::a/api', 'invalid workspace path'],
    ['/api/v1/namespaces', 'expected /clusters/'],
  ])('rejects %s', (path, reason) => {
    const r = parseClusterPath(path);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
  });
  it('allows a trailing slash', () => {
    expect(unsafePathReason('/clusters/root:a/api/')).toBeUndefined();
  });
});

describe('isUnderWorkspace (the proxy forwards every tenant workspace; kcp RBAC decides inside)', () => {
  it.each([
    ['root:kedge:tenants:a', true],
    ['root:kedge:tenants:b', true],
    ['root:kedge:tenants:a:child:grandchild', true],
    ['root:kedge:tenants', false],
    ['root:kedge:tenantsx:a', false],
    ['root:kedge:providers', false],
    ['root:kedge', false],
    ['root', false],
  ])('%s under root:kedge:tenants → %s', (ws, want) => {
    expect(isUnderWorkspace(ws, 'root:kedge:tenants')).toBe(want);
  });
});
