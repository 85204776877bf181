// Word-at-a-time WebSocket masking for `ws`. Without its optional native addon (bufferutil, not a dependency here) ws
// XORs masked payloads one byte at a time in JS: on the SSH path every byte is masked once (client side: `kedge ssh
// --proxy`, the agent) and unmasked once (the hub), about 1.5 ms of CPU per MiB each on a small VM. This XORs 32 bits
// at a time instead (several times faster) and keeps RFC 6455 masking as is: the random key is still ws's own.
// ws binds mask/unmask when its sender and receiver modules load, so this module must be evaluated before `ws` is
// first loaded in the process: entry points import it first. Loaded later it changes nothing (ws stays correct).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type MaskFn = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
type UnmaskFn = (buffer: Buffer, mask: Buffer) => void;

/** Below this many bytes the byte loop is as fast (no typed-array view to set up). */
const SMALL = 64;

/** XORs `buf` in place with the 4-byte `mask`, the first byte of `buf` taking mask byte `phase`. */
export function unmaskInPlace(buf: Uint8Array, mask: Uint8Array, phase = 0): void {
  const n = buf.length;
  let i = 0;
  if (n >= SMALL) {
    // Bytes up to a 4-byte boundary of the underlying memory, then whole words, then the tail.
    const head = (4 - (buf.byteOffset & 3)) & 3;
    for (; i < head; i++) buf[i]! ^= mask[(i + phase) & 3]!;
    const p = i + phase;
    // Little-endian word whose bytes line up with mask positions p, p+1, p+2, p+3.
    const word =
      (mask[p & 3]! | (mask[(p + 1) & 3]! << 8) | (mask[(p + 2) & 3]! << 16) | (mask[(p + 3) & 3]! << 24)) >>> 0;
    const words = (n - i) >>> 2;
    const view = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words << 2;
  }
  for (; i < n; i++) buf[i]! ^= mask[(i + phase) & 3]!;
}

/** ws's `mask`: `output[offset..offset+length)` = `source[0..length)` XOR mask. Copies natively, then XORs in place. */
export const fastMask: MaskFn = (source, mask, output, offset, length) => {
  if (length < SMALL) {
    for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ mask[i & 3]!;
    return;
  }
  if (source !== output || offset !== 0) source.copy(output, offset, 0, length);
  unmaskInPlace(output.subarray(offset, offset + length), mask);
};

export const fastUnmask: UnmaskFn = (buffer, mask) => unmaskInPlace(buffer, mask);

interface BufferUtil {
  mask: MaskFn;
  unmask: UnmaskFn;
}

const require = createRequire(import.meta.url);
/** ws's exports map hides lib/, so it is required by file path (the same module instance ws itself uses). */
const bufferUtilPath = join(dirname(require.resolve('ws')), 'lib', 'buffer-util.js');
const senderPath = join(dirname(require.resolve('ws')), 'lib', 'sender.js');
const senderLoadedBefore = require.cache[senderPath] !== undefined;
const bufferUtil = require(bufferUtilPath) as BufferUtil;
// ws already uses a native implementation (bufferutil, or one built into Node) when mask is not its JS byte loop.
const usesByteLoop = bufferUtil.mask.name === '_mask';
if (usesByteLoop) {
  bufferUtil.mask = fastMask;
  bufferUtil.unmask = fastUnmask;
}

/** True when ws in this process masks with fastMask (this module ran before ws loaded and ws had no native one). */
export const wsFastMaskActive: boolean = usesByteLoop && !senderLoadedBefore;
