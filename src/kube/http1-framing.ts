// HTTP/1.1 request framing for a byte relay (RFC 9112 §2–§7): where a request head ends, what it says, and where
// its body ends, so a relay can rewrite heads and pass bodies on unchanged. Strict on purpose: anything a
// request-smuggling trick relies on (obsolete line folding, both Content-Length and Transfer-Encoding, a coding other
// than `chunked`, differing Content-Lengths, bare LF, control characters) is refused, never guessed at. Pure.

/** Request line and headers together may not exceed this (Node's own default for its HTTP server). */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export interface RequestHead {
  method: string;
  /** The request-target as sent (origin form, e.g. `/api/v1/pods?watch=1`). */
  target: string;
  /** [name, value] in order, names as sent. */
  headers: [string, string][];
  /** Bytes of the head including the blank line. */
  size: number;
  body: BodyFraming;
  /** `Connection: upgrade` with an `Upgrade` header: the bytes after this request are another protocol. */
  upgrade: boolean;
  /** `Connection: close`: no request follows on this connection. */
  close: boolean;
}

export type HeadResult =
  | { ok: true; head: RequestHead }
  | { ok: false; incomplete: true }
  | { ok: false; incomplete: false; status: 400 | 431; reason: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible ASCII and obs-text, with spaces and tabs inside (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;
const CRLF2 = Buffer.from('\r\n\r\n');

const bad = (reason: string): HeadResult => ({ ok: false, incomplete: false, status: 400, reason });

/** Reads one request head from the start of `buf`; `incomplete` means: wait for more bytes. */
export function parseRequestHead(buf: Buffer, maxBytes = MAX_REQUEST_HEAD_BYTES): HeadResult {
  const end = buf.indexOf(CRLF2);
  if ((end < 0 && buf.length >= maxBytes) || end + 4 > maxBytes)
    return { ok: false, incomplete: false, status: 431, reason: 'request header fields too large' };
  if (end < 0) return { ok: false, incomplete: true };
  const text = buf.toString('latin1', 0, end);
  if (/(^|[^\r])\n|\r(?!\n)/.test(text)) return bad('bare CR or LF in the request head');
  const lines = text.split('\r\n');
  const requestLine = (lines[0] ?? '').split(' ');
  if (requestLine.length !== 3) return bad('malformed request line');
  const [method = '', target = '', version = ''] = requestLine;
  if (!TOKEN.test(method)) return bad('malformed method');
  if (!TARGET.test(target)) return bad('the request target must be an absolute path');
  if (version !== 'HTTP/1.1') return bad(`unsupported protocol version ${JSON.stringify(version)}`);
  const headers: [string, string][] = [];
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  let hasUpgrade = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) return bad('malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return bad('malformed header name'); // also refuses obs-fold (leading whitespace)
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) return bad(`control characters in header ${name}`);
    headers.push([name, value]);
    switch (name.toLowerCase()) {
      case 'content-length':
        if (!/^\d{1,15}$/.test(value)) return bad('malformed Content-Length');
        if (contentLength !== undefined && contentLength !== value) return bad('conflicting Content-Length headers');
        contentLength = value;
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection':
        connection += `,${value.toLowerCase()}`;
        break;
      case 'upgrade':
        hasUpgrade = true;
        break;
    }
  }
  let body: BodyFraming = { kind: 'none' };
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return bad('both Transfer-Encoding and Content-Length');
    if (transferEncoding.toLowerCase() !== 'chunked') return bad('a transfer coding other than chunked');
    body = { kind: 'chunked' };
  } else if (contentLength !== undefined && Number(contentLength) > 0) {
    body = { kind: 'length', length: Number(contentLength) };
  }
  const tokens = new Set(connection.split(',').map((t) => t.trim()));
  return {
    ok: true,
    head: {
      method,
      target,
      headers,
      size: end + 4,
      body,
      upgrade: hasUpgrade && tokens.has('upgrade'),
      close: tokens.has('close'),
    },
  };
}

/** Chunk-size lines and trailer lines longer than this are refused. */
const MAX_LINE = 4096;

/**
 * Finds the end of a chunked body in the bytes as they arrive, without copying or changing them. `scan` returns the
 * offset in `buf` just past the body's end, `-1` when the body goes on past `buf`, or an error.
 */
export class ChunkedBodyScanner {
  #state: 'size' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'trailer-lf' = 'size';
  #size = 0;
  #digits = 0;
  #inExtension = false;
  #remaining = 0;
  #lineLength = 0;

  scan(buf: Buffer, from = 0): number | Error {
    let i = from;
    while (i < buf.length) {
      const c = buf[i] as number;
      switch (this.#state) {
        case 'size':
          if (++this.#lineLength > MAX_LINE) return new Error('chunk-size line too long');
          if (c === 0x0d) {
            if (this.#digits === 0) return new Error('missing chunk size');
            this.#state = 'size-lf';
          } else if (this.#inExtension) {
            if (c !== 0x09 && (c < 0x20 || c === 0x7f)) return new Error('control character in a chunk extension');
          } else if (c === 0x3b) {
            if (this.#digits === 0) return new Error('missing chunk size');
            this.#inExtension = true;
          } else {
            const d = hexDigit(c);
            if (d < 0 || this.#digits >= 12) return new Error('malformed chunk size');
            this.#size = this.#size * 16 + d;
            this.#digits++;
          }
          i++;
          break;
        case 'size-lf':
          if (c !== 0x0a) return new Error('chunk-size line not ended by CRLF');
          i++;
          this.#lineLength = 0;
          if (this.#size === 0) this.#state = 'trailer';
          else {
            this.#remaining = this.#size;
            this.#state = 'data';
          }
          break;
        case 'data': {
          const take = Math.min(this.#remaining, buf.length - i);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (c !== 0x0d) return new Error('chunk data not followed by CRLF');
          this.#state = 'data-lf';
          i++;
          break;
        case 'data-lf':
          if (c !== 0x0a) return new Error('chunk data not followed by CRLF');
          this.#reset();
          i++;
          break;
        case 'trailer':
          // Trailer fields end with an empty line; a field line's content is passed on as it is.
          if (c === 0x0d) this.#state = 'trailer-lf';
          else if (++this.#lineLength > MAX_LINE) return new Error('trailer line too long');
          else if (c === 0x0a) return new Error('bare LF in the trailer');
          i++;
          break;
        case 'trailer-lf':
          if (c !== 0x0a) return new Error('trailer line not ended by CRLF');
          i++;
          if (this.#lineLength === 0) {
            this.#reset();
            return i;
          }
          this.#lineLength = 0;
          this.#state = 'trailer';
          break;
      }
    }
    return -1;
  }

  #reset(): void {
    this.#state = 'size';
    this.#size = 0;
    this.#digits = 0;
    this.#inExtension = false;
    this.#lineLength = 0;
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
