import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { fastMask, fastUnmask, unmaskInPlace } from './ws-mask.ts';

/** ws's own byte loop: the reference. */
function byteMask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void {
  for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ mask[i & 3]!;
}

describe('ws-mask', () => {
  // Lengths around the small-payload cutoff and word boundaries, at every alignment of the payload in memory.
  const lengths = [0, 1, 3, 4, 5, 63, 64, 65, 66, 67, 127, 1000, 65_537];
  const mask = randomBytes(4);

  test('fastMask writes what the byte loop writes, at any offset and alignment', () => {
    for (const length of lengths)
      for (const skew of [0, 1, 2, 3])
        for (const offset of [0, 2, 6, 14]) {
          const source = randomBytes(length + skew).subarray(skew);
          const want = Buffer.alloc(length + offset + 5, 0xaa);
          const got = Buffer.alloc(length + offset + 5, 0xaa);
          byteMask(source, mask, want, offset, length);
          fastMask(source, mask, got, offset, length);
          expect(got.equals(want)).toBe(true);
        }
  });

  test('fastUnmask undoes the byte-loop mask in place, leaving the bytes around the payload alone', () => {
    for (const length of lengths)
      for (const skew of [0, 1, 2, 3]) {
        const plain = randomBytes(length);
        const backing = Buffer.alloc(length + skew + 3, 0x55);
        byteMask(plain, mask, backing, skew, length);
        fastUnmask(backing.subarray(skew, skew + length), mask);
        expect(backing.subarray(skew, skew + length).equals(plain)).toBe(true);
        expect([...backing.subarray(0, skew), ...backing.subarray(skew + length)].every((b) => b === 0x55)).toBe(true);
      }
  });

  test('unmaskInPlace with a phase continues the mask from that key byte', () => {
    const plain = randomBytes(300);
    const masked = Buffer.alloc(300);
    byteMask(plain, mask, masked, 0, 300);
    const tail = Buffer.from(masked.subarray(101));
    unmaskInPlace(tail, mask, 101 & 3);
    expect(tail.equals(plain.subarray(101))).toBe(true);
  });

  test('masking in place (source is output) works', () => {
    const plain = randomBytes(4096);
    const buf = Buffer.from(plain);
    fastMask(buf, mask, buf, 0, buf.length);
    const want = Buffer.alloc(4096);
    byteMask(plain, mask, want, 0, 4096);
    expect(buf.equals(want)).toBe(true);
  });
});
