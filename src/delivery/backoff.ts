import type { RetryPolicy } from '../config/schema';

/**
 * How long to wait before attempt `attemptsMade + 1`. Exponential delays get "equal jitter"
 * (half fixed, half random) so that a burst of failures against one system does not come back
 * as a synchronised burst of retries.
 */
export function retryDelay(policy: RetryPolicy, attemptsMade: number, random: () => number = Math.random): number {
  const { type, delayMs, maxDelayMs } = policy.backoff;
  if (type === 'fixed') return delayMs;
  const exponential = Math.min(maxDelayMs, delayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
