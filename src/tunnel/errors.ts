// Typed errors of the tunnel (yamux over WebSocket). One code per condition; callers match on `code`, never on text.
// The codes are listed in docs/tunnel.md and docs/errors.md.
import { KedgeError } from '../api/errors.ts';

export const TunnelErrorCode = {
  ConfigInvalid: 'KEDGE_TUNNEL_CONFIG_INVALID',
  Protocol: 'KEDGE_TUNNEL_PROTOCOL',
  KeepAliveTimeout: 'KEDGE_TUNNEL_KEEPALIVE_TIMEOUT',
  TransportClosed: 'KEDGE_TUNNEL_TRANSPORT_CLOSED',
  SessionClosed: 'KEDGE_TUNNEL_SESSION_CLOSED',
  SessionReplaced: 'KEDGE_TUNNEL_SESSION_REPLACED',
  StreamReset: 'KEDGE_TUNNEL_STREAM_RESET',
  StreamsExhausted: 'KEDGE_TUNNEL_STREAMS_EXHAUSTED',
  HeaderTooLarge: 'KEDGE_TUNNEL_HEADER_TOO_LARGE',
  HeaderInvalid: 'KEDGE_TUNNEL_HEADER_INVALID',
  HeaderTimeout: 'KEDGE_TUNNEL_HEADER_TIMEOUT',
} as const;
export type TunnelErrorCode = (typeof TunnelErrorCode)[keyof typeof TunnelErrorCode];

export class TunnelError extends KedgeError<TunnelErrorCode> {
  override name = 'TunnelError';
}

export function isTunnelError(err: unknown, code?: TunnelErrorCode): err is TunnelError {
  return err instanceof TunnelError && (code === undefined || err.code === code);
}
