import { describe, expect, it } from '@jest/globals';
import { transportCode } from './api-error.ts';

describe('transportCode', () => {
  it('finds the socket error code along the cause chain, skipping undici’s generic socket code', () => {
    expect(transportCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    const wrapped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('tls'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    });
    expect(transportCode(wrapped)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const socket = Object.assign(new Error('closed'), {
      code: 'UND_ERR_SOCKET',
      cause: Object.assign(new Error('r'), { code: 'ECONNRESET' }),
    });
    expect(transportCode(socket)).toBe('ECONNRESET');
    expect(transportCode(new Error('plain'))).toBeUndefined();
    expect(transportCode(undefined)).toBeUndefined();
  });
});
