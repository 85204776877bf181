// Stream header wire format and the reader's limits: split chunks, body bytes kept, size/JSON/kind/timeout errors.
import { describe, it, expect } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { TunnelErrorCode } from './errors.ts';
import { encodeStreamHeader, readStreamHeader } from './header.ts';

const limits = { maxHeaderBytes: 1024, timeoutMs: 1000 };

function prefixed(json: string): Buffer {
  const body = Buffer.from(json);
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

describe('stream header', () => {
  it('encodes as u32 big-endian length + JSON', () => {
    const buf = encodeStreamHeader({ kind: 'k8s' }, 1024);
    expect(buf.readUInt32BE(0)).toBe(buf.length - 4);
    expect(JSON.parse(buf.subarray(4).toString())).toEqual({ kind: 'k8s' });
  });

  it('reads a header split across chunks and leaves the body unread for a later data listener', async () => {
    const s = new PassThrough();
    const wire = Buffer.concat([encodeStreamHeader({ kind: 'ssh', mode: 'raw' }, 1024), Buffer.from('BODY')]);
    const reading = readStreamHeader(s, limits);
    for (const b of wire.subarray(0, 7)) s.write(Buffer.from([b]));
    s.write(wire.subarray(7));
    s.end();
    expect(await reading).toEqual({ kind: 'ssh', mode: 'raw' });
    const body: Buffer[] = [];
    s.on('data', (d: Buffer) => body.push(d));
    await new Promise((r) => s.once('end', r));
    expect(Buffer.concat(body).toString()).toBe('BODY');
  });

  it.each([
    ['an oversized length prefix', Buffer.from([0, 0, 0x10, 0]), TunnelErrorCode.HeaderTooLarge],
    ['bad JSON', prefixed('{kind:'), TunnelErrorCode.HeaderInvalid],
    ['a JSON array', prefixed('[1]'), TunnelErrorCode.HeaderInvalid],
    ['an unknown kind', prefixed('{"kind":"telnet"}'), TunnelErrorCode.HeaderInvalid],
    ['a missing kind', prefixed('{"mode":"raw"}'), TunnelErrorCode.HeaderInvalid],
  ])('rejects %s', async (_name, wire, code) => {
    const s = new PassThrough();
    const reading = readStreamHeader(s, limits);
    s.write(wire);
    await expect(reading).rejects.toMatchObject({ code });
  });

  it('rejects a stream that ends before its header', async () => {
    const s = new PassThrough();
    const reading = readStreamHeader(s, limits);
    s.end(Buffer.from([0, 0]));
    await expect(reading).rejects.toMatchObject({ code: TunnelErrorCode.HeaderInvalid });
  });

  it('times out when the header does not arrive', async () => {
    const s = new PassThrough();
    const started = Date.now();
    await expect(readStreamHeader(s, { maxHeaderBytes: 1024, timeoutMs: 50 })).rejects.toMatchObject({
      code: TunnelErrorCode.HeaderTimeout,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('refuses to encode a header over the limit', () => {
    expect(() => encodeStreamHeader({ kind: 'k8s', pad: 'x'.repeat(100) }, 64)).toThrow(
      expect.objectContaining({ code: TunnelErrorCode.HeaderTooLarge }),
    );
  });
});
