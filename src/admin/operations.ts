/**
 * What ops staff can do to the delivery machinery: look at every system's queue, pause and resume a
 * system, and replay or discard dead letters. Every action is audited with who did it and when.
 */
import type { AuditEntry, DeadLetter, SystemStatus, SystemVersion } from '../api-schemas';
import { SystemConfigInvalid, VersionConflict, type LiveConfig } from '../config/live';
import type { GatewayConfig } from '../config/loader';
import type { CaseStore } from '../cases/store';
import type { CircuitBreakers } from '../delivery/circuit';
import { jobIdFor, type DeliveryQueues } from '../delivery/queues';
import { ApiError } from '../platform/errors';
import type { Role } from '../platform/auth';
import type { RedisClient } from '../platform/redis';

// The shapes ops are answered with are the zod schemas docs/openapi.yaml is generated from.
export type { AuditEntry, DeadLetter, SystemStatus, SystemVersion };

/** Which audit trail: ops actions, or shared-data look-ups (CONTRACT §9). */
export type AuditTrail = 'ops' | 'shared-data';

export interface Operator {
  /** Who acted, for the audit trail: the X-OW-Operator header, with the token's fingerprint. */
  who: string;
  role?: Role;
}

export interface OperationsDeps {
  config: () => GatewayConfig;
  live: LiveConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  circuits: CircuitBreakers;
  redis: RedisClient;
  prefix: string;
  now?: () => Date;
}

export function deadLetterId(systemId: string, caseId: string): string {
  return `${systemId}.${caseId}`;
}

function parseDeadLetterId(id: string): { systemId: string; caseId: string } {
  const dot = id.indexOf('.');
  if (dot <= 0) throw new ApiError('not_found', `No dead letter ${id}.`);
  return { systemId: id.slice(0, dot), caseId: id.slice(dot + 1) };
}

export class Operations {
  constructor(private readonly deps: OperationsDeps) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private system(systemId: string) {
    const system = this.deps.config().systems.get(systemId);
    if (!system) throw new ApiError('unknown_system', `No legacy system "${systemId}" is configured.`);
    return system;
  }

  /**
   * Appends to an audit trail, newest first. Shared-data look-ups have a trail of their own: a busy
   * window makes thousands a day, which would push ops actions out of the capped main trail.
   */
  async audit(entry: Omit<AuditEntry, 'at'>, trail: AuditTrail = 'ops'): Promise<void> {
    const full: AuditEntry = { at: this.now(), ...entry };
    const { key, cap } = this.trail(trail);
    await this.deps.redis.lpush(key, JSON.stringify(full));
    await this.deps.redis.ltrim(key, 0, cap - 1);
  }

  async auditTrail(limit = 200, trail: AuditTrail = 'ops'): Promise<AuditEntry[]> {
    return (await this.deps.redis.lrange(this.trail(trail).key, 0, limit - 1)).map((e) => JSON.parse(e) as AuditEntry);
  }

  private trail(trail: AuditTrail): { key: string; cap: number } {
    return trail === 'ops' ? { key: `${this.deps.prefix}:audit`, cap: 10_000 } : { key: `${this.deps.prefix}:audit:shared-data`, cap: 50_000 };
  }

  async systems(): Promise<SystemStatus[]> {
    return Promise.all(
      [...this.deps.config().systems.values()].map(async (s) => {
        const queue = this.deps.queues.queue(s.id);
        const [paused, counts, circuit] = await Promise.all([queue.isPaused(), queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'), this.deps.circuits.view(s.id)]);
        return {
          id: s.id,
          name: s.name,
          level: s.level,
          protocol: s.protocol,
          paused,
          circuit,
          queue: { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
        };
      }),
    );
  }

  /** A paused system keeps queueing deliveries and sends nothing, in every gateway process. */
  async setPaused(systemId: string, paused: boolean, by: Operator, reason?: string): Promise<SystemStatus> {
    this.system(systemId);
    const queue = this.deps.queues.queue(systemId);
    await (paused ? queue.pause() : queue.resume());
    await this.audit({ who: by.who, role: by.role, action: paused ? 'system.pause' : 'system.resume', target: systemId, reason });
    return (await this.systems()).find((s) => s.id === systemId)!;
  }

  showSystem(systemId: string): SystemVersion {
    this.system(systemId);
    const shown = this.deps.live.show(systemId)!;
    return { id: systemId, ...shown };
  }

  /** Stores a new version of a system's configuration; every gateway process uses it within seconds. */
  async putSystem(systemId: string, raw: unknown, by: Operator): Promise<SystemVersion> {
    this.system(systemId);
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ApiError('invalid_config', 'The body must be the system file as a JSON object.');
    try {
      const stored = await this.deps.live.put(systemId, raw as Record<string, unknown>, by.who);
      await this.audit({ who: by.who, role: by.role, action: 'system.configure', target: systemId, detail: `version ${stored.version}` });
      return { id: systemId, ...stored };
    } catch (err) {
      if (err instanceof SystemConfigInvalid) throw new ApiError('invalid_config', undefined, err.issues.map((i) => ({ path: i.path || '(body)', message: i.message })));
      if (err instanceof VersionConflict) throw new ApiError('version_conflict', err.message);
      throw err;
    }
  }

  async deadLetters(filter: { systemId?: string; error?: string } = {}): Promise<DeadLetter[]> {
    const systems = [...this.deps.config().systems.keys()].filter((id) => !filter.systemId || id === filter.systemId);
    const letters: DeadLetter[] = [];
    for (const systemId of systems) {
      const failed = await this.deps.queues.queue(systemId).getFailed(0, -1);
      for (const job of failed) {
        const caseId = job.data.caseId;
        const delivery = await this.deps.store.delivery(caseId, systemId);
        if (!delivery || delivery.status !== 'dead') continue;
        const lastError = delivery.lastError ?? job.failedReason ?? '';
        if (filter.error && !lastError.toLowerCase().includes(filter.error.toLowerCase())) continue;
        letters.push({ id: deadLetterId(systemId, caseId), caseId, systemId, attempts: delivery.attempts, lastError, failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString() });
      }
    }
    return letters.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
  }

  private async deadLetter(id: string) {
    const { systemId, caseId } = parseDeadLetterId(id);
    const system = this.system(systemId);
    const job = await this.deps.queues.queue(systemId).getJob(jobIdFor(caseId));
    const status = await this.deps.store.deliveryStatus(caseId, systemId);
    if (status !== 'dead') throw new ApiError('not_found', `No dead letter ${id}.`);
    return { system, systemId, caseId, job };
  }

  /** Queues a dead delivery again, with fresh attempts and the same idempotency key. */
  async replay(id: string, by: Operator, reason?: string): Promise<void> {
    const { system, systemId, caseId, job } = await this.deadLetter(id);
    const detail = `replayed by ${by.who}${reason ? `: ${reason}` : ''}`;
    await this.deps.store.record(caseId, systemId, { status: 'queued', attempts: 0 }, { at: this.now(), event: 'replayed', detail });
    if (job && (await job.isFailed())) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    else await this.deps.queues.enqueue(system, caseId); // the failed job was already cleaned up
    await this.audit({ who: by.who, role: by.role, action: 'dead_letter.replay', target: id, reason });
  }

  async replayMany(filter: { systemId?: string; error?: string }, by: Operator, reason?: string): Promise<string[]> {
    const letters = await this.deadLetters(filter);
    for (const letter of letters) await this.replay(letter.id, by, reason);
    return letters.map((l) => l.id);
  }

  /** Gives up on a dead delivery for good; the delivery stays `dead` and the reason is kept. */
  async discard(id: string, by: Operator, reason: string): Promise<void> {
    const { systemId, caseId, job } = await this.deadLetter(id);
    await job?.remove();
    await this.deps.store.discard(caseId, systemId, { at: this.now(), event: 'discarded', detail: `discarded by ${by.who}: ${reason}` });
    await this.audit({ who: by.who, role: by.role, action: 'dead_letter.discard', target: id, reason });
  }
}
