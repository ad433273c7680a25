/**
 * The delivery workers: one BullMQ worker per legacy system, each with the system's concurrency and
 * rate limit. A job is one attempt to hand one case to one system; what happened is recorded in the
 * case store before the job is settled, so a crash at any point leaves the job to be retried and the
 * store to say where it stood.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { GatewayConfig } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import type { CaseStore } from '../cases/store';
import type { Logger } from '../platform/logger';
import { retryDelay } from './backoff';
import type { Endpoints } from './endpoints';
import { PermanentError, RetryableError, errorMessage, isRetryable } from './errors';
import { queueName, type DeliveryJob } from './queues';
import type { Metrics } from '../platform/metrics';

/** What the rest of the gateway does around a delivery's milestones (results, callbacks). */
export interface DeliveryHooks {
  /** The system acknowledged the case; runs before that is recorded, so a crash repeats it rather than skips it. */
  acknowledged(system: SystemConfig, caseId: string, receiptNo: string): Promise<void>;
  /** A status was recorded (an event may be waiting in the case's outbox). */
  recorded(caseId: string, systemId: string, status: 'delivered' | 'rejected' | 'dead', receiptNo?: string): void;
}

export interface WorkerDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  endpoints: Endpoints;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  metrics?: Metrics;
  hooks?: DeliveryHooks;
  now?: () => Date;
}

export class DeliveryWorkers {
  private readonly workers = new Map<string, Worker<DeliveryJob>>();
  private readonly now: () => Date;

  constructor(private readonly deps: WorkerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Starts a worker for every configured system. */
  start(): void {
    for (const system of this.deps.config().systems.values()) this.startFor(system);
  }

  private startFor(system: SystemConfig): void {
    if (this.workers.has(system.id)) return;
    const worker = new Worker<DeliveryJob>(queueName(system.id), (job) => this.process(job), {
      connection: this.deps.connection,
      prefix: this.deps.prefix,
      concurrency: system.concurrency,
      limiter: { max: system.rateLimit.max, duration: system.rateLimit.perMs },
      // A worker killed mid-delivery leaves its job stalled; it is picked up again, several times over.
      maxStalledCount: 5,
      settings: { backoffStrategy: (attemptsMade, _type, err) => this.backoff(system.id, attemptsMade, err) },
    });
    worker.on('error', (err) => this.deps.log.error({ systemId: system.id, err: errorMessage(err) }, 'delivery worker error'));
    this.workers.set(system.id, worker);
  }

  private backoff(systemId: string, attemptsMade: number, err: Error | undefined): number {
    const system = this.deps.config().systems.get(systemId);
    const delay = system ? retryDelay(system.retry, attemptsMade) : 60_000;
    // A system that said how long to wait (429/503 Retry-After) is taken at its word.
    return err instanceof RetryableError && err.retryAfterMs !== undefined ? Math.max(delay, err.retryAfterMs) : delay;
  }

  /** One attempt. Returns normally when the delivery is settled; throws to have BullMQ retry it. */
  private async process(job: Job<DeliveryJob>): Promise<void> {
    const { caseId, systemId } = job.data;
    const { store, log: rootLog, metrics } = this.deps;
    const log = rootLog.child({ caseId, systemId, jobId: job.id });
    const at = () => this.now().toISOString();

    const begun = await store.beginAttempt(caseId, systemId, at());
    if (!begun.send) {
      log.warn({ status: begun.status }, 'delivery already past sending; job settled without sending again');
      return;
    }

    const attemptsAllowed = job.opts.attempts ?? 1;
    try {
      const system = this.deps.config().systems.get(systemId);
      if (!system) throw new PermanentError(`system ${systemId} is no longer configured`);
      const record = await store.getCase(caseId);
      if (!record) throw new PermanentError(`case ${caseId} is missing from the case store`);
      const endpoint = this.deps.endpoints.get(system);

      const body = await endpoint.mappings.requestBody(record.case);
      const started = Date.now();
      const reply = await endpoint.adapter.send(body, { caseId, systemId, idempotencyKey: `${caseId}:${systemId}`, log });
      metrics?.deliveryDuration.observe({ systemId }, (Date.now() - started) / 1000);
      const ack = await endpoint.mappings.acknowledgement(reply);
      if (!ack.success) {
        const said = ack.error ?? 'refused without a message';
        if (ack.retryable) throw new RetryableError(`${systemId} refused for now: ${said}`);
        throw new PermanentError(`${systemId} refused the case: ${said}`);
      }
      if (!ack.receiptNo) throw new RetryableError(`${systemId} acknowledged without a receipt number`);

      await this.deps.hooks?.acknowledged(system, caseId, ack.receiptNo);
      await store.record(caseId, systemId, { status: 'delivered', receiptNo: ack.receiptNo }, { at: at(), event: 'delivered', detail: `receiptNo ${ack.receiptNo}` });
      this.deps.hooks?.recorded(caseId, systemId, 'delivered', ack.receiptNo);
      metrics?.deliveries.inc({ systemId, outcome: 'delivered' });
      log.info({ receiptNo: ack.receiptNo, attempt: begun.attempts }, 'delivered');
    } catch (err) {
      const message = errorMessage(err);
      if (!isRetryable(err)) {
        await store.record(caseId, systemId, { status: 'rejected', lastError: message }, { at: at(), event: 'rejected', detail: message });
        this.deps.hooks?.recorded(caseId, systemId, 'rejected');
        metrics?.deliveries.inc({ systemId, outcome: 'rejected' });
        log.warn({ err: message, attempt: begun.attempts }, 'delivery rejected');
        return;
      }
      if (job.attemptsMade + 1 >= attemptsAllowed) {
        await store.record(caseId, systemId, { status: 'dead', lastError: message }, { at: at(), event: 'dead', detail: `after ${begun.attempts} attempts: ${message}` });
        this.deps.hooks?.recorded(caseId, systemId, 'dead');
        metrics?.deliveries.inc({ systemId, outcome: 'dead' });
        log.error({ err: message, attempt: begun.attempts }, 'delivery dead: attempts exhausted');
        // Settled as failed: the job stays in the failed set, where dead letters are found and replayed.
        throw new UnrecoverableError(message);
      }
      await store.record(caseId, systemId, { status: 'queued', lastError: message }, { at: at(), event: 'retry_scheduled', detail: message });
      metrics?.deliveries.inc({ systemId, outcome: 'retry' });
      log.warn({ err: message, attempt: begun.attempts }, 'delivery failed; will retry');
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }
}
