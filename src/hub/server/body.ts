// Bounded request bodies: a body larger than the limit is refused, never buffered whole, and whatever the client
// still sends after the refusal (or after any early answer) is discarded only up to a bound before the connection
// is closed, so a 50 MB upload costs the hub at most about one more mebibyte.
import type { IncomingMessage } from 'node:http';
import { HubError, HubErrorCode } from '../errors.ts';

export class BodyTooLargeError extends HubError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(HubErrorCode.BodyTooLarge, `the request body exceeds the limit of ${limitBytes} bytes`, { httpStatus: 413 });
    this.limitBytes = limitBytes;
  }
}

/** How much of an unwanted body is read and dropped (keeping the connection usable) before it is closed. */
export const DISCARD_LIMIT = { bytes: 1024 * 1024, ms: 10_000 };

/**
 * Reads the whole body, at most `limitBytes`. A declared Content-Length over the limit is refused before reading
 * anything. On BodyTooLargeError the rest of the body is being discarded (see `discardBody`): answer 413 at once.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    discardBody(req);
    return Promise.reject(new BodyTooLargeError(limitBytes));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0)); // already consumed: 'end' will not come again
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        done();
        discardBody(req);
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(new Error('the client closed the connection before the body was complete'));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Drops the rest of a body the hub will not use. Up to `DISCARD_LIMIT` it is read and dropped, so the connection
 * stays usable and the client, still writing, is not reset before it read the answer; past that the connection is
 * closed. (Breaking out of a `for await` over the request instead would destroy the socket before the answer.)
 */
export function discardBody(req: IncomingMessage, limit = DISCARD_LIMIT): void {
  if (req.complete || req.destroyed) return;
  let dropped = 0;
  const timer = setTimeout(() => req.socket.destroy(), limit.ms);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limit.bytes) {
      clearTimeout(timer);
      req.socket.destroy();
    }
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
