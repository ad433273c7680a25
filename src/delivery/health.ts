/**
 * What ops need at 3 a.m. about each legacy system, beyond its queue: when it last took a case,
 * since when it has been failing and what it said last. One small hash per system
 * (`<prefix>:health:<systemId>`), written once per delivery outcome by the workers, so the systems
 * board reads it with one command per system however many cases there are.
 */
import type { RedisClient } from '../platform/redis';

export interface SystemHealthView {
  lastSuccessAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  /** The first failure since the last success: unset while the system takes cases. */
  failingSince?: string;
}

export class SystemHealth {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(systemId: string): string {
    return `${this.prefix}:health:${systemId}`;
  }

  /** The system answered (a refusal counts: it is alive): it is no longer failing. */
  async succeeded(systemId: string, at: string): Promise<void> {
    await this.redis.multi().hset(this.key(systemId), 'lastSuccessAt', at).hdel(this.key(systemId), 'failingSince').exec();
  }

  /** It could not be reached or answered in trouble; `failingSince` keeps the first such failure. */
  async failed(systemId: string, at: string, message: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(systemId), 'lastError', message.slice(0, 500), 'lastErrorAt', at)
      .hsetnx(this.key(systemId), 'failingSince', at)
      .exec();
  }

  async view(systemId: string): Promise<SystemHealthView> {
    const h = await this.redis.hgetall(this.key(systemId));
    const out: SystemHealthView = {};
    if (h.lastSuccessAt) out.lastSuccessAt = h.lastSuccessAt;
    if (h.lastError) out.lastError = h.lastError;
    if (h.lastErrorAt) out.lastErrorAt = h.lastErrorAt;
    if (h.failingSince) out.failingSince = h.failingSince;
    return out;
  }
}
