// Checks the yamux frame headers in the inbound byte stream before the muxer sees them, so garbage fails fast with a
// clear reason and a hostile Data frame cannot make the decoder buffer gigabytes (it waits for the whole frame).
// Frame layout (12 bytes, big endian): version u8, type u8, flags u16, stream id u32, length u32.

export const FRAME_HEADER_BYTES = 12;
const YAMUX_VERSION = 0;
const TYPE_DATA = 0;
const MAX_TYPE = 3; // Data, WindowUpdate, Ping, GoAway

/** Tracks frame boundaries across chunks; `check` returns why the stream is invalid, or undefined. */
export class FrameGuard {
  readonly #maxDataBytes: number;
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #payloadLeft = 0;
  #failed: string | undefined;

  /** @param maxDataBytes largest Data payload accepted: a peer may never send more than the window we granted. */
  constructor(maxDataBytes: number) {
    this.#maxDataBytes = maxDataBytes;
  }

  check(chunk: Uint8Array): string | undefined {
    if (this.#failed !== undefined) return this.#failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, chunk.length - i);
        this.#payloadLeft -= n;
        i += n;
        continue;
      }
      const n = Math.min(FRAME_HEADER_BYTES - this.#headerFill, chunk.length - i);
      this.#header.set(chunk.subarray(i, i + n), this.#headerFill);
      this.#headerFill += n;
      i += n;
      if (this.#headerFill < FRAME_HEADER_BYTES) break;
      this.#headerFill = 0;
      this.#failed = this.#validate();
      if (this.#failed !== undefined) return this.#failed;
    }
    return undefined;
  }

  #validate(): string | undefined {
    const h = this.#header;
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    if (h[0] !== YAMUX_VERSION) return `unsupported yamux version ${h[0]}`;
    const type = h[1] ?? 0;
    if (type > MAX_TYPE) return `unknown frame type ${type}`;
    if (type === TYPE_DATA) {
      const length = view.getUint32(8);
      if (length > this.#maxDataBytes)
        return `data frame of ${length} bytes exceeds the largest window ${this.#maxDataBytes}`;
      this.#payloadLeft = length;
    }
    return undefined;
  }
}
