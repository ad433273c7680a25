/**
 * What a failed attempt means for a delivery: the one decision (retry when, dead when, held how
 * long), and the only code that writes `dead`. Attempts are counted in one place, the case store
 * (`beginAttempt`): a throttled try gives its attempt back, a replay starts again from zero, and
 * BullMQ's own count is only a backstop that our decision always reaches first.
 */
import type { RetryPolicy } from '../config/schema';
import type { CaseStore } from '../cases/store';
import { PermanentError, RetryableError } from '../platform/failure';
import { retryDelay } from './backoff';

/** Anything not known to be permanent is retried, so a surprise never loses a case. */
export function isRetryable(err: unknown): boolean {
  return !(err instanceof PermanentError);
}

export type Verdict =
  /** Refused for good (the system said no, or our mapping cannot build the case). */
  | { kind: 'rejected' }
  /** The system is fine but we are too fast: the whole queue holds, no attempt is spent. */
  | { kind: 'throttled'; holdMs: number }
  | { kind: 'retry' }
  /** Attempts exhausted: a dead letter ops can replay. */
  | { kind: 'dead' };

/** `attempt` is this attempt's number in the store's count (the first is 1). */
export function decide(err: unknown, attempt: number, policy: RetryPolicy): Verdict {
  if (!isRetryable(err)) return { kind: 'rejected' };
  if (err instanceof RetryableError && err.throttled) return { kind: 'throttled', holdMs: Math.max(1, err.retryAfterMs ?? retryDelay(policy, 1)) };
  return attempt >= policy.attempts ? { kind: 'dead' } : { kind: 'retry' };
}


/** How long before the next attempt: the policy's backoff, or longer when the system asked (Retry-After). */
export function nextAttemptDelay(policy: RetryPolicy | undefined, attemptsMade: number, err: unknown): number {
  const delay = policy ? retryDelay(policy, attemptsMade) : 60_000;
  return err instanceof RetryableError && err.retryAfterMs !== undefined ? Math.max(delay, err.retryAfterMs) : delay;
}

/** Records a delivery dead, with why; the only place a delivery becomes `dead`. */
export async function recordDead(store: CaseStore, caseId: string, systemId: string, message: string, at: string, detail = message, requestId?: string): Promise<void> {
  await store.record(caseId, systemId, { status: 'dead', lastError: message, ...(requestId ? { requestId } : {}) }, { at, event: 'dead', detail });
}
