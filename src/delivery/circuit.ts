/**
 * A circuit breaker per legacy system, kept in Redis so every gateway process sees the same state.
 *
 * closed → (failureThreshold consecutive retryable failures) → open → (cooldownMs) → half-open:
 * exactly one probe delivery is let through; its success closes the circuit, its failure opens it
 * again. While a circuit is open the system's queue is held, so waiting deliveries spend no attempts.
 */
import type { CircuitBreakerPolicy } from '../config/schema';
import type { RedisClient } from '../platform/redis';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitView {
  state: CircuitState;
  failures: number;
  /** When an open circuit lets its probe through (ISO time). */
  openUntil?: string;
}

export type Admission = { send: true; probe: boolean } | { send: false; waitMs: number };

// Decides whether a delivery may go out now; makes the caller the probe when the cool-down is over.
const ADMIT_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
local now = tonumber(ARGV[1])
if state == 'open' then
  local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until'))
  if now < untilMs then return {'wait', tostring(untilMs - now)} end
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'until', tostring(now + tonumber(ARGV[2])))
  return {'probe', '0'}
end
if state == 'half_open' then
  local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until'))
  -- Look again soon: the probe's outcome decides, and it may come any moment.
  if now < untilMs then return {'wait', tostring(math.min(untilMs - now, 500))} end
  -- The probe never reported back (its process died): let another one try.
  redis.call('HSET', KEYS[1], 'until', tostring(now + tonumber(ARGV[2])))
  return {'probe', '0'}
end
return {'send', '0'}
`;

// Counts a retryable failure; opens the circuit at the threshold, or at once after a failed probe.
const FAILURE_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if state == 'half_open' or (state ~= 'open' and failures >= tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'until', tostring(tonumber(ARGV[1]) + tonumber(ARGV[3])))
  return 1
end
return 0
`;

export class CircuitBreakers {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(systemId: string): string {
    return `${this.prefix}:circuit:${systemId}`;
  }

  /** `probeTimeoutMs` bounds how long a half-open circuit waits for its probe's outcome. */
  async admit(systemId: string, now: number, probeTimeoutMs: number): Promise<Admission> {
    const [verdict, wait] = (await this.redis.eval(ADMIT_SCRIPT, 1, this.key(systemId), String(now), String(probeTimeoutMs))) as [string, string];
    if (verdict === 'wait') return { send: false, waitMs: Number(wait) };
    return { send: true, probe: verdict === 'probe' };
  }

  async succeeded(systemId: string): Promise<void> {
    await this.redis.hset(this.key(systemId), 'state', 'closed', 'failures', '0', 'until', '0');
  }

  /** Answers true when this failure opened the circuit. */
  async failed(systemId: string, now: number, policy: CircuitBreakerPolicy): Promise<boolean> {
    const opened = await this.redis.eval(FAILURE_SCRIPT, 1, this.key(systemId), String(now), String(policy.failureThreshold), String(policy.cooldownMs));
    return opened === 1;
  }

  async view(systemId: string): Promise<CircuitView> {
    const h = await this.redis.hgetall(this.key(systemId));
    const state = (h.state as CircuitState | undefined) ?? 'closed';
    return { state, failures: Number(h.failures ?? 0), ...(state !== 'closed' && h.until ? { openUntil: new Date(Number(h.until)).toISOString() } : {}) };
  }

  async reset(systemId: string): Promise<void> {
    await this.redis.del(this.key(systemId));
  }
}
