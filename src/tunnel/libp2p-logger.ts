// Bridges libp2p's debug-style Logger to a pino child logger. libp2p logs stream aborts at "error"; for the tunnel
// those are routine (a reset stream), so everything maps to debug/trace and real failures are logged by the session.
import type { Logger as Libp2pLogger } from '@libp2p/interface';
import type { Logger } from 'pino';

const noop = (): void => {};

export function libp2pLogger(logger: Logger, scope = 'yamux'): Libp2pLogger {
  const debugOn = logger.isLevelEnabled('debug');
  const traceOn = logger.isLevelEnabled('trace');
  const debug = debugOn
    ? (fmt: unknown, ...args: unknown[]): void => logger.debug({ scope }, String(fmt), ...args)
    : noop;
  const log = Object.assign(debug, {
    error: debug,
    trace: traceOn ? (fmt: unknown, ...args: unknown[]): void => logger.trace({ scope }, String(fmt), ...args) : noop,
    enabled: debugOn,
    newScope: (name: string): Libp2pLogger => libp2pLogger(logger, `${scope}:${name}`),
  });
  return log;
}
