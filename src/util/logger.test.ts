import { describe, expect, it } from '@jest/globals';
import { logFormat } from './logger.ts';

describe('logFormat', () => {
  it.each([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{ KEDGE_LOG_FORMAT: 'json' }, true, 'json'],
    [{ KEDGE_LOG_FORMAT: 'pretty' }, false, 'pretty'],
    [{ KEDGE_LOG_FORMAT: 'xml' }, false, 'json'],
  ])('env %j, tty %s → %s', (env, tty, format) => {
    expect(logFormat(env, tty)).toBe(format);
  });
});
