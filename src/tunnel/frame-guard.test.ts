// FrameGuard: follows frame boundaries across arbitrary chunking and names the first bad header.
import { describe, it, expect } from '@jest/globals';
import { FrameGuard } from './frame-guard.ts';

function frame(version: number, type: number, length: number, body = 0): Buffer {
  const h = Buffer.alloc(12 + body);
  h.writeUInt8(version, 0);
  h.writeUInt8(type, 1);
  h.writeUInt32BE(1, 4);
  h.writeUInt32BE(length, 8);
  return h;
}

describe('FrameGuard', () => {
  it('accepts valid frames split at every byte', () => {
    const wire = Buffer.concat([frame(0, 1, 5), frame(0, 0, 300, 300), frame(0, 2, 7), frame(0, 3, 0)]);
    const guard = new FrameGuard(1024);
    for (const b of wire) expect(guard.check(Buffer.from([b]))).toBeUndefined();
  });

  it('skips data payloads so payload bytes are never taken for headers', () => {
    const payload = Buffer.alloc(100, 0xff); // would be version 255 if misread
    const wire = Buffer.concat([frame(0, 0, 100), payload, frame(0, 1, 0)]);
    expect(new FrameGuard(1024).check(wire)).toBeUndefined();
  });

  it.each([
    ['bad version', frame(1, 0, 0), 'unsupported yamux version 1'],
    ['unknown type', frame(0, 4, 0), 'unknown frame type 4'],
    ['oversized data', frame(0, 0, 2048), 'data frame of 2048 bytes exceeds the largest window 1024'],
  ])('rejects %s and stays failed', (_name, wire, message) => {
    const guard = new FrameGuard(1024);
    expect(guard.check(wire)).toBe(message);
    expect(guard.check(frame(0, 1, 0))).toBe(message);
  });

  it('a window update may carry any length (it is a delta, not a payload)', () => {
    expect(new FrameGuard(1024).check(frame(0, 1, 0xffffffff))).toBeUndefined();
  });
});
