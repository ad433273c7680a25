/**
 * Polling for results (`result.mode: poll`). When a delivery to a polling system is acknowledged, one
 * delayed BullMQ job is added for it; each run asks the system once and, if the answer is not in yet,
 * moves itself back to the delayed set for `intervalMs`. The schedule lives in Redis, so it survives
 * restarts and is shared by every gateway process; nothing is polled from an in-memory timer.
 */
import { DelayedError, Queue, Worker, type ConnectionOptions, type Job, type Telemetry } from 'bullmq';
import { saneRequestId } from '../platform/context';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import type { CaseStore } from '../cases/store';
import { recordDead } from '../delivery/decision';
import type { Endpoints } from '../delivery/endpoints';
import { errorMessage } from '../platform/failure';
import { compileExpression, ExpressionError, type CompiledExpression } from '../platform/expressions';
import type { Logger } from '../platform/logger';
import { jobLockTiming } from '../platform/redis';
import type { ResultReceiver } from './receiver';

// In braces, a Cluster hash tag: one slot for all the queue's keys (see bullQueue in delivery/queues).
export const POLL_QUEUE = '{result-poll}';

interface PollJob {
  caseId: string;
  systemId: string;
  receiptNo: string;
  /** When the delivery was acknowledged: the poll gives up `maxAgeMs` after it. */
  since: number;
  /** Which sending of the delivery it polls for (0, the first, when absent); see CaseStore.deliverySending. */
  sending?: number;
  /** The request id of the delivery it follows: its log lines carry it. */
  requestId?: string;
}

export interface PollerDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  endpoints: Endpoints;
  results: ResultReceiver;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  now?: () => number;
  telemetry?: Telemetry;
}


export class ResultPoller {
  private readonly queue: Queue<PollJob>;
  private worker?: Worker<PollJob>;

  constructor(private readonly deps: PollerDeps) {
    this.queue = new Queue<PollJob>(POLL_QUEUE, { connection: deps.connection, prefix: deps.prefix, ...(deps.telemetry ? { telemetry: deps.telemetry } : {}) });
    this.queue.on('error', () => undefined); // outages are handled by the callers and by retries
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Starts polling for one acknowledged delivery (a no-op for push systems); the polls carry the case's `requestId`. */
  async schedule(system: SystemConfig, caseId: string, receiptNo: string, requestId?: string): Promise<void> {
    const poll = system.result?.poll;
    if (system.result?.mode !== 'poll' || !poll) return;
    // One job per sending: a case sent again after 补正 is polled afresh (its receipt number and
    // maxAgeMs are the new sending's), whatever is left of the earlier sending's poll: a job still
    // waiting, running, or kept as failed would take the same id. A repeated acknowledgement of one
    // sending (a crash before it was recorded) adds nothing. Job ids may not contain ':'; system ids
    // have no '_', so the id is unambiguous; the first sending keeps the id it always had.
    const { sending } = await this.deps.store.deliverySending(caseId, system.id);
    const jobId = sending > 0 ? `${caseId}__${system.id}__${sending}` : `${caseId}__${system.id}`;
    await this.queue.add('poll', { caseId, systemId: system.id, receiptNo, since: this.now(), ...(sending > 0 ? { sending } : {}), ...(requestId ? { requestId } : {}) }, { jobId, delay: poll.intervalMs, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600 } });
  }

  start(): void {
    if (this.worker) return;
    this.worker = new Worker<PollJob>(POLL_QUEUE, (job, token) => this.poll(job, token), {
      connection: this.deps.connection,
      ...(this.deps.telemetry ? { telemetry: this.deps.telemetry } : {}),
      prefix: this.deps.prefix,
      concurrency: 8,
      maxStalledCount: 100,
      ...jobLockTiming(),
    });
    this.worker.on('error', (err) => this.deps.log.error({ err: errorMessage(err) }, 'poll worker error'));
  }

  private compile(source: string): CompiledExpression {
    return compileExpression(source, expressionBudget(this.deps.config().gateway));
  }

  private async poll(job: Job<PollJob>, token: string | undefined): Promise<void> {
    const { caseId, systemId, receiptNo, since } = job.data;
    const requestId = saneRequestId(job.data.requestId);
    const log = this.deps.log.child({ caseId, systemId, ...(requestId ? { requestId } : {}), receiptNo });
    const system = this.deps.config().systems.get(systemId);
    const poll = system?.result?.mode === 'poll' ? system.result.poll : undefined;
    if (!system || !poll) return log.warn('system no longer polled; polling stopped');
    const { status, sending } = await this.deps.store.deliverySending(caseId, systemId);
    // A later sending (the case resubmitted after 补正) has a poll of its own: this one is over.
    if (sending !== (job.data.sending ?? 0)) return log.info('the case was sent again; its new sending is polled by a poll of its own');
    // Done when the result came some other way or the delivery ended; an acknowledgement not yet
    // recorded (the poll is scheduled just before it) is waited for.
    if (status !== 'delivered' && status !== 'delivering' && status !== 'queued') return;

    if (this.now() - since > poll.maxAgeMs) {
      const message = `no result from ${systemId} within ${poll.maxAgeMs} ms of polling`;
      await recordDead(this.deps.store, caseId, systemId, message, new Date(this.now()).toISOString(), message, requestId);
      log.error('result polling aged out: delivery dead');
      return;
    }

    try {
      const context = { caseId, systemId, receiptNo };
      const endpoint = poll.endpoint.replace(/\{(caseId|receiptNo)\}/g, (_, name: 'caseId' | 'receiptNo') => encodeURIComponent(context[name]));
      const body = poll.body ? await this.compile(poll.body).evaluate(context) : undefined;
      const reply = await this.deps.endpoints.get(system).adapter.send(body, { caseId, systemId, idempotencyKey: `${caseId}:${systemId}`, log, ...(requestId ? { requestId } : {}), target: { endpoint, method: poll.method } });
      if ((await this.compile(poll.until).evaluate(reply)) === true) {
        await this.deps.results.receivePolled(system, { caseId, receiptNo }, reply, requestId);
        log.info('result polled');
        return;
      }
    } catch (err) {
      if (err instanceof ExpressionError && err.kind === 'budget') {
        // Over budget now, over budget on every poll: the delivery ends here, for ops to see.
        const message = `result.poll expression of ${systemId} ${err.message}`;
        await recordDead(this.deps.store, caseId, systemId, message, new Date(this.now()).toISOString(), message, requestId);
        log.error({ err: message }, 'result polling stopped: expression over budget; delivery dead');
        return;
      }
      // A failed poll is only a missed look: the next one comes at the usual interval.
      log.warn({ err: errorMessage(err) }, 'result poll failed; polling again later');
    }
    await job.moveToDelayed(this.now() + poll.intervalMs, token);
    throw new DelayedError();
  }

  /** Whether the poll worker runs (when started). */
  running(): boolean {
    return !this.worker || this.worker.isRunning();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
