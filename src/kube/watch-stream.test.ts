import { describe, expect, it } from '@jest/globals';
import { decodeWatchEvents, WatchDecodeError } from './watch-stream.ts';

async function collect(chunks: (Uint8Array | string)[]): Promise<unknown[]> {
  const out: unknown[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const e of decodeWatchEvents(source())) out.push(e);
  return out;
}

const events = [
  { type: 'ADDED', object: { metadata: { name: 'ü', resourceVersion: '1' } } },
  { type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } },
  { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } },
];
const bytes = Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n');

describe('decodeWatchEvents', () => {
  it('decodes the same events whatever two places the body is cut', async () => {
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 7) {
        expect(await collect([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toEqual(events);
      }
    }
  });

  it('decodes a last line without a newline and skips blank lines', async () => {
    expect(await collect(['\n', JSON.stringify(events[1]), '\r\n\n', JSON.stringify(events[0])])).toEqual([
      events[1],
      events[0],
    ]);
  });

  it('throws a typed error for a line that is not an event', async () => {
    await expect(collect(['{"type":"ADDED"}\n'])).rejects.toBeInstanceOf(WatchDecodeError);
    await expect(collect(['{not json\n'])).rejects.toBeInstanceOf(WatchDecodeError);
  });
});
