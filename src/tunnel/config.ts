// Tunnel session settings: defaults and `verifyConfig`, which rejects bad values with the field named.
// Every size bounds memory per session or per stream; see docs/tunnel.md "Limits".
import { TunnelError, TunnelErrorCode } from './errors.ts';

export interface TunnelConfig {
  /** Streams the peer may have open towards us at once. A SYN beyond this is answered with RST; the session lives on. */
  maxInboundStreams: number;
  /** Streams we may have open towards the peer at once. `openStream` beyond this fails with STREAMS_EXHAUSTED. */
  maxOutboundStreams: number;
  /** How often each side sends a yamux ping (ms). 0 disables keepalive. */
  keepAliveIntervalMs: number;
  /** A ping unanswered for this long (ms) closes the session with KEEPALIVE_TIMEOUT. */
  keepAliveTimeoutMs: number;
  /** Receive window a stream starts with (bytes). The yamux spec fixes 256 KiB as the minimum. */
  initialStreamWindowBytes: number;
  /** Largest receive window a stream may grow to (bytes): the most a slow reader buffers per stream. */
  maxStreamWindowBytes: number;
  /** Largest stream header (bytes of JSON) accepted; a bigger one resets that stream only. */
  maxHeaderBytes: number;
  /** A stream whose header has not arrived within this time (ms) is reset. */
  headerTimeoutMs: number;
  /** Largest WebSocket message we send and accept (bytes): use it as the server's `maxPayload`. */
  maxMessageBytes: number;
  /** Bytes queued on the transport above which every stream stops writing until it drains. */
  sendBufferBytes: number;
}

export const defaultTunnelConfig: Readonly<TunnelConfig> = Object.freeze({
  maxInboundStreams: 1024,
  maxOutboundStreams: 1024,
  keepAliveIntervalMs: 15_000,
  keepAliveTimeoutMs: 10_000,
  initialStreamWindowBytes: 256 * 1024,
  maxStreamWindowBytes: 4 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  headerTimeoutMs: 10_000,
  maxMessageBytes: 1024 * 1024,
  sendBufferBytes: 1024 * 1024,
});

const MIN_WINDOW = 256 * 1024;
const MAX_UINT32 = 2 ** 32 - 1;

/** Merges `overrides` over the defaults and checks the result. Throws a TunnelError (CONFIG_INVALID) naming every bad field. */
export function verifyConfig(overrides: Partial<TunnelConfig> = {}): TunnelConfig {
  const config: TunnelConfig = { ...defaultTunnelConfig };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in defaultTunnelConfig)) throw invalid([`unknown field ${key}`]);
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const problems: string[] = [];
  const integer = (field: keyof TunnelConfig, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${field} must be an integer between ${min} and ${max}, got ${String(v)}`);
    }
  };
  integer('maxInboundStreams', 1);
  integer('maxOutboundStreams', 1);
  integer('keepAliveIntervalMs', 0);
  integer('keepAliveTimeoutMs', 1);
  integer('initialStreamWindowBytes', MIN_WINDOW, MAX_UINT32);
  integer('maxStreamWindowBytes', MIN_WINDOW, MAX_UINT32);
  integer('maxHeaderBytes', 16, 1024 * 1024);
  integer('headerTimeoutMs', 1);
  integer('maxMessageBytes', 64 * 1024);
  integer('sendBufferBytes', 16 * 1024);
  if (config.maxStreamWindowBytes < config.initialStreamWindowBytes) {
    problems.push('maxStreamWindowBytes must be at least initialStreamWindowBytes');
  }
  if (problems.length > 0) throw invalid(problems);
  return config;
}

function invalid(problems: string[]): TunnelError {
  return new TunnelError(TunnelErrorCode.ConfigInvalid, `invalid tunnel config: ${problems.join('; ')}`);
}
