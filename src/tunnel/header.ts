// The stream header: the first bytes the opener writes on every stream, telling the acceptor what the stream carries.
// Wire form: u32 big-endian length N, then N bytes of UTF-8 JSON `{"kind": …, …}`, then the stream's raw bytes.
import type { Readable } from 'node:stream';
import { TunnelError, TunnelErrorCode } from './errors.ts';

export const StreamKind = {
  /** HTTP/1.1 to the edge's Kubernetes API (requests, watches, upgrades for exec/port-forward). */
  K8s: 'k8s',
  /** A raw TCP pipe to the edge's SSH server. */
  Ssh: 'ssh',
  /** Echo: the acceptor writes back what it reads. Tests, benchmarks and interop. */
  PingTest: 'ping-test',
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

const KINDS: ReadonlySet<string> = new Set(Object.values(StreamKind));

/** `kind` selects the handler; other fields are kind-specific JSON and unknown ones are ignored by readers. */
export type StreamHeader = { kind: StreamKind } & Record<string, unknown>;

export const HEADER_PREFIX_BYTES = 4;

export function encodeStreamHeader(header: StreamHeader, maxHeaderBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > maxHeaderBytes) {
    throw new TunnelError(
      TunnelErrorCode.HeaderTooLarge,
      `stream header is ${json.length} bytes, limit ${maxHeaderBytes}`,
    );
  }
  const out = Buffer.allocUnsafe(HEADER_PREFIX_BYTES + json.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, HEADER_PREFIX_BYTES);
  return out;
}

/** Validates decoded header JSON; throws HEADER_INVALID. */
export function parseStreamHeader(json: Buffer): StreamHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw new TunnelError(TunnelErrorCode.HeaderInvalid, 'stream header is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TunnelError(TunnelErrorCode.HeaderInvalid, 'stream header is not a JSON object');
  }
  const kind = (value as Record<string, unknown>).kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) {
    throw new TunnelError(TunnelErrorCode.HeaderInvalid, `unknown stream kind ${JSON.stringify(kind)?.slice(0, 64)}`);
  }
  return value as StreamHeader;
}

export interface ReadHeaderOptions {
  maxHeaderBytes: number;
  timeoutMs: number;
}

/**
 * Reads the header off `stream` and leaves every byte after it unread; the stream is back in its initial state, so
 * attaching a 'data' listener or piping starts the flow as usual.
 * Rejects with HEADER_TOO_LARGE as soon as the length prefix exceeds the limit (the body is never buffered),
 * HEADER_INVALID on bad JSON or an early end, HEADER_TIMEOUT when it does not arrive in time.
 */
export function readStreamHeader(stream: Readable, opts: ReadHeaderOptions): Promise<StreamHeader> {
  return new Promise<StreamHeader>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    let total: number | undefined;
    let done = false;
    const finish = (err: Error | undefined, header?: StreamHeader, rest?: Buffer): void => {
      clearTimeout(timer);
      done = true;
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err !== undefined) {
        reject(err);
        return;
      }
      if (rest !== undefined && rest.length > 0) stream.unshift(rest);
      resolve(header!);
    };
    // 'readable' + read() rather than 'data': removing the listener returns the stream to its initial (non-flowing,
    // not paused) state, so the handler's own 'data' listener or pipe() starts it.
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!done && (chunk = stream.read() as Buffer | null) !== null) onData(chunk);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (total === undefined) {
        if (have < HEADER_PREFIX_BYTES) return;
        const prefix = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
        const length = prefix.readUInt32BE(0);
        if (length > opts.maxHeaderBytes) {
          finish(
            new TunnelError(
              TunnelErrorCode.HeaderTooLarge,
              `stream header of ${length} bytes exceeds the limit ${opts.maxHeaderBytes}`,
            ),
          );
          return;
        }
        total = HEADER_PREFIX_BYTES + length;
      }
      if (have < total) return;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      let header: StreamHeader;
      try {
        header = parseStreamHeader(buf.subarray(HEADER_PREFIX_BYTES, total));
      } catch (err) {
        finish(err as Error);
        return;
      }
      finish(undefined, header, buf.subarray(total));
    };
    const onEnd = (): void => finish(new TunnelError(TunnelErrorCode.HeaderInvalid, 'stream ended before its header'));
    const onClose = (): void =>
      finish(new TunnelError(TunnelErrorCode.HeaderInvalid, 'stream closed before its header'));
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => {
      finish(new TunnelError(TunnelErrorCode.HeaderTimeout, `no stream header within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
