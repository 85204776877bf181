// Creates the process's root pino logger; components get children of it (passed in, never imported). A person at a
// terminal reads coloured one-line messages (pino-pretty); anything else (files, journald, a log collector) gets one
// JSON object per line. KEDGE_LOG_FORMAT=json|pretty overrides the choice.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type pinoPretty from 'pino-pretty';

// pino-pretty (and its colour and date libraries) only for a terminal: a service (an agent on a Raspberry Pi, the hub)
// logs JSON and never loads it.
const loadPretty = (): typeof pinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;

export type LogFormat = 'json' | 'pretty';

/** `pretty` when stdout is a terminal, unless KEDGE_LOG_FORMAT says otherwise. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): LogFormat {
  if (env.KEDGE_LOG_FORMAT === 'json' || env.KEDGE_LOG_FORMAT === 'pretty') return env.KEDGE_LOG_FORMAT;
  return isTTY ? 'pretty' : 'json';
}

export function createLogger(
  name: string,
  level = process.env.KEDGE_LOG_LEVEL ?? 'info',
  format: LogFormat = logFormat(),
): Logger {
  const opts = {
    name,
    level,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], remove: true },
  };
  if (format === 'json') return pino(opts);
  // Synchronous on the main thread: no transport worker to lose lines when the process exits on a fatal error.
  return pino(
    opts,
    loadPretty()({ colorize: true, sync: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}
