import { PermanentError, RetryableError } from '../platform/failure';
import { decide, nextAttemptDelay } from './decision';

const policy = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 1000, maxDelayMs: 600_000 } };

describe('when an attempt fails', () => {
  it('then a permanent error is a rejection, whatever attempt it was', () => {
    expect(decide(new PermanentError('no'), 1, policy)).toEqual({ kind: 'rejected' });
    expect(decide(new PermanentError('no'), 3, policy)).toEqual({ kind: 'rejected' });
  });

  it('then a retryable error (or any surprise) is retried until the last attempt, then dead', () => {
    expect(decide(new RetryableError('down'), 1, policy)).toEqual({ kind: 'retry' });
    expect(decide(new Error('surprise'), 2, policy)).toEqual({ kind: 'retry' });
    expect(decide(new RetryableError('down'), 3, policy)).toEqual({ kind: 'dead' });
  });

  it('then a 429 holds the queue for Retry-After (or the first backoff), spending no attempt, even on the last one', () => {
    expect(decide(new RetryableError('busy', 5000, { throttled: true }), 3, policy)).toEqual({ kind: 'throttled', holdMs: 5000 });
    expect(decide(new RetryableError('busy', undefined, { throttled: true }), 1, policy)).toEqual({ kind: 'throttled', holdMs: 1000 });
  });

  it('then the next attempt waits the backoff, or longer when the system asked', () => {
    expect(nextAttemptDelay(policy, 1, new RetryableError('down'))).toBe(1000);
    expect(nextAttemptDelay(policy, 1, new RetryableError('down', 30_000))).toBe(30_000);
    expect(nextAttemptDelay(policy, 1, new RetryableError('down', 10))).toBe(1000);
    expect(nextAttemptDelay(undefined, 1, undefined)).toBe(60_000);
  });
});
