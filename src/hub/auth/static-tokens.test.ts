import { describe, expect, it } from '@jest/globals';
import { parseStaticToken, staticTokenAuthenticator } from './static-tokens.ts';

describe('static tokens', () => {
  it('derives a stable tenant from the token when unnamed', () => {
    const a = parseStaticToken('0123456789abcdef0123');
    expect(a.tenant).toMatch(/^t-[0-9a-f]{12}$/);
    expect(parseStaticToken('0123456789abcdef0123').tenant).toBe(a.tenant);
  });
  it('uses the name when given', () => {
    expect(parseStaticToken('alice=0123456789abcdef0123')).toEqual({ tenant: 'alice', token: '0123456789abcdef0123' });
  });
  it.each([['short'], ['Alice=0123456789abcdef0123'], ['a b=0123456789abcdef0123'], ['x=0123456789 abcdef0123']])(
    'rejects %s',
    (spec) => {
      expect(() => parseStaticToken(spec)).toThrow();
    },
  );
  it('authenticates known tokens only, as kedge:static users with tenant groups', async () => {
    const authn = staticTokenAuthenticator(['alice=aaaaaaaaaaaaaaaaaaaa', 'bob=bbbbbbbbbbbbbbbbbbbb']);
    expect(await authn.authenticate('aaaaaaaaaaaaaaaaaaaa')).toEqual({
      username: 'kedge:static:alice',
      uid: 'static-alice',
      groups: ['kedge:users', 'kedge:tenant:alice'],
      tenant: 'alice',
    });
    expect((await authn.authenticate('bbbbbbbbbbbbbbbbbbbb'))?.tenant).toBe('bob');
    expect(await authn.authenticate('aaaaaaaaaaaaaaaaaaab')).toBeUndefined();
    expect(await authn.authenticate('')).toBeUndefined();
  });
});
