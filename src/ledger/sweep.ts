/**
 * The ledger sweep: moves finished cases from Redis to the ledger and purges the ledger past
 * `retention.ledger`. It runs as a BullMQ job scheduler, so the schedule lives in Redis and one
 * process runs each tick however many are up.
 *
 * A case goes through two sorted sets the case store keeps (never a key scan):
 *   ledger:finished  cases that may be final → once final, written to the ledger, then
 *   ledger:archived  scored by finish time → after `retention.hot`, written again (whatever changed
 *                    meanwhile) and only then removed from Redis.
 * Ledger write first, Redis delete second: a crash in between repeats the move, an upsert, and the
 * ledger holds the case either way. A ledger outage stops the sweep where it is; Redis keeps every
 * case and the next tick carries on. A row the ledger refuses is set aside (quarantine.ts) and the
 * rest go on.
 */
import type { ConnectionOptions } from 'bullmq';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/loader';
import type { CaseSnapshot, CaseStore } from '../cases/store';
import { clockStopped } from '../timelimits/case-clock';
import { jobIdFor, type DeliveryQueues } from '../delivery/queues';
import type { Logger } from '../platform/logger';
import { PeriodicJob } from '../platform/periodic';
import { registerLedgerGauges } from '../platform/metrics';
import type { RedisClient } from '../platform/redis';
import { auditStreamKey } from '../admin/operations';
import { ArchivedIds } from './archived-ids';
import { drainStream, type StreamEntry } from './audit';
import { durationMs } from './config';
import { archiveOf, type ArchivedCase, type Ledger, type PurgeCount } from './ledger';
import { Quarantine, refusalOf, refusedTextPath, writeOrSetAside, type QuarantinedKind } from './quarantine';

// In braces, a Cluster hash tag: one slot for all the queue's keys (see bullQueue in delivery/queues).
export const SWEEP_QUEUE = '{ledger-sweep}';
/** At most this many cases per sorted set and tick, so one tick stays short. */
const BATCH = 200;
const MAX_PER_TICK = 5000;
/** A case that is not final yet (a delivery still open, a dead letter not discarded) is looked at again after this. */
const RECHECK_MS = 10 * 60_000;
/** Case ids read from the ledger per query while the archived-ids filter is filled. */
const FILL_PAGE = 5000;
/** Audit entries and look-ups are network logs: kept six months at least (网络安全法 §21), whatever retention.ledger says. */
export const AUDIT_MIN_RETENTION_MS = 180 * 86_400_000;

export interface SweepDeps {
  ledger: Ledger;
  /** A store and connection that wait out Redis outages (role `worker`). */
  store: CaseStore;
  redis: RedisClient;
  queues: DeliveryQueues;
  config: () => GatewayConfig;
  connection: ConnectionOptions;
  prefix: string;
  /** The gateway's key prefix, where the audit streams are (`prefix` is BullMQ's). */
  keyPrefix: string;
  log: Logger;
  registry?: Registry;
  now?: () => Date;
  /** Where the test hook is read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The fetched-material cache: a case's files go when the case leaves Redis. */
  materials?: { forget(caseId: string): Promise<void> };
}

export interface SweepReport {
  /** Audit entries and look-ups moved from their Redis streams to the ledger. */
  drained: number;
  written: number;
  removed: number;
  /** Final cases whose removal waits (undelivered callbacks, a job still queued). */
  postponed: number;
  /** Cases and audit entries the ledger refused, set aside in the quarantine. */
  quarantined: number;
  purged?: PurgeCount;
  /** Set when the ledger did not answer: the sweep stopped there and Redis keeps the rest. */
  error?: string;
}

export function isFinal(snapshot: CaseSnapshot): boolean {
  return (
    snapshot.complete &&
    snapshot.deliveries.length === snapshot.record.targets.length &&
    snapshot.deliveries.every((d) => d.status === 'completed' || d.status === 'rejected' || (d.status === 'dead' && d.discarded)) &&
    // A case waiting on its applicant (补正) or a special procedure is open, whatever its deliveries say.
    !clockStopped(snapshot.clock)
  );
}

export class LedgerSweep {
  private readonly ticks: PeriodicJob;
  /** Test hook: die like kill -9 between the ledger write and the Redis delete. */
  private readonly crashAfterWrite: boolean;
  private readonly archivedIds: ArchivedIds;
  private readonly quarantine: Quarantine;

  constructor(private readonly deps: SweepDeps) {
    this.archivedIds = new ArchivedIds(deps.redis, deps.keyPrefix);
    this.quarantine = new Quarantine(deps.redis, deps.keyPrefix);
    this.ticks = new PeriodicJob({ queue: SWEEP_QUEUE, schedulerId: 'ledger-sweep', jobName: 'sweep', connection: deps.connection, prefix: deps.prefix, log: deps.log, run: () => this.sweep() });
    this.crashAfterWrite = (deps.env ?? process.env).OW_TEST_CRASH_AFTER_LEDGER_WRITE === '1';
    if (deps.registry) {
      const { ledger, redis, store } = deps;
      registerLedgerGauges(deps.registry, {
        up: () => ledger.healthy(),
        waiting: async () => {
          const [finished, archived] = await Promise.all([redis.zcard(store.finishedKey), redis.zcard(store.archivedKey)]);
          return { finished, archived };
        },
        quarantined: () => this.quarantine.count(),
      });
    }
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Holds the schedule in Redis, every retention.sweepEvery, and runs the ticks in this process. */
  async start(): Promise<void> {
    await this.ticks.start(durationMs(this.deps.config().gateway.retention.sweepEvery));
  }

  async close(): Promise<void> {
    await this.ticks.close();
  }

  /** One tick: write what became final, remove what is past `retention.hot`, purge past `retention.ledger`. */
  async sweep(at: Date = this.now()): Promise<SweepReport> {
    const report: SweepReport = { drained: 0, written: 0, removed: 0, postponed: 0, quarantined: 0 };
    const { retention } = this.deps.config().gateway;
    const t = at.getTime();
    try {
      await this.drainAudit(report);
      await this.fillArchivedIds();
      await this.writeFinished(t, report);
      await this.removeHot(t - durationMs(retention.hot), t, report);
      const keep = durationMs(retention.ledger);
      report.purged = await this.deps.ledger.purge(new Date(t - keep), new Date(t - Math.max(keep, AUDIT_MIN_RETENTION_MS)));
    } catch (err) {
      report.error = (err as Error).message;
      this.deps.log.warn({ err: report.error, written: report.written, removed: report.removed }, 'ledger sweep stopped early; Redis keeps the rest until the next tick');
    }
    if (report.written || report.removed || report.quarantined || report.purged?.cases || report.purged?.audit || report.purged?.lookups) this.deps.log.info({ ...report }, 'ledger sweep');
    return report;
  }

  /** Both audit streams, oldest first: into the ledger, then out of Redis. */
  private async drainAudit(report: SweepReport): Promise<void> {
    const { redis, ledger, keyPrefix } = this.deps;
    const setAside = (kind: QuarantinedKind) => async ({ id, entry }: StreamEntry, err: unknown) => {
      // The look-up's person hash stays out: the quarantine is listed to viewers.
      const kept = entry.lookup ? { ...entry, lookup: { ...entry.lookup, personKey: undefined } } : entry;
      await this.setAside(kind, id, err, refusedTextPath(entry), report, { entry: kept });
    };
    report.drained += await drainStream(redis, auditStreamKey(keyPrefix, 'ops'), (entries) => ledger.writeAudit(entries), setAside('audit'));
    report.drained += await drainStream(redis, auditStreamKey(keyPrefix, 'shared-data'), (entries) => ledger.writeLookups(entries), setAside('lookup'));
  }

  /** Keeps a refused row in the quarantine, says so, and counts it. */
  private async setAside(kind: QuarantinedKind, id: string, err: unknown, path: string | undefined, report: SweepReport, more: { stage?: 'finished' | 'archived'; entry?: StreamEntry['entry'] } = {}): Promise<void> {
    const error = refusalOf(err);
    await this.quarantine.add({ kind, id, at: this.now().toISOString(), ...more, ...(path ? { path } : {}), error });
    this.deps.log.error({ kind, id, path, err: error }, 'the ledger refused a row: set aside in the quarantine, the sweep goes on');
    report.quarantined++;
  }

  /** A case the ledger refused: set aside, and out of the sweep's set so no tick tries it again. */
  private async setAsideCase(caseId: string, archived: ArchivedCase, err: unknown, stage: 'finished' | 'archived', report: SweepReport): Promise<void> {
    await this.setAside('case', caseId, err, refusedTextPath(archived), report, { stage });
    await this.deps.redis.zrem(stage === 'finished' ? this.deps.store.finishedKey : this.deps.store.archivedKey, caseId);
  }

  /** A filter without its marker (see archived-ids): every id the ledger holds goes in, then the marker. */
  private async fillArchivedIds(): Promise<void> {
    if (await this.archivedIds.complete()) return;
    for (let after = ''; ; ) {
      const ids = await this.deps.ledger.caseIdsAfter(after, FILL_PAGE);
      await this.archivedIds.add(ids);
      if (ids.length < FILL_PAGE) break;
      after = ids.at(-1)!;
    }
    await this.archivedIds.markComplete();
  }

  private level(systemId: string): string | undefined {
    return this.deps.config().systems.get(systemId)?.level;
  }

  private async writeFinished(t: number, report: SweepReport): Promise<void> {
    const { redis, store, ledger } = this.deps;
    for (let seen = 0; seen < MAX_PER_TICK; ) {
      const ids = await redis.zrangebyscore(store.finishedKey, '-inf', t, 'LIMIT', 0, BATCH);
      seen += ids.length;
      const final: Array<{ caseId: string; archived: ArchivedCase }> = [];
      for (const caseId of ids) {
        const snapshot = await store.snapshot(caseId);
        if (!snapshot) await redis.zrem(store.finishedKey, caseId);
        else if (!isFinal(snapshot)) await redis.zadd(store.finishedKey, 'XX', t + RECHECK_MS, caseId);
        else final.push({ caseId, archived: archiveOf(snapshot, (id) => this.level(id)) });
      }
      // The batch into the ledger in one transaction, then the sets: a crash between repeats the batch.
      const written = await writeOrSetAside(
        final,
        (batch) => ledger.writeCases(batch.map((f) => f.archived)),
        (f, err) => this.setAsideCase(f.caseId, f.archived, err, 'finished', report),
      );
      // Into the archived-ids filter now, retention.hot before the case leaves Redis: by then the
      // filter's write has long reached every replica, even on a Cluster where it is another master's.
      await this.archivedIds.add(written.map((f) => f.caseId));
      for (const { caseId, archived } of written) {
        // Two sets in two slots (no MULTI on a Cluster): added first, so a crash between leaves the
        // case in both, and the next tick writes it again (idempotent) rather than forgetting it.
        await redis.zadd(store.archivedKey, Date.parse(archived.finishedAt), caseId);
        await redis.zrem(store.finishedKey, caseId);
        report.written++;
      }
      if (ids.length < BATCH) return;
    }
  }

  private async removeHot(cutoff: number, t: number, report: SweepReport): Promise<void> {
    const { redis, store, ledger } = this.deps;
    // A postponed case is scored so that it is ripe again after RECHECK_MS.
    const postpone = (caseId: string) => redis.zadd(store.archivedKey, 'XX', cutoff + RECHECK_MS, caseId);
    for (let seen = 0; seen < MAX_PER_TICK; ) {
      const ids = await redis.zrangebyscore(store.archivedKey, '-inf', cutoff, 'LIMIT', 0, BATCH);
      seen += ids.length;
      const ripe: Array<{ caseId: string; snapshot: CaseSnapshot; archived: ArchivedCase }> = [];
      for (const caseId of ids) {
        const snapshot = await store.snapshot(caseId);
        if (!snapshot) {
          await redis.zrem(store.archivedKey, caseId); // removed by an earlier tick that died before this
          continue;
        }
        if (!isFinal(snapshot)) {
          // A discarded dead letter was replayed: the case is live again, and Redis answers for it.
          // Added first, as above: in both sets for a moment is safe, in neither would be lost.
          await redis.zadd(store.finishedKey, t + RECHECK_MS, caseId);
          await redis.zrem(store.archivedKey, caseId);
          continue;
        }
        // Undelivered callbacks live in the case's outbox, and a job may still be due: both wait.
        if (snapshot.outboxLength > 0 || !(await this.jobsSettled(snapshot))) {
          await postpone(caseId);
          report.postponed++;
          continue;
        }
        ripe.push({ caseId, snapshot, archived: archiveOf(snapshot, (id) => this.level(id)) });
      }
      // Written once more as they are now (a late history entry is not lost), in one transaction,
      // before anything of them leaves Redis. One the ledger now refuses stays in Redis, set aside.
      const leaving = await writeOrSetAside(
        ripe,
        (batch) => ledger.writeCases(batch.map((r) => r.archived)),
        (r, err) => this.setAsideCase(r.caseId, r.archived, err, 'archived', report),
      );
      if (this.crashAfterWrite && leaving.length > 0) process.kill(process.pid, 'SIGKILL');
      for (const { caseId, snapshot } of leaving) {
        await this.removeJobs(snapshot);
        await store.removeCase(snapshot);
        await this.deps.materials?.forget(caseId).catch((err: Error) => this.deps.log.warn({ caseId, err: err.message }, 'fetched materials of a removed case not deleted; the cache bound will'));
        await redis.zrem(store.archivedKey, caseId);
        report.removed++;
      }
      if (ids.length < BATCH) return;
    }
  }

  private async jobsSettled(snapshot: CaseSnapshot): Promise<boolean> {
    for (const d of snapshot.deliveries) {
      const job = await this.deps.queues.queue(d.systemId).getJob(jobIdFor(snapshot.record.case.caseId));
      if (!job) continue;
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
    }
    return true;
  }

  private async removeJobs(snapshot: CaseSnapshot): Promise<void> {
    for (const d of snapshot.deliveries) {
      const job = await this.deps.queues.queue(d.systemId).getJob(jobIdFor(snapshot.record.case.caseId));
      await job?.remove();
    }
  }
}
