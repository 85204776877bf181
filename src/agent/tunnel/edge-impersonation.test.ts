import { describe, expect, it } from '@jest/globals';
import { encodeEdgeIdentity, type EdgeIdentity } from '../../api/edge-identity.ts';
import { impersonationFor, impersonationHeaders } from './edge-impersonation.ts';

const alice: EdgeIdentity = {
  user: 'kedge:oidc:alice@example.com',
  uid: 'oidc-0123',
  groups: ['kedge:users', 'kedge:tenant:alice-1', 'kedge:oidc:acme'],
  tenant: 'alice-1',
  role: 'admin',
};
const of = (id: Omit<EdgeIdentity, 'role'> & { role?: string }) =>
  impersonationFor(encodeEdgeIdentity(id as EdgeIdentity));

describe('impersonationFor', () => {
  it('maps user, groups, tenant and role to Impersonate-* headers', () => {
    const imp = of(alice);
    expect(imp.ok && impersonationHeaders(imp)).toEqual([
      ['Impersonate-User', 'kedge:oidc:alice@example.com'],
      ['Impersonate-Group', 'kedge:users'],
      ['Impersonate-Group', 'kedge:tenant:alice-1'],
      ['Impersonate-Group', 'kedge:oidc:acme'],
      ['Impersonate-Group', 'kedge:edge:admin'],
      ['Impersonate-Uid', 'oidc-0123'],
    ]);
  });

  it('prefixes names without kedge:, drops caller role groups, adds the tenant group; no role → no role group', () => {
    const imp = of({ user: 'bob', groups: ['devs', 'kedge:edge:admin', 'edge:admin', 'kedge:users'], tenant: 'acme' });
    expect(imp).toMatchObject({
      ok: true,
      user: 'kedge:bob',
      groups: ['kedge:devs', 'kedge:users', 'kedge:tenant:acme'],
    });
    expect(imp.ok && impersonationHeaders(imp).some(([k]) => k === 'Impersonate-Uid')).toBe(false);
    // A shared user carries the workspace's tenant group next to its own; the role group comes from the role only.
    const shared = of({ user: 'kedge:static:bob', groups: ['kedge:tenant:bob'], tenant: 'alice', role: 'view' });
    expect(shared).toMatchObject({ groups: ['kedge:tenant:bob', 'kedge:tenant:alice', 'kedge:edge:view'] });
  });

  it('refuses a missing, malformed or system: identity', () => {
    expect(impersonationFor(undefined)).toEqual({ ok: false, reason: 'the request carries no identity from the hub' });
    for (const bad of ['', 'not base64!', Buffer.from('[]').toString('base64url'), ['a', 'b']])
      expect(impersonationFor(bad)).toMatchObject({ ok: false });
    expect(of({ user: 'system:admin', groups: [], tenant: 'acme' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x', groups: ['system:masters'], tenant: 'acme' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x', groups: ['SYSTEM:masters'], tenant: 'acme' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x', groups: [], tenant: 'Acme:x' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x\r\nImpersonate-User: y', groups: [], tenant: 'acme' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x', groups: [], tenant: 'acme', role: 'root' })).toMatchObject({ ok: false });
    expect(of({ user: 'kedge:x', groups: [], tenant: 'acme', uid: 'é' })).toMatchObject({ ok: false });
  });
});
