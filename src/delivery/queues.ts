/**
 * One BullMQ queue per legacy system. A queue per system is what keeps one broken system from
 * slowing the others: each has its own workers, concurrency and rate limit, shared by every gateway
 * process on the same Redis. A job carries only (caseId, systemId); the case store holds the case.
 */
import { Queue, type ConnectionOptions, type JobsOptions, type Telemetry } from 'bullmq';
import type { SystemConfig } from '../config/schema';
import type { RedisClient } from '../platform/redis';

export interface DeliveryJob {
  caseId: string;
  systemId: string;
  /** X-Request-Id of the request that queued it: every line the delivery logs carries it. */
  requestId?: string;
}

/**
 * A BullMQ queue's name in braces: the braces are a Redis Cluster hash tag, so every key of one
 * queue (`<prefix>:bull:{delivery-x}:wait`, `…:{delivery-x}:<jobId>`, …) lands in one slot, as its
 * Lua scripts need, while different queues spread over the masters. On one server the braces are
 * only characters. Every queue the gateway opens is named through this.
 */
export function bullQueue(name: string): string {
  return `{${name}}`;
}

export function queueName(systemId: string): string {
  return bullQueue(`delivery-${systemId}`);
}

/**
 * BullMQ ids may not contain ':' (case ids cannot) and may not be integers ("12345" is a valid
 * case id): those get a "case." in front, which no case id can hold, so two cases never share a job.
 * A queue per system means the case alone is unique in it.
 */
export function jobIdFor(caseId: string): string {
  return String(Number.parseInt(caseId, 10)) === caseId ? `case.${caseId}` : caseId;
}

/**
 * The Idempotency-Key a delivery is sent with: `<caseId>:<systemId>` for every attempt of its first
 * sending, so a system that has it already answers it once; a resubmission after 补正 carries new
 * content and gets a key of its own (`…:2` for the first), so that the system takes it as new rather
 * than answering the old content's receipt.
 */
export function idempotencyKey(caseId: string, systemId: string, sending = 0): string {
  return sending > 0 ? `${caseId}:${systemId}:${sending + 1}` : `${caseId}:${systemId}`;
}

/** The case of a delivery job: jobIdFor undone (a case id holds no '.'). */
export function caseIdOfJob(jobId: string): string {
  return jobId.startsWith('case.') ? jobId.slice('case.'.length) : jobId;
}

export function jobOptions(system: SystemConfig): JobsOptions {
  return {
    attempts: system.retry.attempts,
    backoff: { type: 'ow' },
    // Finished jobs are only bookkeeping: the case store keeps the delivery's whole story.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs are the dead letters: they stay until ops replay or discard them.
    removeOnFail: false,
  };
}

export class DeliveryQueues {
  private readonly queues = new Map<string, Queue<DeliveryJob>>();

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly prefix: string,
    /** bullmq-otel when tracing is on: the adding span's context rides in the job to its worker. */
    private readonly telemetry?: Telemetry,
  ) {}

  queue(systemId: string): Queue<DeliveryJob> {
    let queue = this.queues.get(systemId);
    if (!queue) {
      queue = new Queue<DeliveryJob>(queueName(systemId), { connection: this.connection, prefix: this.prefix, ...(this.telemetry ? { telemetry: this.telemetry } : {}) });
      // Without a listener BullMQ prints connection errors to stderr; Redis outages are handled elsewhere.
      queue.on('error', () => undefined);
      this.queues.set(systemId, queue);
    }
    return queue;
  }

  /**
   * Adds the delivery job; adding an id that is already queued is a no-op in BullMQ. `requestId`
   * is the request that queued it (intake, an ops replay); the worker's lines carry it.
   */
  async enqueue(system: SystemConfig, caseId: string, requestId?: string): Promise<void> {
    await this.queue(system.id).add('deliver', { caseId, systemId: system.id, ...(requestId ? { requestId } : {}) }, { ...jobOptions(system), jobId: jobIdFor(caseId) });
  }

  /**
   * Queues a delivery that was sent before (a case resubmitted after 补正): the finished job of its
   * earlier sending is removed first, as BullMQ would take its id for a job already there.
   */
  async requeue(system: SystemConfig, caseId: string, requestId?: string): Promise<void> {
    const job = await this.queue(system.id).getJob(jobIdFor(caseId));
    if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove();
    await this.enqueue(system, caseId, requestId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

/**
 * Queues of the layout before hash tags (`<prefix>:bull:delivery-x:…`, no braces) that still hold
 * jobs: a gateway of this version never reads them. Start-up names them so that ops drain them with
 * the earlier version (or replay the cases) before they are forgotten; empty ones are only litter.
 */
export async function untaggedQueuesWithJobs(redis: RedisClient, bullPrefix: string, names: readonly string[]): Promise<Array<{ queue: string; jobs: number }>> {
  const found: Array<{ queue: string; jobs: number }> = [];
  for (const name of names) {
    const base = `${bullPrefix}:${name}`;
    const counts = await Promise.all([
      redis.llen(`${base}:wait`),
      redis.llen(`${base}:active`),
      redis.llen(`${base}:paused`),
      redis.zcard(`${base}:delayed`),
      redis.zcard(`${base}:prioritized`),
      redis.zcard(`${base}:failed`),
    ]);
    const jobs = counts.reduce((a, b) => a + b, 0);
    if (jobs > 0) found.push({ queue: base, jobs });
  }
  return found;
}
