import { describe, expect, it } from '@jest/globals';
import { isWithinWorkspace, parseClusterPath, unsafePathReason } from './paths.ts';

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

describe('isWithinWorkspace', () => {
  it.each([
    ['root:kedge:tenants:a', true],
    ['root:kedge:tenants:a:child', true],
    ['root:kedge:tenants:a:child:grandchild', true],
    ['root:kedge:tenants:ab', false],
    ['root:kedge:tenants', false],
    ['root', false],
    ['root:kedge:tenants:b', false],
  ])('%s within root:kedge:tenants:a → %s', (ws, want) => {
    expect(isWithinWorkspace(ws, 'root:kedge:tenants:a')).toBe(want);
  });
});
