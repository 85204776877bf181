import { describe, expect, it } from '@jest/globals';
import type { KubeClient } from '../../kube/client.ts';
import { EdgeAccessReviewer, roleReviewSpec } from './access-review.ts';
import { EdgeTenants, tenantOfPath } from './edge-tenant.ts';

type Attrs = { verb: string; resource: string; subresource?: string; name: string };

/** A stand-in admin client: answers SARs by `grant(verb/subresource)` and records them per cluster. */
function fakeAdmin(grant: (a: Attrs) => boolean, seen: string[]): KubeClient {
  return {
    forCluster: (cluster: string) => ({
      create: async (_path: string, body: { spec: { resourceAttributes: Attrs } }) => {
        const a = body.spec.resourceAttributes;
        seen.push(`${cluster}/${a.subresource ? `${a.resource}/${a.subresource}` : a.resource}:${a.verb}`);
        return { status: { allowed: grant(a) } };
      },
      get: async () => {
        seen.push(`${cluster}/logicalcluster`);
        return {
          metadata: {
            annotations: { 'kcp.io/path': cluster === 'lc1' ? 'root:kedge:tenants:acme:team' : 'root:other' },
          },
        };
      },
    }),
  } as unknown as KubeClient;
}
const user = { username: 'kedge:static:bob', uid: 'static-bob', groups: ['kedge:users'], tenant: 'bob' };

describe('EdgeAccessReviewer.review', () => {
  it('asks proxy first, then the roles strongest first, stopping at the first granted one; cached', async () => {
    const seen: string[] = [];
    const r = new EdgeAccessReviewer(
      fakeAdmin((a) => a.verb === 'proxy' || a.verb === 'edit' || a.verb === 'view', seen),
    );
    expect(await r.review(user, 'lc1', 'e1')).toEqual({ allowed: true, role: 'edit' });
    expect(seen).toEqual(['lc1/edges:proxy', 'lc1/edges/k8s:admin', 'lc1/edges/k8s:edit']);
    expect(await r.review(user, 'lc1', 'e1')).toEqual({ allowed: true, role: 'edit' });
    expect((await r.review(user, 'lc1', 'e1')).allowed).toBe(true);
    expect(r.reviews).toBe(3);
  });

  it('a denied caller costs one review and gets no role; SSH gets no role; proxy without any role is allowed without one', async () => {
    const seen: string[] = [];
    const denied = new EdgeAccessReviewer(fakeAdmin(() => false, seen));
    expect(await denied.review(user, 'lc1', 'e1')).toEqual({ allowed: false });
    expect(denied.reviews).toBe(1);
    const ssh = new EdgeAccessReviewer(fakeAdmin(() => true, seen));
    expect(await ssh.review(user, 'lc1', 'e1', 'ssh')).toEqual({ allowed: true });
    expect(ssh.reviews).toBe(1);
    const bare = new EdgeAccessReviewer(fakeAdmin((a) => a.verb === 'proxy', seen));
    expect(await bare.review(user, 'lc1', 'e1')).toEqual({ allowed: true });
    expect(bare.reviews).toBe(4);
  });

  it('the role SAR is the role verb on edges/k8s of that edge, with system:authenticated', () => {
    expect(roleReviewSpec(user, 'e1', 'view')).toEqual({
      user: 'kedge:static:bob',
      uid: 'static-bob',
      groups: ['kedge:users', 'system:authenticated'],
      resourceAttributes: { group: 'kedge.faros.sh', resource: 'edges', subresource: 'k8s', verb: 'view', name: 'e1' },
    });
  });
});

describe('tenant of an edge', () => {
  it('is the workspace segment under root:kedge:tenants', () => {
    expect(tenantOfPath('root:kedge:tenants:acme')).toBe('acme');
    expect(tenantOfPath('root:kedge:tenants:acme:child')).toBe('acme');
    expect(tenantOfPath('root:kedge:tenants')).toBeUndefined();
    expect(tenantOfPath('root:kedge:tenantsx:acme')).toBeUndefined();
    expect(tenantOfPath('root:other:acme')).toBeUndefined();
  });

  it('is read from the LogicalCluster once per logical cluster', async () => {
    const seen: string[] = [];
    const t = new EdgeTenants(fakeAdmin(() => true, seen));
    expect(await t.tenantOf('lc1')).toBe('acme');
    expect(await t.tenantOf('lc1')).toBe('acme');
    expect(await t.tenantOf('lc2')).toBeUndefined();
    expect(await t.tenantOf('lc2')).toBeUndefined();
    expect(seen).toEqual(['lc1/logicalcluster', 'lc2/logicalcluster']);
  });
});
