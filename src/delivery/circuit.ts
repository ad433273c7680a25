/**
 * A circuit breaker per legacy system, kept in Redis so every gateway process sees the same state.
 *
 * closed → (failureThreshold consecutive retryable failures) → open → (cooldownMs) → half-open:
 * exactly one probe delivery is let through; its success closes the circuit, its failure opens it
 * again. While a circuit is open the system's queue is held, so waiting deliveries spend no attempts.
 */
import path from 'node:path';
import { z } from 'zod';
import type { CircuitBreakerPolicy } from '../config/schema';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';


export const circuitViewSchema = z.object({
  state: z.enum(['closed', 'open', 'half_open']),
  /** Consecutive retryable failures. */
  failures: z.number().int().min(0),
  openUntil: z.iso.datetime().optional().describe('When an open circuit lets its probe delivery through.'),
});
export type CircuitView = z.infer<typeof circuitViewSchema>;
export type CircuitState = CircuitView['state'];

/** `clean`: closed with no failure counted, so a success has nothing to reset. */
export type Admission = { send: true; probe: boolean; clean: boolean } | { send: false; waitMs: number };

export class CircuitBreakers {
  private readonly scripts: LuaScripts<'admit' | 'fail'>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['admit', 'fail']);
  }

  private key(systemId: string): string {
    return `${this.prefix}:circuit:${systemId}`;
  }

  /** `probeTimeoutMs` bounds how long a half-open circuit waits for its probe's outcome. */
  async admit(systemId: string, now: number, probeTimeoutMs: number): Promise<Admission> {
    const [verdict, wait] = (await this.scripts.run('admit', [this.key(systemId)], [now, probeTimeoutMs])) as [string, string];
    if (verdict === 'wait') return { send: false, waitMs: Number(wait) };
    return { send: true, probe: verdict === 'probe', clean: verdict === 'send' && wait === '0' };
  }

  async succeeded(systemId: string): Promise<void> {
    await this.redis.hset(this.key(systemId), 'state', 'closed', 'failures', '0', 'until', '0');
  }

  /** Answers true when this failure opened the circuit. */
  async failed(systemId: string, now: number, policy: CircuitBreakerPolicy): Promise<boolean> {
    const opened = await this.scripts.run('fail', [this.key(systemId)], [now, policy.failureThreshold, policy.cooldownMs]);
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
