import { describe, expect, it } from '@jest/globals';
import { findWorkspace, workspaceTable } from './workspace-list.ts';

describe('workspace list and use', () => {
  const items = [
    { name: 'bob-1', path: 'root:kedge:tenants:bob-1', role: 'admin', own: true },
    { name: 'alice-2', path: 'root:kedge:tenants:alice-2', role: 'view', own: false },
  ] as const;
  it('prints a table marking the current workspace', () => {
    expect(workspaceTable(items, 'root:kedge:tenants:alice-2')).toEqual([
      'CURRENT  NAME     ROLE   ACCESS  PATH',
      '         bob-1    admin  own     root:kedge:tenants:bob-1',
      '*        alice-2  view   shared  root:kedge:tenants:alice-2',
    ]);
  });
  it('finds a workspace by name or path, and nothing else', () => {
    expect(findWorkspace(items, 'alice-2')?.path).toBe('root:kedge:tenants:alice-2');
    expect(findWorkspace(items, ':root:kedge:tenants:alice-2')?.name).toBe('alice-2');
    expect(findWorkspace(items, 'root:kedge:tenants:carol-3')).toBeUndefined();
    expect(findWorkspace(items, 'alice')).toBeUndefined();
  });
});
