// Creates the process's root pino logger; components get children of it (passed in, never imported). A person at a
// terminal reads coloured one-line messages (pino-pretty); anything else (files, journald, a log collector) gets one
// JSON object per line. KEDGE_LOG_FORMAT=json|pretty overrides the choice.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

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
    pretty({ colorize: true, sync: true, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}
