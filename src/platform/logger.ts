/**
 * pino JSON logs. Secrets and personal data never reach a line: auth headers and tokens are
 * redacted by path, ID, phone and bank card numbers in free text are masked, and callers log case
 * ids, never case bodies.
 *
 * What a line is about (the request id, the case, system and attempt) comes from the child logger
 * the work is given: the HTTP edge makes one per request, each job one of its own, so that one id
 * finds every line a case caused.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';
import { maskNumber, maskPersonalData } from './privacy';

/** A log call's arguments with free text masked: the message, and the string (and number) fields of its object. */
function maskedArgs(args: unknown[]): unknown[] {
  return args.map((arg) => {
    if (typeof arg === 'string') return maskPersonalData(arg);
    if (!arg || typeof arg !== 'object' || Array.isArray(arg) || arg instanceof Error) return arg;
    return Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, typeof v === 'string' ? maskPersonalData(v) : typeof v === 'number' ? maskNumber(v) : v]));
  });
}

export type { Logger };

/** Paths that never reach a line, whoever logs them (request logs included: no header values at all). */
export const REDACT_PATHS = [
  'req.headers',
  'res.headers',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.idNumber',
  '*.phone',
  'body',
  'req.body',
];

/** The options every gateway logger is made with (tests build their capturing logger from them too). */
export function loggerOptions(level = process.env.LOG_LEVEL ?? 'info'): LoggerOptions {
  return {
    level,
    base: { service: 'onewindow-gateway', pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Paths catch what has a name; free text (an error's message quoting a reply, say) is masked too.
    hooks: {
      logMethod(args, method) {
        method.apply(this, maskedArgs(args) as Parameters<typeof method>);
      },
    },
  };
}

/** Logs to stdout, or to `file` (the demo keeps its screen for the progress bar). */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', file?: string): Logger {
  const options = loggerOptions(level);
  return file ? pino(options, pino.destination({ dest: file, mkdir: true, sync: false })) : pino(options);
}
