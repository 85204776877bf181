// Public surface of the tunnel: yamux sessions over WebSocket, typed stream headers, the hub's session registry and
// the agent's reconnect loop. Wire protocol: docs/tunnel.md.
export { TunnelSession, createWebSocketSession, createDuplexSession, webSocketOptions } from './session.ts';
export type { SessionOptions, SessionRole, StreamHandler, SessionEvents } from './session.ts';
export { TunnelStream } from './stream.ts';
export { StreamKind, encodeStreamHeader, readStreamHeader, parseStreamHeader } from './header.ts';
export type { StreamHeader } from './header.ts';
export { defaultTunnelConfig, verifyConfig } from './config.ts';
export type { TunnelConfig } from './config.ts';
export { TunnelError, TunnelErrorCode, isTunnelError } from './errors.ts';
export { SessionRegistry } from './registry.ts';
export type { RegistrableSession, RegistryEvents } from './registry.ts';
export { Reconnector, defaultReconnectBackoff } from './reconnect.ts';
export type { ReconnectOptions, ReconnectEvents, ReconnectableSession } from './reconnect.ts';
