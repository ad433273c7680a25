/**
 * The optional health probes (`health:` in a system file): whether a system answers at all, found out
 * on an interval instead of by a delivery, so the board says "unreachable since …" for a system no case
 * has tried yet, and no delivery attempt or circuit count is spent on finding out. Worker processes
 * run them; a Redis lock per system (SET NX PX for one interval) lets one process probe each system
 * per interval however many run. The outcome is one small hash per system (`<prefix>:probe:<id>`),
 * read by the board and by `ow_system_probe_up`.
 */
import type { Logger } from 'pino';
import { probeSystem } from '../../adapters/http';
import type { GatewayConfig } from '../config/loader';
import type { HealthProbe, SystemConfig } from '../config/schema';
import { errorMessage } from '../platform/failure';
import type { RedisClient } from '../platform/redis';

export interface ProbeView {
  ok: boolean;
  checkedAt: string;
  /** Why the last probe failed. */
  error?: string;
  /** The first failed probe since the last good one: unset while the system answers. */
  unreachableSince?: string;
}

type ProbedSystem = SystemConfig & { health: HealthProbe };

export interface SystemProbesDeps {
  config: () => GatewayConfig;
  redis: RedisClient;
  prefix: string;
  log: Logger;
  now?: () => Date;
  /** How often this process looks for a probe that is due (default 1 s). */
  tickMs?: number;
}

export function probeKey(prefix: string, systemId: string): string {
  return `${prefix}:probe:${systemId}`;
}

/** What the hash says, or undefined for a system never probed. */
export async function readProbe(redis: RedisClient, prefix: string, systemId: string): Promise<ProbeView | undefined> {
  const h = await redis.hgetall(probeKey(prefix, systemId));
  if (!h.checkedAt) return undefined;
  return { ok: h.ok === '1', checkedAt: h.checkedAt, ...(h.error ? { error: h.error } : {}), ...(h.unreachableSince ? { unreachableSince: h.unreachableSince } : {}) };
}

export class SystemProbes {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly deps: SystemProbesDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runDue()
        .catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'health probes could not run'))
        .finally(() => (this.running = undefined));
    }, this.deps.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Probes every system whose probe is due and that no other process claimed; returns their ids. */
  async runDue(): Promise<string[]> {
    const due = [...this.deps.config().systems.values()].filter((s): s is ProbedSystem => s.health !== undefined);
    const probed = await Promise.all(
      due.map(async (system) => {
        const claimed = await this.deps.redis.set(`${this.deps.prefix}:probe-lock:${system.id}`, '1', 'PX', system.health.intervalMs, 'NX');
        if (claimed !== 'OK') return undefined;
        await this.probe(system);
        return system.id;
      }),
    );
    return probed.filter((id): id is string => id !== undefined);
  }

  private async probe(system: ProbedSystem): Promise<void> {
    let error: string | undefined;
    try {
      await probeSystem(system, this.deps.config().gateway.egress);
    } catch (err) {
      error = errorMessage(err).slice(0, 500);
    }
    const at = (this.deps.now?.() ?? new Date()).toISOString();
    const key = probeKey(this.deps.prefix, system.id);
    if (error === undefined) await this.deps.redis.multi().hset(key, 'ok', '1', 'checkedAt', at).hdel(key, 'error', 'unreachableSince').exec();
    else await this.deps.redis.multi().hset(key, 'ok', '0', 'checkedAt', at, 'error', error).hsetnx(key, 'unreachableSince', at).exec();
  }
}
