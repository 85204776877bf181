import { describe, expect, it } from '@jest/globals';
import { connectionListed, endToEndHeaders, isHopHeader } from './http-headers.ts';

describe('hop-by-hop headers', () => {
  it('lists the Connection tokens lower-cased', () => {
    expect([...connectionListed(['close, X-Foo', ' keep-alive'])]).toEqual(['close', 'x-foo', 'keep-alive']);
    expect(connectionListed(undefined).size).toBe(0);
  });

  it('keeps end-to-end headers only', () => {
    expect(
      endToEndHeaders({
        connection: 'x-trace',
        'x-trace': '1',
        'transfer-encoding': 'chunked',
        host: 'h',
        'proxy-authorization': 'p',
        'content-type': 'application/json',
        'set-cookie': ['a', 'b'],
      }),
    ).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a', 'b'] });
  });

  it('drops HTTP/2 pseudo-headers, which Node lists among an HTTP/2 message’s headers', () => {
    expect(endToEndHeaders({ ':status': '200', ':path': '/', 'content-type': 'text/plain' })).toEqual({
      'content-type': 'text/plain',
    });
    expect([':authority', 'upgrade', 'accept'].map(isHopHeader)).toEqual([true, true, false]);
  });
});
