import { describe, expect, test } from '@jest/globals';
import { checkJoinToken, joinSecretManifest, newJoinToken } from './join-token.ts';
import { credentialBaseName, joinSecretName, serviceAccountUsername, tokenSecretPrefix } from './names.ts';

const edge = { name: 'e1', uid: 'uid-1' };
const now = new Date('2026-01-01T00:00:00Z');

describe('join tokens', () => {
  test('the manifest stores only the digest and the expiry, owned by the Edge', () => {
    const token = newJoinToken();
    const s = joinSecretManifest(edge, token, new Date(now.getTime() + 3600_000));
    expect(JSON.stringify(s)).not.toContain(token);
    expect(s.metadata).toMatchObject({
      name: 'edge-e1-join',
      namespace: 'kedge-system',
      ownerReferences: [{ kind: 'Edge', uid: 'uid-1', controller: true }],
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('matches the right token before expiry only', () => {
    const token = newJoinToken();
    const s = joinSecretManifest(edge, token, new Date(now.getTime() + 3600_000));
    expect(checkJoinToken(s, token, now)).toEqual({ ok: true });
    expect(checkJoinToken(s, `${token}x`, now)).toEqual({ ok: false, why: 'mismatch' });
    expect(checkJoinToken(s, newJoinToken(), now)).toEqual({ ok: false, why: 'mismatch' });
    expect(checkJoinToken(s, token, new Date(now.getTime() + 3600_000))).toEqual({ ok: false, why: 'expired' });
  });

  test('refuses secrets of another type or with broken data', () => {
    const token = newJoinToken();
    const s = joinSecretManifest(edge, token, new Date(now.getTime() + 1000));
    expect(checkJoinToken({ ...s, type: 'Opaque' }, token, now)).toEqual({ ok: false, why: 'type' });
    expect(checkJoinToken({ ...s, data: { 'expires-at': s.data?.['expires-at'] ?? '' } }, token, now)).toEqual({
      ok: false,
      why: 'malformed',
    });
    expect(
      checkJoinToken({ ...s, data: { ...s.data, 'expires-at': Buffer.from('soon').toString('base64') } }, token, now),
    ).toEqual({ ok: false, why: 'malformed' });
  });
});

describe('credential object names', () => {
  test('readable for ordinary names', () => {
    expect(tokenSecretPrefix('e1')).toBe('edge-e1-token-');
    expect(joinSecretName('e1')).toBe('edge-e1-join');
    expect(serviceAccountUsername('e1')).toBe('system:serviceaccount:kedge-system:edge-e1');
  });
  test('hashed and within 253 characters for long names, distinct per name', () => {
    const a = 'a'.repeat(253);
    const b = `${'a'.repeat(252)}b`;
    expect(tokenSecretPrefix(a).length + 5).toBeLessThanOrEqual(253);
    expect(tokenSecretPrefix('b'.repeat(230)).length + 5).toBeLessThanOrEqual(253);
    expect(credentialBaseName(a)).not.toBe(credentialBaseName(b));
    expect(credentialBaseName(a)).toMatch(/^edge-h[0-9a-f]{40}$/);
  });
});
