import { describe, expect, it } from '@jest/globals';
import { LABEL_SHARE_ROLE } from '../../api/workspace-roles.ts';
import type { UserInfo } from '../auth/identity.ts';
import {
  bindingRole,
  bindsUser,
  isTenantWorkspace,
  subjectDigests,
  workspacesFor,
  type ShareBinding,
} from './workspace-list.ts';

const rbac = 'rbac.authorization.k8s.io';
const bob: UserInfo = {
  username: 'kedge:oidc:bob@example.com',
  uid: 'b',
  groups: ['kedge:users', 'kedge:tenant:bob-1', 'kedge:oidc:acme'],
  tenant: 'bob-1',
};
const binding = (role: string, kind: string, name: string, roleKind = 'ClusterRole'): ShareBinding => ({
  metadata: { name: `kedge:share:${role}:${name}`, labels: { [LABEL_SHARE_ROLE]: role } },
  roleRef: { apiGroup: rbac, kind: roleKind, name: `kedge:workspace:${role}` },
  subjects: [{ apiGroup: rbac, kind, name }],
});

describe('bindingRole', () => {
  it('reads the role from the roleRef, not from the label', () => {
    expect(bindingRole(binding('edit', 'User', 'x'))).toBe('edit');
    const forgedLabel = {
      ...binding('view', 'User', 'x'),
      metadata: { name: 'y', labels: { [LABEL_SHARE_ROLE]: 'admin' } },
    };
    expect(bindingRole(forgedLabel)).toBe('view');
  });
  it('ignores anything but a kedge:workspace:<role> ClusterRole', () => {
    expect(bindingRole(binding('edit', 'User', 'x', 'Role'))).toBeUndefined();
    expect(
      bindingRole({
        ...binding('edit', 'User', 'x'),
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'cluster-admin' },
      }),
    ).toBeUndefined();
    expect(bindingRole(binding('owner', 'User', 'x'))).toBeUndefined();
  });
});

describe('bindsUser', () => {
  it.each([
    ['User', 'kedge:oidc:bob@example.com', true],
    ['Group', 'kedge:oidc:acme', true],
    ['User', 'kedge:oidc:acme', false], // a group name as a user is someone else
    ['Group', 'kedge:oidc:bob@example.com', false],
    ['Group', 'kedge:oidc:globex', false],
    ['ServiceAccount', 'kedge:oidc:bob@example.com', false],
  ])('%s %s → %s', (kind, name, want) => {
    expect(bindsUser(binding('view', kind, name), bob)).toBe(want);
  });
});

describe('workspacesFor', () => {
  const t = (x: string): string => `root:kedge:tenants:${x}`;
  it('lists the own workspace first as admin, then shared ones by path with the strongest role', () => {
    const items = workspacesFor(bob, [
      { path: t('zed'), binding: binding('view', 'User', bob.username) },
      { path: t('alice'), binding: binding('view', 'Group', 'kedge:oidc:acme') },
      { path: t('alice'), binding: binding('edit', 'User', bob.username) },
      { path: t('alice'), binding: binding('view', 'User', bob.username) },
    ]);
    expect(items).toEqual([
      { name: 'bob-1', path: t('bob-1'), role: 'admin', own: true },
      { name: 'alice', path: t('alice'), role: 'edit', own: false },
      { name: 'zed', path: t('zed'), role: 'view', own: false },
    ]);
  });
  it('skips bindings for others, of no workspace role, outside tenant workspaces, and in the own workspace', () => {
    const items = workspacesFor(bob, [
      { path: t('a'), binding: binding('view', 'User', 'kedge:oidc:carol@example.com') },
      { path: t('b'), binding: binding('view', 'User', bob.username, 'Role') },
      { path: 'root:kedge:providers', binding: binding('admin', 'User', bob.username) },
      { path: `${t('c')}:child`, binding: binding('admin', 'User', bob.username) },
      { path: undefined, binding: binding('admin', 'User', bob.username) },
      { path: t('bob-1'), binding: binding('view', 'User', bob.username) },
    ]);
    expect(items.map((w) => [w.path, w.role])).toEqual([[t('bob-1'), 'admin']]);
  });
});

describe('isTenantWorkspace', () => {
  it.each([
    ['root:kedge:tenants:alice-0123456789', true],
    ['root:kedge:tenants', false],
    ['root:kedge:tenants:a:child', false],
    ['root:kedge:tenantsx:a', false],
    ['root:kedge:tenants:-a', false],
  ])('%s → %s', (path, want) => expect(isTenantWorkspace(path)).toBe(want));
});

describe('subjectDigests', () => {
  it('has one digest for the user and one per group, users and groups never colliding', () => {
    const d = subjectDigests({ username: 'kedge:oidc:acme', groups: ['kedge:oidc:acme'] });
    expect(d).toHaveLength(2);
    expect(d[0]).toMatch(/^u-[0-9a-f]{20}$/);
    expect(d[1]).toMatch(/^g-[0-9a-f]{20}$/);
    expect(d[0]?.slice(2)).not.toBe(d[1]?.slice(2));
  });
});
