// Decodes a watch response body (one JSON event per line) into events. Chunks may split a line — or a multi-byte
// UTF-8 character — anywhere; a line is parsed only once its newline (or the end of the body) has arrived.
import type { KubeObject, WatchEvent } from './types.ts';
import { KedgeError } from '../api/errors.ts';

/** A watch line that is not a JSON event. Typed so callers can tell it from transport errors. */
export class WatchDecodeError extends KedgeError<'KEDGE_KUBE_WATCH_DECODE'> {
  override name = 'WatchDecodeError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('KEDGE_KUBE_WATCH_DECODE', message, options);
  }
}

export async function* decodeWatchEvents<T extends KubeObject = KubeObject>(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<WatchEvent<T>> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const event = parseLine<T>(line);
      if (event) yield event;
      nl = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  const event = parseLine<T>(pending);
  if (event) yield event;
}

function parseLine<T extends KubeObject>(line: string): WatchEvent<T> | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new WatchDecodeError(`watch line is not JSON (${text.length} bytes)`, { cause });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { type?: unknown }).type !== 'string' ||
    typeof (parsed as { object?: unknown }).object !== 'object'
  ) {
    throw new WatchDecodeError('watch line is not an event with type and object');
  }
  return parsed as WatchEvent<T>;
}
