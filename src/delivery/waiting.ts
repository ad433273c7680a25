/**
 * Why a queued delivery waits and until when (`waitingFor`, `nextAttemptAt` in the case view), read from
 * what actually holds it: the queue's paused flag, the system's maintenance window, its circuit, the
 * BullMQ job's backoff (its score in the delayed set) and the queue's rate-limit hold. A paused
 * system has no next attempt time: nothing is sent until someone resumes it.
 */
import type { GatewayConfig } from '../config/loader';
import type { CircuitBreakers } from './circuit';
import { jobIdFor, type DeliveryQueues } from './queues';
import { windowView } from './window';
import type { RedisClient } from '../platform/redis';

export type WaitingFor = 'paused' | 'window' | 'circuit' | 'retry' | 'rate_limit';

export interface Waiting {
  waitingFor?: WaitingFor;
  nextAttemptAt?: string;
}

export interface WaitingDeps {
  config: () => GatewayConfig;
  queues: DeliveryQueues;
  circuits: CircuitBreakers;
  /** The Redis the queues live in, to read a job's score in the delayed set. */
  redis: RedisClient;
  now?: () => Date;
}

/** BullMQ scores a delayed job `when * 0x1000 + n` (n orders jobs due in the same millisecond). */
const DELAY_SCORE_FACTOR = 0x1000;

export async function explainWaiting(deps: WaitingDeps, caseId: string, systemId: string): Promise<Waiting> {
  const system = deps.config().systems.get(systemId);
  if (!system) return {};
  const now = deps.now?.() ?? new Date();
  const queue = deps.queues.queue(systemId);
  if (await queue.isPaused()) return { waitingFor: 'paused' };
  const window = windowView(system.window, now);
  if (!window.open) return { waitingFor: 'window', nextAttemptAt: window.opensAt };
  const circuit = await deps.circuits.view(systemId);
  if (circuit.state === 'open' && circuit.openUntil && Date.parse(circuit.openUntil) > now.getTime()) return { waitingFor: 'circuit', nextAttemptAt: circuit.openUntil };
  const score = await deps.redis.zscore(queue.keys.delayed!, jobIdFor(caseId));
  if (score !== null) return { waitingFor: 'retry', nextAttemptAt: new Date(Math.floor(Number(score) / DELAY_SCORE_FACTOR)).toISOString() };
  const holdMs = await queue.getRateLimitTtl();
  if (holdMs > 0) return { waitingFor: 'rate_limit', nextAttemptAt: new Date(now.getTime() + holdMs).toISOString() };
  return {};
}
