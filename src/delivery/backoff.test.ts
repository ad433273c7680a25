import { retryDelay } from './backoff';

describe('retry delay', () => {
  const policy = { attempts: 8, backoff: { type: 'exponential' as const, delayMs: 1000, maxDelayMs: 10_000 } };

  it('when exponential, then it doubles, is jittered within [half, whole], and is capped', () => {
    expect(retryDelay(policy, 1, () => 0)).toBe(500);
    expect(retryDelay(policy, 1, () => 1)).toBe(1000);
    expect(retryDelay(policy, 3, () => 1)).toBe(4000);
    expect(retryDelay(policy, 3, () => 0)).toBe(2000);
    expect(retryDelay(policy, 20, () => 1)).toBe(10_000);
  });

  it('when fixed, then every wait is the same', () => {
    expect(retryDelay({ attempts: 3, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 0 } }, 5)).toBe(250);
  });
});
