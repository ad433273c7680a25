/**
 * Signed callbacks to the intake platform.
 *
 * Each case has an outbox in Redis, written in the same script as the status change it reports, so
 * no event is lost even if the process dies right after the change. A BullMQ job per new event asks
 * for the case's outbox to be drained; a per-case lock lets one drainer at a time send the events
 * oldest first, so the platform sees a case's events in the order they happened. An event leaves the
 * outbox only after a 2xx; until then it is retried with backoff, the same eventId and body each time.
 */
import path from 'node:path';
import crypto from 'node:crypto';
import { Queue, Worker, type ConnectionOptions, type Job, type Telemetry } from 'bullmq';
import { saneRequestId } from '../platform/context';
import type { Metrics } from '../platform/metrics';
import { inSpan, SpanKind, traceHeaders } from '../platform/tracing';
import type { GatewayConfig } from '../config/loader';
import type { CaseStore } from '../cases/store';
import { retryDelay } from '../delivery/backoff';
import { replyLimit } from '../delivery/endpoints';
import { errorMessage } from '../platform/failure';
import type { Logger } from '../platform/logger';
import { LuaScripts } from '../platform/lua';
import { jobLockTiming, scanKeys, type RedisClient } from '../platform/redis';
import { sign } from '../platform/signing';

// In braces, a Cluster hash tag: one slot for all the queue's keys (see bullQueue in delivery/queues).
export const CALLBACK_QUEUE = '{callbacks}';

interface DrainJob {
  caseId: string;
  /** The request id of what changed the case; sent as X-Request-Id with the callback. */
  requestId?: string;
}

/** Another drainer holds the case's lock; come back very soon rather than after a full backoff. */
class OutboxBusy extends Error {
  constructor() {
    super('outbox busy');
  }
}

const LOCK_MS = 60_000;

/**
 * Reads and drops the platform's reply, at most `limit` bytes (`limits.maxReplyBytes`): only its
 * status counts, and a reply that keeps coming must hold neither memory nor the outbox.
 */
async function discardReply(res: Response, limit: number): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
      if (read > limit) return void (await reader.cancel());
    }
  } catch {
    // The status is known; what follows it does not matter.
  }
}

export interface CallbackDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  /** A connection that waits out Redis outages (role `worker`). */
  redis: RedisClient;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  /** How long one POST may take. */
  timeoutMs?: number;
  /** Base of the exponential backoff between tries (capped at 10 minutes). */
  retryDelayMs?: number;
  metrics?: Metrics;
  telemetry?: Telemetry;
}

export class CallbackDispatcher {
  private readonly queue: Queue<DrainJob>;
  private worker?: Worker<DrainJob>;
  private readonly scripts: LuaScripts<'ack' | 'unlock'>;

  constructor(private readonly deps: CallbackDeps) {
    this.scripts = new LuaScripts(deps.redis, path.join(__dirname, 'lua'), ['ack', 'unlock']);
    this.queue = new Queue<DrainJob>(CALLBACK_QUEUE, { connection: deps.connection, prefix: deps.prefix, ...(deps.telemetry ? { telemetry: deps.telemetry } : {}) });
    this.queue.on('error', () => undefined); // outages are handled by the callers and by retries
  }

  private get target() {
    const { callbackUrl, callbackSecret } = this.deps.config().gateway.intake;
    return callbackUrl && callbackSecret ? { url: callbackUrl, secret: callbackSecret } : undefined;
  }

  /**
   * Asks for the case's outbox to be drained; call after anything that may have added an event.
   * `requestId` is what changed the case; without one, the drain sends the case's own.
   */
  async notify(caseId: string, requestId?: string): Promise<void> {
    if (!this.target) return;
    await this.queue.add(
      'drain',
      { caseId, ...(requestId ? { requestId } : {}) },
      {
        jobId: crypto.randomUUID(),
        // "Retried with backoff until a 2xx": in practice days, at the 10-minute cap.
        attempts: 1_000_000,
        backoff: { type: 'callback' },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }

  start(): void {
    if (!this.target || this.worker) return;
    const base = this.deps.retryDelayMs ?? 1000;
    this.worker = new Worker<DrainJob>(CALLBACK_QUEUE, (job) => this.drain(job), {
      connection: this.deps.connection,
      ...(this.deps.telemetry ? { telemetry: this.deps.telemetry } : {}),
      prefix: this.deps.prefix,
      concurrency: 8,
      maxStalledCount: 100,
      ...jobLockTiming(),
      settings: {
        backoffStrategy: (attemptsMade, _type, err) => {
          if (err instanceof OutboxBusy) return 100 + Math.floor(Math.random() * 200);
          return retryDelay({ attempts: Number.MAX_SAFE_INTEGER, backoff: { type: 'exponential', delayMs: base, maxDelayMs: 600_000 } }, attemptsMade);
        },
      },
    });
    this.worker.on('error', (err) => this.deps.log.error({ err: errorMessage(err) }, 'callback worker error'));
    void this.sweep().catch((err: Error) => this.deps.log.error({ err: err.message }, 'callback outbox sweep failed'));
  }

  /**
   * Finds outboxes with events but no drain job (the process died between writing an event and
   * queueing its job) and queues them. Run at start-up.
   */
  async sweep(): Promise<number> {
    let found = 0;
    // Braces are literal in a MATCH pattern; only the * is a wildcard. On a Cluster, every master.
    const pattern = this.deps.store.outboxKey('*');
    for await (const keys of scanKeys(this.deps.redis, pattern)) {
      for (const key of keys) {
        const caseId = /\{(.+)\}:outbox$/.exec(key)?.[1];
        if (caseId && (await this.deps.redis.llen(key)) > 0) {
          await this.notify(caseId);
          found++;
        }
      }
    }
    return found;
  }

  private async drain(job: Job<DrainJob>): Promise<void> {
    const { caseId } = job.data;
    const { redis, store } = this.deps;
    const target = this.target;
    if (!target) return;
    const lockKey = `${store.outboxKey(caseId)}:lock`;
    const token = crypto.randomUUID();
    if ((await redis.set(lockKey, token, 'PX', LOCK_MS, 'NX')) !== 'OK') throw new OutboxBusy();
    // The request id of the job, else (a time-limit event, the start-up sweep) the case's, read once there is something to send.
    let requestId = saneRequestId(job.data.requestId);
    let looked = requestId !== undefined;
    try {
      for (;;) {
        const head = await redis.lindex(store.outboxKey(caseId), 0);
        if (head === null) return;
        if (!looked) {
          looked = true;
          requestId = saneRequestId((await store.getCase(caseId).catch(() => undefined))?.requestId);
        }
        await this.post(target, head, caseId, requestId);
        await this.scripts.run('ack', [store.outboxKey(caseId)], [head]);
        await redis.pexpire(lockKey, LOCK_MS);
      }
    } finally {
      await this.scripts.run('unlock', [lockKey], [token]);
    }
  }

  private post(target: { url: string; secret: string }, body: string, caseId: string, requestId: string | undefined): Promise<void> {
    // A time-limit event (case.due_soon, case.overdue) is the case's, of no one system.
    const parsed = JSON.parse(body) as { eventId: string; event: string; systemId?: string };
    const event = { ...parsed, systemId: parsed.systemId ?? '' };
    return inSpan(`callback ${event.event}`, SpanKind.CLIENT, { 'ow.case_id': caseId, 'ow.system_id': event.systemId, 'ow.event': event.event }, () => this.send(target, body, caseId, event, requestId));
  }

  private async send(target: { url: string; secret: string }, body: string, caseId: string, event: { eventId: string; event: string; systemId: string }, requestId: string | undefined): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const log = this.deps.log.child({ caseId, systemId: event.systemId, ...(requestId ? { requestId } : {}), eventId: event.eventId, event: event.event });
    const count = (outcome: 'delivered' | 'refused' | 'failed') => this.deps.metrics?.callbacks.inc({ systemId: event.systemId, event: event.event, outcome });
    let status: number;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'X-OW-Event-Id': event.eventId,
          'X-OW-Timestamp': String(timestamp),
          'X-OW-Signature': sign(target.secret, timestamp, body),
          // Outside the signed body (its fields are fixed, and documented in docs/api.md): the request that caused the event, and its trace.
          ...(requestId ? { 'X-Request-Id': requestId } : {}),
          ...traceHeaders(),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 10_000),
      });
      status = res.status;
      await discardReply(res, replyLimit(this.deps.config().gateway.limits.maxReplyBytes));
    } catch (err) {
      count('failed');
      log.warn({ err: errorMessage(err) }, 'callback not delivered; will retry');
      throw new Error(`callback to the intake platform failed: ${errorMessage(err)}`, { cause: err });
    }
    if (status < 200 || status >= 300) {
      count('refused');
      log.warn({ status }, 'callback refused; will retry');
      throw new Error(`the intake platform answered HTTP ${status}`);
    }
    count('delivered');
    log.info('callback delivered');
  }

  /** Whether the callback worker runs (when started). */
  running(): boolean {
    return !this.worker || this.worker.isRunning();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
