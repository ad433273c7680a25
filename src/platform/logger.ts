/**
 * pino JSON logs. Secrets and personal data never reach a line: auth headers and tokens are
 * redacted by path, and callers log case ids, never case bodies.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/** Logs to stdout, or to `file` (the demo keeps its screen for the progress bar). */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', file?: string): Logger {
  const options = {
    level,
    base: { service: 'onewindow-gateway' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.password', '*.secret', '*.idNumber', '*.phone'],
      censor: '[redacted]',
    },
  };
  return file ? pino(options, pino.destination({ dest: file, mkdir: true, sync: false })) : pino(options);
}
