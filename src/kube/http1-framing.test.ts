import { describe, expect, it } from '@jest/globals';
import { ChunkedBodyScanner, parseRequestHead } from './http1-framing.ts';

const head = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseRequestHead', () => {
  it('reads the request line, the headers in order, the size and the body framing', () => {
    const raw =
      'POST /api/v1/namespaces/a/configmaps?x=1 HTTP/1.1\r\nHost: hub\r\nContent-Length: 7\r\nX-A:  b \r\n\r\n{"x":1}';
    const r = parseRequestHead(head(raw));
    expect(r).toEqual({
      ok: true,
      head: {
        method: 'POST',
        target: '/api/v1/namespaces/a/configmaps?x=1',
        headers: [
          ['Host', 'hub'],
          ['Content-Length', '7'],
          ['X-A', 'b'],
        ],
        size: raw.length - 7,
        body: { kind: 'length', length: 7 },
        upgrade: false,
        close: false,
      },
    });
  });

  it('tells chunked bodies, upgrades and Connection: close', () => {
    const chunked = parseRequestHead(head('PUT / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n'));
    expect(chunked).toMatchObject({ ok: true, head: { body: { kind: 'chunked' }, close: true, upgrade: false } });
    const up = parseRequestHead(
      head('GET /x HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n'),
    );
    expect(up).toMatchObject({ ok: true, head: { upgrade: true, body: { kind: 'none' } } });
    // Upgrade without Connection: upgrade is not a protocol switch.
    expect(parseRequestHead(head('GET /x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'))).toMatchObject({
      ok: true,
      head: { upgrade: false },
    });
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n'))).toMatchObject({
      ok: true,
      head: { body: { kind: 'none' } },
    });
  });

  it('waits for the rest of a head and refuses one that is too large', () => {
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: a\r\n'))).toEqual({ ok: false, incomplete: true });
    const big = head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}`);
    expect(parseRequestHead(big, 100)).toMatchObject({ ok: false, incomplete: false, status: 431 });
    expect(parseRequestHead(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}\r\n\r\n`), 100)).toMatchObject({
      status: 431,
    });
  });

  it.each([
    ['obsolete line folding', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['both framings', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['another coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['differing lengths', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a signed length', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n'],
    ['a bare LF', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['a bare CR', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
    ['an absolute URL', 'GET http://evil/ HTTP/1.1\r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n'],
  ])('refuses %s with 400', (_what, raw) => {
    expect(parseRequestHead(head(raw))).toMatchObject({ ok: false, incomplete: false, status: 400 });
  });
});

describe('ChunkedBodyScanner', () => {
  const body = '5;ext=1\r\nhello\r\nB\r\n world, and\r\n0\r\nX-Trailer: t\r\n\r\n';

  it('finds the end of a chunked body, with extensions and trailers, and the next request after it', () => {
    const buf = Buffer.from(`${body}GET /next`);
    expect(new ChunkedBodyScanner().scan(buf)).toBe(body.length);
  });

  it('finds it when the bytes arrive one at a time', () => {
    const s = new ChunkedBodyScanner();
    const buf = Buffer.from(body);
    let end = -1;
    for (let i = 0; i < buf.length && end < 0; i++) {
      const r = s.scan(buf.subarray(i, i + 1));
      expect(r).not.toBeInstanceOf(Error);
      end = r as number;
      if (end >= 0) expect(i).toBe(buf.length - 1);
    }
    expect(end).toBe(1);
  });

  it('can be reused for the next body', () => {
    const s = new ChunkedBodyScanner();
    expect(s.scan(Buffer.from('0\r\n\r\n'))).toBe(5);
    expect(s.scan(Buffer.from('1\r\na\r\n0\r\n\r\n'))).toBe(11);
  });

  it.each([
    ['no size', '\r\n'],
    ['a non-hex size', 'g\r\n'],
    ['an oversized size', 'fffffffffffff\r\n'],
    ['data not followed by CRLF', '1\r\nab'],
    ['a bare LF after the size', '1\na\r\n'],
    ['a bare LF in the trailer', '0\r\nX: y\n\r\n'],
  ])('refuses %s', (_what, raw) => {
    expect(new ChunkedBodyScanner().scan(Buffer.from(raw))).toBeInstanceOf(Error);
  });
});
