/**
 * Watches the clocks of open cases and warns the intake platform: `case.due_soon` when the working
 * days left reach the item's `warnDays`, `case.overdue` once the promised (else legal) limit has
 * passed, each once per case and clock run (a restart after 补正 or a special procedure is a new run).
 *
 * Nothing is timed in memory. Every watched case is in one sorted set in Redis, scored by when it
 * should next be looked at; a change to its clock (acceptance, a stop, a restart) scores it "now".
 * A BullMQ job scheduler ticks in whichever process is free, and a tick looks at the cases whose
 * time has come, computes their clocks from what is stored, sends what is due and scores each for
 * its next moment. A warning is marked in the case's own hash in the same script that queues it
 * in the case's outbox, so a tick repeated after a crash, or two at once, sends it once; and the
 * outbox's dispatcher signs and retries it as it does every case event.
 *
 * A look also flags the case as due soon or overdue (or neither) for the gauges, which then read
 * one small hash of counts, never the cases. An overdue case is not looked at again until its
 * clock or a delivery changes (the store scores it then), which is when its flag can change.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import type { GatewayConfig } from '../config/loader';
import type { CaseStore, ClockFlag } from '../cases/store';
import { caseIdSchema, type DeliveryView } from '../cases/model';
import { bullQueue } from '../delivery/queues';
import type { Logger } from '../platform/logger';
import { LuaScripts } from '../platform/lua';
import { PeriodicJob } from '../platform/periodic';
import type { RedisClient } from '../platform/redis';
import { caseClock } from './case-clock';

export const TIME_LIMIT_QUEUE = bullQueue('time-limits');

export const timeLimitEventTypeSchema = z.enum(['case.due_soon', 'case.overdue']);
export type TimeLimitEventType = z.infer<typeof timeLimitEventTypeSchema>;

/** What the intake platform is told of a case's time limit; the same eventId on every try. */
export const timeLimitEventSchema = z.object({
  eventId: z.string(),
  event: timeLimitEventTypeSchema,
  caseId: caseIdSchema,
  itemCode: z.string(),
  promisedDueAt: z.string().optional(),
  legalDueAt: z.string().optional(),
  at: z.string(),
});
export type TimeLimitEvent = z.infer<typeof timeLimitEventSchema>;

/**
 * What a case due soon or overdue is counted as: its catalogue entry, and the systems it waits on
 * (those whose delivery has not ended; all of them when none is left open, e.g. a dead letter discarded).
 */
function flagOf(event: TimeLimitEventType, item: string, deliveries: readonly DeliveryView[]): ClockFlag {
  const waiting = deliveries.filter((d) => d.status !== 'completed' && d.status !== 'rejected').map((d) => d.systemId);
  return { state: event === 'case.overdue' ? 'overdue' : 'due_soon', item, systems: waiting.length ? waiting : deliveries.map((d) => d.systemId) };
}

/** Cases looked at per tick at most; the rest wait for the next tick, oldest first. */
const BATCH = 500;

export interface MonitorDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  /** A connection that waits out Redis outages. */
  redis: RedisClient;
  connection: ConnectionOptions;
  /** BullMQ's key prefix. */
  bullPrefix: string;
  /** The gateway's key prefix. */
  prefix: string;
  log: Logger;
  now?: () => Date;
  /** How often the scheduler ticks (default 60 s). */
  tickMs?: number;
  /** Whether warnings go to the intake platform (a callback URL is set); they are marked either way. */
  events: boolean;
  /** Asks for a case's outbox to be drained (the callback dispatcher). */
  notify: (caseId: string) => void;
}

export interface CheckReport {
  checked: number;
  sent: Array<{ caseId: string; event: TimeLimitEventType }>;
}

export class TimeLimitMonitor {
  private readonly ticks: PeriodicJob;
  private readonly scripts: LuaScripts<'warn' | 'reschedule'>;

  constructor(private readonly deps: MonitorDeps) {
    this.scripts = new LuaScripts(deps.redis, path.join(__dirname, 'lua'), ['warn', 'reschedule']);
    this.ticks = new PeriodicJob({ queue: TIME_LIMIT_QUEUE, schedulerId: 'time-limits', jobName: 'check', connection: deps.connection, prefix: deps.bullPrefix, log: deps.log, run: () => this.check() });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async start(): Promise<void> {
    const every = this.deps.tickMs ?? 60_000;
    // 0: no scheduled checks at all, only check() when called (a test that moves its own clock: a
    // scheduler's first tick runs whenever its worker gets to it, which may be after the clock moved).
    if (every <= 0) return;
    await this.ticks.start(every);
  }

  /** Whether the worker runs (when started). */
  running(): boolean {
    return this.ticks.running();
  }

  async close(): Promise<void> {
    await this.ticks.close();
  }

  /** One tick: every watched case whose time has come is looked at, warned of if due, and scored again. */
  async check(): Promise<CheckReport> {
    const now = this.now();
    const { redis, store } = this.deps;
    const due = await redis.zrangebyscore(store.watchKey, '-inf', now.getTime(), 'WITHSCORES', 'LIMIT', 0, BATCH);
    const report: CheckReport = { checked: 0, sent: [] };
    for (let i = 0; i < due.length; i += 2) {
      const caseId = due[i]!;
      const score = due[i + 1]!;
      report.checked++;
      const next = await this.look(caseId, now, report);
      await this.scripts.run('reschedule', [store.watchKey], [caseId, score, next === undefined ? '' : String(next)]);
    }
    if (report.sent.length) this.deps.log.info({ sent: report.sent.length, checked: report.checked }, 'time-limit warnings sent');
    return report;
  }

  /** Looks at one case; answers when to look again (ms), or undefined to stop watching it. */
  private async look(caseId: string, now: Date, report: CheckReport): Promise<number | undefined> {
    const { store } = this.deps;
    const [view, entries] = await Promise.all([store.view(caseId), store.clock(caseId)]);
    const config = this.deps.config().timeLimits;
    const clock = view ? caseClock({ ...view, clock: entries }, config, now) : undefined;
    const event: TimeLimitEventType | undefined = !clock || clock.view.state !== 'running' ? undefined : clock.view.overdue ? 'case.overdue' : clock.dueSoonAt && now >= clock.dueSoonAt ? 'case.due_soon' : undefined;
    await store.flagClock(caseId, view && event ? flagOf(event, config.items.find(view.itemCode)!.itemCode, view.deliveries) : undefined);
    // Stopped or done: nothing to warn of. A restart, and a decision, score the case again.
    if (!view || !clock || clock.view.state !== 'running') return undefined;
    if (event && (await this.warn(caseId, view.itemCode, clock.run, event, clock.view, now))) report.sent.push({ caseId, event });
    if (clock.view.overdue) return undefined; // nothing more to say in this run
    const moments = [clock.dueSoonAt, clock.overdueAt].filter((m): m is Date => m !== undefined && m > now).map((m) => m.getTime());
    return moments.length ? Math.min(...moments) : undefined;
  }

  private async warn(caseId: string, itemCode: string, run: number, event: TimeLimitEventType, due: { promisedDueAt?: string; legalDueAt?: string }, now: Date): Promise<boolean> {
    const body: TimeLimitEvent = {
      eventId: crypto.randomUUID(),
      event,
      caseId,
      itemCode,
      ...(due.promisedDueAt ? { promisedDueAt: due.promisedDueAt } : {}),
      ...(due.legalDueAt ? { legalDueAt: due.legalDueAt } : {}),
      at: now.toISOString(),
    };
    const { store } = this.deps;
    const marked = (await this.scripts.run('warn', [store.warnedKey(caseId), store.outboxKey(caseId)], [`${run}:${event}`, this.deps.events ? JSON.stringify(body) : '', body.at])) === 1;
    if (marked && this.deps.events) this.deps.notify(caseId);
    return marked;
  }
}
