// Creates the process's root pino logger; components get children of it (passed in, never imported).
import { pino, type Logger } from 'pino';

export function createLogger(name: string, level = process.env.KEDGE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], remove: true } });
}
