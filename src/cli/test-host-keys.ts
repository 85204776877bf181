// Tests only: syntactically valid host-key lines of a given type (the blob names its type, as sshd's do), without
// real key material, for the CLI's host-key tests.
import { hostKeyLine } from '../api/host-keys.ts';

export function fakeHostKeyLine(type: string, body: string): string {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return hostKeyLine(Buffer.concat([len, t, Buffer.from(body)])) ?? '';
}
