import { describe, expect, it } from '@jest/globals';
import { MAX_EDGE_IDENTITY_LENGTH, decodeEdgeIdentity, encodeEdgeIdentity } from './edge-identity.ts';

describe('edge identity header', () => {
  it('round-trips, without padding, and ignores unknown fields', () => {
    const id = { user: 'kedge:static:acme', uid: 'static-acme', groups: ['kedge:users'], tenant: 'acme', role: 'edit' };
    const v = encodeEdgeIdentity({ ...id, role: 'edit' });
    expect(v).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeEdgeIdentity(v)).toEqual(id);
    const extra = Buffer.from(JSON.stringify({ user: 'u', groups: [], tenant: 't', x: 1 })).toString('base64url');
    expect(decodeEdgeIdentity(extra)).toEqual({ user: 'u', groups: [], tenant: 't' });
  });

  it('refuses anything else', () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const bad of [
      undefined,
      '',
      ['a'],
      'a=b',
      enc('x'),
      enc(null),
      enc([]),
      enc({ user: '', groups: [], tenant: 't' }),
      enc({ user: 'u', groups: [1], tenant: 't' }),
      enc({ user: 'u', groups: 'g', tenant: 't' }),
      enc({ user: 'u', groups: [], tenant: '' }),
      enc({ user: 'u', groups: [], tenant: 't', uid: 5 }),
      enc({ user: 'u', groups: [], tenant: 't', role: 'owner' }),
      'A'.repeat(MAX_EDGE_IDENTITY_LENGTH + 1),
      Buffer.from('{"user":').toString('base64url'),
    ])
      expect(decodeEdgeIdentity(bad as string)).toBeUndefined();
  });
});
