/**
 * A periodic job shared by every gateway process: its schedule is a BullMQ job scheduler held in
 * Redis (so a tick happens once, whichever process takes it, and a restart misses nothing), and each
 * process that starts it runs a worker for the ticks. A schedule held in Redis goes when Redis is
 * flushed or replaced empty, so it is put back now and then (an idempotent upsert).
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from './logger';

export interface PeriodicJobOptions {
  /** The queue's name (a hash tag, e.g. `{ledger-sweep}`, keeps its keys in one Cluster slot). */
  queue: string;
  /** The scheduler's id and its jobs' name (job ids may not contain ':'). */
  schedulerId: string;
  jobName: string;
  connection: ConnectionOptions;
  prefix: string;
  log: Logger;
  /** What one tick does. */
  run: () => Promise<unknown>;
}

export class PeriodicJob {
  private readonly queue: Queue;
  private worker?: Worker;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly options: PeriodicJobOptions) {
    this.queue = new Queue(options.queue, { connection: options.connection, prefix: options.prefix });
    this.queue.on('error', () => undefined); // Redis outages are waited out by the worker connection
  }

  /** Holds the schedule in Redis, every `everyMs`, and runs the ticks in this process. */
  async start(everyMs: number): Promise<void> {
    const { queue, schedulerId, jobName, connection, prefix, log, run } = this.options;
    const schedule = () => this.queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name: jobName, opts: { removeOnComplete: true, removeOnFail: 50 } });
    await schedule();
    this.watchdog = setInterval(() => void schedule().catch(() => undefined), Math.max(everyMs * 10, 5000));
    this.watchdog.unref();
    this.worker = new Worker(queue, async () => run(), { connection, prefix, concurrency: 1 });
    this.worker.on('error', (err) => log.debug({ err: err.message }, `${schedulerId} worker error`));
  }

  /** Whether the worker runs (true when not started). */
  running(): boolean {
    return !this.worker || this.worker.isRunning();
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await this.worker?.close();
    await this.queue.close();
  }
}
