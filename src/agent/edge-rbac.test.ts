import { describe, expect, it } from '@jest/globals';
import { bindingsToCreate, defaultEdgeBindings } from './edge-rbac.ts';

describe('default edge RBAC', () => {
  it('binds each role group to the API server role, labelled as the agent’s', () => {
    expect(defaultEdgeBindings().map((b) => [b.metadata.name, b.subjects, b.roleRef.name])).toEqual([
      [
        'kedge:edge:admin',
        [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:admin' }],
        'cluster-admin',
      ],
      ['kedge:edge:edit', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:edit' }], 'edit'],
      ['kedge:edge:view', [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kedge:edge:view' }], 'view'],
    ]);
    for (const b of defaultEdgeBindings())
      expect(b.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'kedge-agent' });
  });

  it('creates only the absent ones; present ones (whatever the owner made of them) are left alone', () => {
    expect(bindingsToCreate(new Set()).map((b) => b.metadata.name)).toEqual([
      'kedge:edge:admin',
      'kedge:edge:edit',
      'kedge:edge:view',
    ]);
    expect(bindingsToCreate(new Set(['kedge:edge:admin', 'other'])).map((b) => b.metadata.name)).toEqual([
      'kedge:edge:edit',
      'kedge:edge:view',
    ]);
    expect(bindingsToCreate(new Set(['kedge:edge:admin', 'kedge:edge:edit', 'kedge:edge:view']))).toEqual([]);
  });
});
