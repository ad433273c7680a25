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

/** Keys whose values never reach a line, whoever logs them: at the top of a line or of a logger's bindings, and one level down in a line. */
const SECRET_KEYS = ['authorization', 'token', 'password', 'secret', 'idNumber', 'phone'];
const secretKeys = new Set(SECRET_KEYS);
const REDACTED = '[redacted]';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error);

/** The object itself when it names no secret, else a copy with each secret's value redacted. */
function withoutSecrets(value: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) if (secretKeys.has(key)) (copy ??= { ...value })[key] = REDACTED;
  return copy ?? value;
}

/** A log call's arguments with free text masked and secrets one level down redacted: the message, and the fields of its object. */
function maskedArgs(args: unknown[]): unknown[] {
  return args.map((arg) => {
    if (typeof arg === 'string') return maskPersonalData(arg);
    if (!isPlainObject(arg)) return arg;
    return Object.fromEntries(
      Object.entries(arg).map(([k, v]) => [k, typeof v === 'string' ? maskPersonalData(v) : typeof v === 'number' ? maskNumber(v) : isPlainObject(v) ? withoutSecrets(v) : v]),
    );
  });
}

export type { Logger };

/**
 * Paths pino redacts by itself, whoever logs them (request logs included: no header values at all).
 * Secrets by name are redacted by the options below instead of pino's wildcard paths (`*.token`),
 * which ran a redaction over every field of every child logger made: a tenth of the bytes a
 * delivery allocated.
 */
const REDACT_PATHS = ['req.headers', 'res.headers', 'headers.cookie', 'body', 'req.body'];

/** The options every gateway logger is made with (tests build their capturing logger from them too). */
export function loggerOptions(level = process.env.LOG_LEVEL ?? 'info'): LoggerOptions {
  return {
    level,
    base: { service: 'onewindow-gateway', pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // A secret at the top of a line or of a child logger's bindings (serializers apply to both).
    serializers: Object.fromEntries(SECRET_KEYS.map((key) => [key, () => REDACTED])),
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
