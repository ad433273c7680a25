/**
 * The delivery workers: one BullMQ worker per legacy system, each with the system's concurrency and
 * rate limit. A job is one attempt to hand one case to one system; what happened is recorded in the
 * case store before the job is settled, so a crash at any point leaves the job to be retried and the
 * store to say where it stood.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job, type Telemetry } from 'bullmq';
import type { GatewayConfig } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import type { CaseStore } from '../cases/store';
import type { HistoryEntry } from '../cases/model';
import type { Logger } from '../platform/logger';
import { jobLockTiming } from '../platform/redis';
import { deliverySeal, type Sealer } from '../seal';
import type { Endpoints } from './endpoints';
import { PermanentError, RetryableError, errorMessage } from '../platform/failure';
import { decide, nextAttemptDelay, recordDead } from './decision';
import type { CircuitBreakers } from './circuit';
import type { SystemHealth } from './health';
import { idempotencyKey, queueName, type DeliveryJob, type DeliveryQueues } from './queues';
import { msUntilOpen } from './window';
import type { Metrics } from '../platform/metrics';
import { saneRequestId } from '../platform/context';
import { inSpan, SpanKind } from '../platform/tracing';
import { handoverDetail, type MaterialDeliveries, type PreparedMaterials } from '../materials/handover';
import { MaterialStoreError } from '../materials/cache';

/** What the rest of the gateway does around a delivery's milestones (results, callbacks). */
export interface DeliveryHooks {
  /**
   * The system acknowledged the case; runs before that is recorded, so a crash repeats it rather
   * than skips it. `requestId` is the case's (what follows from here carries it).
   */
  acknowledged(system: SystemConfig, caseId: string, receiptNo: string, requestId: string | undefined): Promise<void>;
}

/** How often a run of successes is written to a system's health hash, at most. */
const HEALTH_NOTE_MS = 1000;

export interface WorkerDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  /** Stamps deliveries to systems with `seal: true`. */
  sealer?: Sealer;
  /** Fetches the materials a system takes inline or attached (unset: every system gets references only). */
  materials?: MaterialDeliveries;
  endpoints: Endpoints;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  metrics?: Metrics;
  /** The system queues, for holding one (maintenance window, open circuit, 429). */
  queues: DeliveryQueues;
  circuits: CircuitBreakers;
  /** Where each outcome is noted for the systems board (last success, failing since, last error). */
  health?: SystemHealth;
  hooks?: DeliveryHooks;
  now?: () => Date;
  /** bullmq-otel when tracing is on: each job runs inside the trace of the request that queued it. */
  telemetry?: Telemetry;
}

export class DeliveryWorkers {
  private readonly workers = new Map<string, Worker<DeliveryJob>>();
  private readonly now: () => Date;
  /** When this process last wrote a system's success to its health hash (see noteHealth). */
  private readonly successNoted = new Map<string, number>();
  /** Set by start(): from then on a system added to the configuration gets its worker at once. */
  private started = false;

  constructor(private readonly deps: WorkerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Starts a worker for every configured system. */
  start(): void {
    this.started = true;
    for (const system of this.deps.config().systems.values()) this.startFor(system);
  }

  private startFor(system: SystemConfig): void {
    if (this.workers.has(system.id)) return;
    const worker = new Worker<DeliveryJob>(queueName(system.id), (job) => this.process(job), {
      connection: this.deps.connection,
      ...(this.deps.telemetry ? { telemetry: this.deps.telemetry } : {}),
      prefix: this.deps.prefix,
      concurrency: system.concurrency,
      limiter: { max: system.rateLimit.max, duration: system.rateLimit.perMs },
      // A worker killed mid-delivery leaves its job stalled; it is picked up again, several times over.
      maxStalledCount: 5,
      ...jobLockTiming(),
      settings: { backoffStrategy: (attemptsMade, _type, err) => nextAttemptDelay(this.deps.config().systems.get(system.id)?.retry, attemptsMade, err) },
    });
    worker.on('error', (err) => this.deps.log.error({ systemId: system.id, err: errorMessage(err) }, 'delivery worker error'));
    worker.on('failed', (job, err) => void (job && this.failedOutside(job, err)));
    this.workers.set(system.id, worker);
    // The concurrency holds across every gateway process sharing this Redis, not just this one.
    void this.deps.queues
      .queue(system.id)
      .setGlobalConcurrency(system.concurrency)
      .catch((err: Error) => this.deps.log.warn({ systemId: system.id, err: err.message }, 'could not set the global concurrency'));
  }

  /** Whether every system's worker is running; /readyz fails with the names of those that are not. */
  running(): { running: boolean; stopped: string[] } {
    const stopped = [...this.workers.entries()].filter(([, w]) => !w.isRunning()).map(([id]) => `delivery-${id}`);
    return { running: stopped.length === 0, stopped };
  }

  /**
   * Applies a new config version of a system: concurrency at once, a new rate limit by a fresh
   * worker; a system added since start() gets its first worker.
   */
  async reconfigure(system: SystemConfig): Promise<void> {
    const worker = this.workers.get(system.id);
    if (!worker) {
      if (this.started) this.startFor(system);
      return;
    }
    worker.concurrency = system.concurrency;
    await this.deps.queues.queue(system.id).setGlobalConcurrency(system.concurrency);
    const limiter = worker.opts.limiter;
    if (limiter?.max === system.rateLimit.max && limiter.duration === system.rateLimit.perMs) return;
    this.workers.delete(system.id);
    await worker.close();
    this.startFor(system);
  }

  /**
   * Stops the worker of a system removed from the configuration: it takes no more jobs, and the
   * deliveries it is running finish first (a removal is refused while any are in flight, so these
   * can only be ones queued in the moment of it).
   */
  async stopFor(systemId: string): Promise<void> {
    const worker = this.workers.get(systemId);
    if (!worker) return;
    this.workers.delete(systemId);
    this.successNoted.delete(systemId);
    await worker.close();
  }

  /**
   * A job BullMQ failed without our processor settling it (it stalled more often than allowed, e.g.
   * its worker was killed again and again): the delivery is recorded dead, so it is listed and can
   * be replayed, instead of staying "delivering" for ever.
   */
  private async failedOutside(job: Job<DeliveryJob>, err: Error): Promise<void> {
    const { caseId, systemId } = job.data;
    const requestId = saneRequestId(job.data.requestId);
    const log = this.deps.log.child({ caseId, systemId, ...(requestId ? { requestId } : {}) });
    try {
      if (!(await job.isFailed())) return;
      const status = await this.deps.store.deliveryStatus(caseId, systemId);
      if (status !== 'queued' && status !== 'delivering') return;
      const message = `stopped by the queue: ${errorMessage(err)}`;
      await recordDead(this.deps.store, caseId, systemId, message, this.now().toISOString(), message, requestId);
      log.error({ err: message, outcome: 'dead' }, 'delivery dead: failed by the queue');
    } catch (e) {
      log.error({ err: errorMessage(e) }, 'could not record a failed job');
    }
  }

  /**
   * Whether the system may be sent to now: inside its maintenance window, and its circuit not open.
   * When not, answers how long the whole system queue should hold.
   */
  private async admission(system: SystemConfig): Promise<{ holdMs: number; reason: string } | { holdMs: 0; probe: boolean; clean: boolean }> {
    const now = this.now();
    if (system.window) {
      const wait = msUntilOpen(system.window, now);
      if (wait > 0) return { holdMs: wait, reason: `outside the maintenance window; opens at ${new Date(now.getTime() + wait).toISOString()}` };
    }
    const circuit = await this.deps.circuits.admit(system.id, now.getTime(), system.timeoutMs * 2 + 1000);
    if (!circuit.send) return { holdMs: circuit.waitMs, reason: `circuit open after repeated failures; next probe at ${new Date(now.getTime() + circuit.waitMs).toISOString()}` };
    return { holdMs: 0, probe: circuit.probe, clean: circuit.clean };
  }

  /** Holds the system's queue (in Redis, for every process) and puts this job back without spending an attempt. */
  private async hold(job: Job<DeliveryJob>, holdMs: number, reason: string): Promise<never> {
    const { caseId, systemId } = job.data;
    await this.deps.queues.queue(systemId).rateLimit(Math.max(1, holdMs));
    await this.deps.store.note(caseId, systemId, { at: this.now().toISOString(), event: 'waiting', detail: reason });
    throw Worker.RateLimitError();
  }

  /**
   * Notes the outcome for the systems board; a failure to note it never fails the delivery (the
   * case store, not this hash, is the truth about the case).
   */
  private async noteHealth(log: Logger, systemId: string, at: string, failure?: string): Promise<void> {
    const { health } = this.deps;
    if (!health) return;
    // A steady run of successes is written at most once a second per system and process: the board
    // shows "last success" to the second, and a failure in between is always written and clears this.
    const nowMs = Date.parse(at);
    if (failure === undefined) {
      const last = this.successNoted.get(systemId);
      if (last !== undefined && nowMs >= last && nowMs - last < HEALTH_NOTE_MS) return;
      this.successNoted.set(systemId, nowMs);
    } else this.successNoted.delete(systemId);
    try {
      await (failure === undefined ? health.succeeded(systemId, at) : health.failed(systemId, at, failure));
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not note the system health');
    }
  }

  /** One attempt. Returns normally when the delivery is settled; throws to have BullMQ retry it. */
  private async process(job: Job<DeliveryJob>): Promise<void> {
    const { caseId, systemId } = job.data;
    const { store, metrics, circuits } = this.deps;
    // The request id that queued it; a job queued before request ids (or by a path without one)
    // takes its case's once the case is read.
    const jobRequestId = saneRequestId(job.data.requestId);
    // Every line of the attempt names the case, the system, the request id and (once known) the attempt.
    const about = { caseId, systemId, ...(jobRequestId ? { requestId: jobRequestId } : {}), jobId: job.id };
    const at = () => this.now().toISOString();
    const system = this.deps.config().systems.get(systemId);

    let probe = false;
    let clean = false;
    if (system) {
      const admitted = await this.admission(system);
      if (admitted.holdMs > 0 && 'reason' in admitted) {
        this.deps.log.info({ ...about, holdMs: admitted.holdMs }, admitted.reason);
        return this.hold(job, admitted.holdMs, admitted.reason);
      }
      probe = 'probe' in admitted && admitted.probe;
      clean = 'clean' in admitted && admitted.clean;
    }

    const begun = await store.beginAttempt(caseId, systemId, at());
    // The case's request id when the job had none, and the attempt's number: bound once, for every line that follows.
    const requestId = jobRequestId ?? saneRequestId(begun.record?.requestId);
    const log = this.deps.log.child({ ...about, ...(requestId ? { requestId } : {}), attempt: begun.attempts });
    if (!begun.send) {
      log.warn({ status: begun.status }, 'delivery already past sending; job settled without sending again');
      return;
    }

    // Set once the system has answered: a refusal then proves it alive, for the circuit breaker.
    let answered = false;
    let materials: PreparedMaterials | undefined;
    const attemptStarted = Date.now();
    const took = () => Date.now() - attemptStarted;
    try {
      if (!system) throw new PermanentError(`system ${systemId} is no longer configured`);
      // Read with the attempt's start (one script): the case as stored.
      const record = begun.record;
      if (!record) throw new PermanentError(`case ${caseId} is missing from the case store`);
      const endpoint = this.deps.endpoints.get(system);

      const body = await endpoint.mappings.requestBody(record.case);
      // Fetched (once per case, whatever the fan-out) and verified before anything is sent.
      materials = await this.deps.materials?.prepare(system, record.case);
      const seal = this.deps.sealer && system.seal !== false ? deliverySeal(this.deps.sealer, systemId, record.case, { materials: materials?.sealed }) : undefined;
      const started = Date.now();
      answered = true; // from here on a PermanentError can only be the system's own answer
      const reply = await inSpan(`deliver ${systemId}`, SpanKind.CLIENT, { 'ow.system_id': systemId, 'ow.case_id': caseId, 'ow.attempt': begun.attempts, 'ow.protocol': system.protocol }, () =>
        endpoint.adapter.send(body, { caseId, systemId, idempotencyKey: idempotencyKey(caseId, systemId, begun.sending), log, seal, ...(requestId ? { requestId } : {}), ...(materials?.handover ? { materials: materials.handover } : {}) }),
      ).catch((err: unknown) => {
        metrics?.deliveryDuration.observe({ systemId, outcome: 'failed' }, (Date.now() - started) / 1000);
        throw err;
      });
      metrics?.deliveryDuration.observe({ systemId, outcome: 'answered' }, (Date.now() - started) / 1000);
      const ack = await endpoint.mappings.acknowledgement(reply);
      // A circuit that was closed without a failure to forget needs no write (the common case).
      if (!clean) await circuits.succeeded(systemId);
      await this.noteHealth(log, systemId, at());
      // A successful probe closed the circuit: lift the hold at once rather than at its expiry.
      if (probe) await this.deps.queues.queue(systemId).removeRateLimitKey();
      if (!ack.success) {
        const said = ack.error ?? 'refused without a message';
        if (ack.retryable) throw new RetryableError(`${systemId} refused for now: ${said}`);
        throw new PermanentError(`${systemId} refused the case: ${said}`);
      }
      if (!ack.receiptNo) throw new RetryableError(`${systemId} acknowledged without a receipt number`);

      await this.deps.hooks?.acknowledged(system, caseId, ack.receiptNo, requestId);
      // How the materials went is recorded with the delivery, in the same script.
      const deliveredAt = at();
      const handover = materials ? { handover: materials.view } : {};
      const delivered: HistoryEntry = { at: deliveredAt, event: 'delivered', detail: `receiptNo ${ack.receiptNo}` };
      const entries: [HistoryEntry, ...HistoryEntry[]] = materials ? [{ at: deliveredAt, event: 'materials', detail: handoverDetail(materials.view) }, delivered] : [delivered];
      await store.record(caseId, systemId, { status: 'delivered', receiptNo: ack.receiptNo, ...handover, requestId }, ...entries);
      metrics?.deliveries.inc({ systemId, outcome: 'delivered' });
      metrics?.acceptToDelivered.observe({ systemId }, Math.max(0, (this.now().getTime() - Date.parse(record.acceptedAt)) / 1000));
      log.info({ receiptNo: ack.receiptNo, outcome: 'delivered', durationMs: took(), probe }, 'delivered');
    } catch (err) {
      const message = errorMessage(err);
      // Without its system (removed from the configuration) a delivery can only be refused.
      const verdict = system ? decide(err, begun.attempts, system.retry) : ({ kind: 'rejected' } as const);
      if (verdict.kind === 'rejected') {
        if (answered) {
          await circuits.succeeded(systemId);
          await this.noteHealth(log, systemId, at());
        }
        await store.record(caseId, systemId, { status: 'rejected', lastError: message, requestId }, { at: at(), event: 'rejected', detail: message });
        metrics?.deliveries.inc({ systemId, outcome: 'rejected' });
        log.warn({ err: message, outcome: 'rejected', durationMs: took() }, 'delivery rejected');
        return;
      }
      if (verdict.kind === 'throttled') {
        // The try gives its attempt back: holding the queue spends none of this delivery's.
        await store.record(caseId, systemId, { status: 'queued', lastError: message, attempts: begun.attempts - 1 }, { at: at(), event: 'throttled', detail: `${message}; holding ${verdict.holdMs} ms` });
        metrics?.deliveries.inc({ systemId, outcome: 'throttled' });
        log.warn({ err: message, outcome: 'throttled', durationMs: took(), holdMs: verdict.holdMs }, 'delivery throttled; the system queue holds');
        await this.deps.queues.queue(systemId).rateLimit(verdict.holdMs);
        throw Worker.RateLimitError();
      }
      // A material store that failed says nothing about the system: its health and circuit are left alone.
      const systemsFault = !(err instanceof MaterialStoreError);
      if (systemsFault) await this.noteHealth(log, systemId, at(), message);
      if (systemsFault && system && (await circuits.failed(systemId, this.now().getTime(), system.circuitBreaker))) {
        await this.deps.queues.queue(systemId).rateLimit(system.circuitBreaker.cooldownMs);
        log.error({ cooldownMs: system.circuitBreaker.cooldownMs }, 'circuit opened: deliveries to this system wait');
      }
      if (verdict.kind === 'dead') {
        await recordDead(store, caseId, systemId, message, at(), `after ${begun.attempts} attempts: ${message}`, requestId);
        metrics?.deliveries.inc({ systemId, outcome: 'dead' });
        log.error({ err: message, outcome: 'dead', durationMs: took() }, 'delivery dead: attempts exhausted');
        // Settled as failed: the job stays in the failed set, where dead letters are found and replayed.
        throw new UnrecoverableError(message);
      }
      await store.record(caseId, systemId, { status: 'queued', lastError: message }, { at: at(), event: 'retry_scheduled', detail: message });
      metrics?.deliveries.inc({ systemId, outcome: 'retry' });
      log.warn({ err: message, outcome: 'retry', durationMs: took() }, 'delivery failed; will retry');
      throw err;
    } finally {
      materials?.release();
    }
  }

  /**
   * Stops taking jobs and waits for the deliveries in flight, up to `graceMs`; whatever is still
   * running then is abandoned: its job's lock lapses and another worker delivers it again later.
   */
  async close(graceMs = 10_000): Promise<void> {
    const workers = [...this.workers.values()];
    this.workers.clear();
    let timer: NodeJS.Timeout | undefined;
    const closing = Promise.all(workers.map((w) => w.close())).then(() => 'done' as const);
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const finished = await Promise.race([closing, deadline]);
    clearTimeout(timer);
    if (finished === 'timeout') {
      // BullMQ's close(force) cannot cut short a close already under way; leaving it is enough: the
      // process goes, the jobs' locks lapse, and another worker picks them up.
      closing.catch(() => undefined);
      this.deps.log.warn({ graceMs }, 'deliveries still in flight at the shutdown deadline; they will be redelivered');
    }
  }
}
