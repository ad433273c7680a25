/**
 * Accepting a case: validate, route, store, queue. The answer is 202 only after the case and every
 * delivery job are in Redis. If the process dies between storing and queueing, the intake platform
 * (which got no 202) sends the case again, and the resubmission queues whatever is still missing.
 */
import crypto from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { GatewayConfig } from '../config/loader';
import type { DeliveryQueues } from '../delivery/queues';
import { currentContext } from '../platform/context';
import { ApiError, issueDetails } from '../platform/errors';
import { caseSchema, type Accepted, type Case } from './model';
import { routeCase } from './routing';
import type { CaseStore } from './store';

export interface IntakeDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  now?: () => Date;
}

export function parseCase(body: unknown): Case {
  const parsed = caseSchema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError('invalid_case', undefined, issueDetails(parsed.error.issues));
  }
  return parsed.data;
}

export function caseHash(c: Case): string {
  return crypto.createHash('sha256').update(stringify(c) ?? '').digest('hex');
}

export async function acceptCase(body: unknown, deps: IntakeDeps): Promise<{ created: boolean; answer: Accepted }> {
  const config = deps.config();
  const c = parseCase(body);
  const targets = routeCase(c, config);
  const hash = caseHash(c);
  const acceptedAt = (deps.now?.() ?? new Date()).toISOString();

  const requestId = currentContext()?.requestId;
  const outcome = await deps.store.accept({ case: c, hash, acceptedAt, targets, ...(requestId ? { requestId } : {}) });
  if (!outcome.created && outcome.record.hash !== hash) {
    throw new ApiError('case_conflict', `Case ${c.caseId} was already accepted with other content; use a new caseId.`);
  }

  // Queue every delivery still waiting to be sent. For a new case that is all of them (no status to
  // read); for a resubmission it heals a crash between storing and queueing (an existing job id is a
  // no-op). The adds go out together: on an auto-pipelined connection, one round trip for all.
  const deliveries: Accepted['deliveries'] = outcome.record.targets.map((systemId, i) => ({ systemId, status: outcome.created ? 'queued' : (outcome.statuses[i] ?? 'queued') }));
  await Promise.all(
    deliveries.map(({ systemId, status }) => {
      const system = config.systems.get(systemId);
      return status === 'queued' && system ? deps.queues.enqueue(system, c.caseId) : undefined;
    }),
  );
  return { created: outcome.created, answer: { caseId: c.caseId, status: 'accepted', deliveries } };
}
