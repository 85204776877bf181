import { describe, expect, it } from '@jest/globals';
import { LABEL_SHARE_SUBJECT, shareSubjectDigest } from '../api/workspace-list.ts';
import { LABEL_SHARE_ROLE } from '../api/workspace-roles.ts';
import { isKedgeError } from '../api/errors.ts';
import { CLIErrorCode } from './errors.ts';
import { parseRole, resolveSubject, shareBinding, shareBindingName, subjectArg } from './workspace-share.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isKedgeError(err) ? err.code : 'not a KedgeError';
  }
  return undefined;
};

describe('subject and role', () => {
  it('takes exactly one of USER and --group', () => {
    expect(subjectArg('bob@example.com', {})).toEqual({ kind: 'User', name: 'bob@example.com' });
    expect(subjectArg(undefined, { group: 'acme' })).toEqual({ kind: 'Group', name: 'acme' });
    expect(code(() => subjectArg(undefined, {}))).toBe(CLIErrorCode.FlagsInvalid);
    expect(code(() => subjectArg('bob', { group: 'acme' }))).toBe(CLIErrorCode.FlagsInvalid);
    expect(code(() => subjectArg('  ', {}))).toBe(CLIErrorCode.FlagsInvalid);
  });

  it('defaults to view and refuses an unknown role', () => {
    expect(parseRole(undefined)).toBe('view');
    expect(parseRole('admin')).toBe('admin');
    expect(code(() => parseRole('owner'))).toBe(CLIErrorCode.FlagsInvalid);
  });

  it("prefixes a plain name with the hub's OIDC prefix and keeps a kedge: name", () => {
    expect(resolveSubject({ kind: 'User', name: 'bob@example.com' }, 'kedge:oidc:').name).toBe(
      'kedge:oidc:bob@example.com',
    );
    expect(resolveSubject({ kind: 'Group', name: 'acme' }, 'corp:').name).toBe('corp:acme');
    expect(resolveSubject({ kind: 'User', name: 'kedge:static:ci' }, undefined).name).toBe('kedge:static:ci');
    // No OIDC on the hub: a plain name cannot be anyone.
    expect(code(() => resolveSubject({ kind: 'User', name: 'bob' }, undefined))).toBe(CLIErrorCode.FlagsInvalid);
    expect(code(() => resolveSubject({ kind: 'Group', name: 'system:authenticated' }, 'kedge:oidc:'))).toBe(
      CLIErrorCode.FlagsInvalid,
    );
  });
});

describe('share bindings', () => {
  const bob = { kind: 'User', name: 'kedge:oidc:bob@example.com' } as const;
  it('are named by role and subject, readable and distinct', () => {
    expect(shareBindingName('view', bob)).toMatch(/^kedge:share:view:user:bob-example.com-[0-9a-f]{8}$/);
    expect(shareBindingName('view', { kind: 'Group', name: 'kedge:oidc:acme' })).toMatch(
      /^kedge:share:view:group:acme-[0-9a-f]{8}$/,
    );
    // Names that sanitise alike still differ by the digest.
    expect(shareBindingName('view', { kind: 'User', name: 'kedge:oidc:Bob@example.com' })).not.toBe(
      shareBindingName('view', bob),
    );
    expect(shareBindingName('view', { kind: 'User', name: `kedge:oidc:${'x'.repeat(300)}` }).length).toBeLessThan(80);
  });

  it('bind the role ClusterRole to the subject, labelled for the hub', () => {
    expect(shareBinding('edit', bob)).toMatchObject({
      kind: 'ClusterRoleBinding',
      metadata: { labels: { [LABEL_SHARE_ROLE]: 'edit', [LABEL_SHARE_SUBJECT]: shareSubjectDigest('User', bob.name) } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kedge:workspace:edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: bob.name }],
    });
  });
});
