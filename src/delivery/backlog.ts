/**
 * Reads the backlog gauges (src/platform/metrics.ts) from Redis: per system a fixed handful of
 * commands (job counts, paused flag, the oldest waiting job, the circuit, the unmatched count), and
 * two for the callback and poll queues, one for the time limits' counts. Never anything per case:
 * 10 000 waiting cases cost what 10 do.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { GatewayConfig } from '../config/loader';
import { CALLBACK_QUEUE } from '../callbacks/dispatcher';
import { POLL_QUEUE } from '../results/poller';
import type { ClockCount } from '../cases/store';
import type { BacklogSnapshot, SystemBacklog } from '../platform/metrics';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';
import type { CircuitBreakers } from './circuit';
import type { DeliveryQueues } from './queues';
import { probeKey } from './probe';
import { msUntilOpen } from './window';

export interface BacklogDeps {
  config: () => GatewayConfig;
  /** Queues on a connection that fails fast (intake's), so a scrape during an outage does not hang. */
  queues: DeliveryQueues;
  circuits: CircuitBreakers;
  redis: RedisClient;
  connection: ConnectionOptions;
  /** BullMQ prefix (`<prefix>:bull`) and the gateway's own key prefix. */
  bullPrefix: string;
  prefix: string;
  now?: () => Date;
  /** How long the exporter's claim lasts without a renewal (a scrape renews it); default 15 s. */
  exporterLeaseMs?: number;
  /** The counts of open cases due soon or overdue, as the time-limit monitor keeps them. */
  clockCounts: () => Promise<ClockCount[]>;
}

export class BacklogReader {
  private readonly callbacks: Queue;
  private readonly polls: Queue;

  private readonly scripts: LuaScripts<'backlog-exporter'>;
  /** Who this process is to the other processes reading the same backlog. */
  private readonly id = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;

  constructor(private readonly deps: BacklogDeps) {
    this.scripts = new LuaScripts(deps.redis, path.join(__dirname, 'lua'), ['backlog-exporter']);
    this.callbacks = new Queue(CALLBACK_QUEUE, { connection: deps.connection, prefix: deps.bullPrefix });
    this.polls = new Queue(POLL_QUEUE, { connection: deps.connection, prefix: deps.bullPrefix });
    for (const q of [this.callbacks, this.polls]) q.on('error', () => undefined); // an outage shows as ow_backlog_up 0
  }

  /**
   * The backlog, or null when another process of this deployment exports it: every api process
   * reads the same queues, and Prometheus sums what they export (one Redis command decides).
   */
  async read(): Promise<BacklogSnapshot | null> {
    const exporter = await this.scripts.run('backlog-exporter', [`${this.deps.prefix}:metrics:backlog-exporter`], [this.id, this.deps.exporterLeaseMs ?? 15_000]);
    if (Number(exporter) !== 1) return null;
    const now = this.deps.now?.() ?? new Date();
    const systems = await Promise.all([...this.deps.config().systems.values()].map(async (system): Promise<SystemBacklog> => {
      const queue = this.deps.queues.queue(system.id);
      const [counts, paused, oldest, circuit, unmatched, probeOk] = await Promise.all([
        queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
        queue.isPaused(),
        // The wait list's far end is its oldest job; one job read, whatever the list's length.
        queue.getJobs(['wait'], 0, 0, true),
        this.deps.circuits.view(system.id),
        this.deps.redis.hlen(`${this.deps.prefix}:{unmatched:${system.id}}:items`),
        system.health ? this.deps.redis.hget(probeKey(this.deps.prefix, system.id), 'ok') : Promise.resolve(null),
      ]);
      const oldestAt = oldest[0]?.timestamp;
      return {
        systemId: system.id,
        level: system.level,
        protocol: system.protocol,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        ...(oldestAt ? { oldestWaitingAt: oldestAt } : {}),
        paused,
        circuit: circuit.state,
        windowOpen: !system.window || msUntilOpen(system.window, now) === 0,
        unmatched,
        ...(probeOk !== null ? { probeUp: Number(probeOk === '1') } : {}),
      };
    }));
    const [callbacks, polls, clocks] = await Promise.all([this.callbacks.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), this.polls.getJobCounts('waiting', 'active', 'delayed', 'prioritized'), this.deps.clockCounts()]);
    const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    return { systems, callbackBacklog: sum(callbacks), pollBacklog: sum(polls), clocks };
  }

  async close(): Promise<void> {
    await Promise.all([this.callbacks.close(), this.polls.close()]);
  }
}
