/** HTTP matters shared by the adapters that speak over HTTP (rest, xml, soap). */
import crypto from 'node:crypto';
import axios from 'axios';
import type { Auth } from '../src/config/schema';
import { PermanentError, RetryableError, errorMessage } from '../src/delivery/errors';
import { sign } from '../src/platform/signing';

/** The headers that authenticate a request; wsse lives inside the SOAP envelope instead. */
export function authHeaders(auth: Auth, body: string): Record<string, string> {
  switch (auth.type) {
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { Authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
    case 'hmac': {
      const timestamp = Math.floor(Date.now() / 1000);
      return { 'X-OW-Timestamp': String(timestamp), 'X-OW-Nonce': crypto.randomUUID(), 'X-OW-Signature': sign(auth.secret, timestamp, body) };
    }
    default:
      return {};
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The HTTP status decision: 5xx, 408 and 429 are the system's trouble and are retried; any other
 * 4xx says the request itself is wrong and will be refused again.
 */
export function classifyHttpStatus(systemId: string, status: number, retryAfter: unknown, snippet: string): void {
  if (status >= 200 && status < 300) return;
  const what = `${systemId} answered HTTP ${status}${snippet ? `: ${snippet.replace(/\s+/g, ' ').trim()}` : ''}`;
  if (status === 429) throw new RetryableError(what, parseRetryAfter(retryAfter), { throttled: true });
  if (status >= 500 || status === 408) throw new RetryableError(what, parseRetryAfter(retryAfter));
  throw new PermanentError(what);
}

/** A request that got no HTTP answer at all: refused, reset, timed out. Always worth retrying. */
export function transportError(systemId: string, timeoutMs: number, err: unknown): RetryableError {
  if (axios.isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT') {
      return new RetryableError(`${systemId} did not answer within ${timeoutMs} ms`, undefined, { cause: err });
    }
    return new RetryableError(`${systemId} could not be reached (${err.code ?? err.message})`, undefined, { cause: err });
  }
  return new RetryableError(`${systemId} could not be reached (${errorMessage(err)})`, undefined, { cause: err });
}
