/**
 * pino JSON logs. Secrets and personal data never reach a line: auth headers and tokens are
 * redacted by path, ID, phone and bank card numbers in free text are masked, and callers log case
 * ids, never case bodies.
 *
 * Every line carries the current log context (src/platform/context.ts): the request id, and the
 * case, system and attempt a line is about, so that one id finds every line a case caused.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context';
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

const bound = new WeakMap<Logger, Set<string>>();

/**
 * The keys a logger binds, once per logger: pino's bindings() parses the logger's serialized
 * bindings on every call, which the mixin would otherwise do on every line. (Nothing here calls
 * setBindings, which would change them afterwards.)
 */
function boundKeys(logger: Logger): Set<string> {
  let keys = bound.get(logger);
  if (!keys) {
    keys = new Set(Object.keys(logger.bindings()));
    bound.set(logger, keys);
  }
  return keys;
}

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
    // The context's fields, except those a child logger already binds (a key written twice is
    // ambiguous to log shippers); what the call itself passes wins over both.
    mixin(_merge, _level, logger) {
      const ctx = currentContext();
      if (!ctx) return {};
      const bound = boundKeys(logger as Logger);
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(ctx)) if (value !== undefined && !bound.has(key)) out[key] = value;
      return out;
    },
  };
}

/** Logs to stdout, or to `file` (the demo keeps its screen for the progress bar). */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', file?: string): Logger {
  const options = loggerOptions(level);
  return file ? pino(options, pino.destination({ dest: file, mkdir: true, sync: false })) : pino(options);
}
