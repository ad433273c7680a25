import { redactUrlsIn } from './privacy';

/**
 * The two ways a call to a legacy system can fail, in a home both the adapters (which raise them)
 * and the delivery queue (which decides what they mean) may import. Every failure is one or the
 * other, decided once, where it happens: a RetryableError is worth another attempt later (the system is down, slow, overloaded
 * or said "try again"); a PermanentError will fail the same way every time (the system refused the
 * case, or our mapping cannot build it), so retrying would only delay the intake platform's answer.
 * Their messages go to lastError, the history, dead letters, callbacks, logs and spans, so a URL in
 * one loses its password and credential-like parameters here, where every failure is made.
 */
export class RetryableError extends Error {
  constructor(
    message: string,
    /** How long the system asked us to wait (e.g. from Retry-After), if it said. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown; throttled?: boolean },
  ) {
    super(redactUrlsIn(message), options);
    this.name = 'RetryableError';
    this.throttled = options?.throttled ?? false;
  }

  /** The system said "too many requests" (HTTP 429): slow down, it is not broken. */
  readonly throttled: boolean;
}

export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(redactUrlsIn(message), options);
    this.name = 'PermanentError';
  }
}

/** What went wrong, as it may be stored and shown: a URL in it (a failed fetch names its own) loses its credentials. */
export function errorMessage(err: unknown): string {
  return redactUrlsIn(err instanceof Error ? err.message : String(err));
}
