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
import { caseSchema, type Accepted, type Case, type DeliveryStatus } from './model';
import { routeCase } from './routing';
import type { CaseStore } from './store';

/** What intake asks the case ledger: whether a case not in Redis was accepted and archived. */
export interface ArchiveCheck {
  healthy(): boolean;
  archivedHash(caseId: string): Promise<{ hash: string; deliveries: Array<{ systemId: string; status: DeliveryStatus }> } | undefined>;
}

/**
 * How long intake waits for the ledger's answer about an archived case. Intake never waits on a
 * ledger outage: a ledger known to be down is not asked, and one that is slow is given this long.
 * Without its answer the case is taken as new (a resubmission of a case archived days ago is rare:
 * the intake platform resends within minutes, retention.hot is days).
 */
export const ARCHIVE_CHECK_MS = 250;

export interface IntakeDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  now?: () => Date;
  /** The case ledger, for resubmissions of cases that have left Redis; unset: Redis alone. */
  archive?: ArchiveCheck;
}

/** The ledger's record of a case, or undefined when it has none, is down, or is slower than ARCHIVE_CHECK_MS. */
async function archivedWithin(archive: ArchiveCheck, caseId: string): Promise<Awaited<ReturnType<ArchiveCheck['archivedHash']>>> {
  if (!archive.healthy()) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ARCHIVE_CHECK_MS)));
  try {
    return await Promise.race([archive.archivedHash(caseId).catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
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

  // A case that has left Redis is in the ledger: an identical resubmission is answered as one (200,
  // its deliveries as they ended), a changed one is a conflict (409), and neither is accepted anew.
  const archived = deps.archive ? await archivedWithin(deps.archive, c.caseId) : undefined;
  if (archived && !(await deps.store.getCase(c.caseId))) {
    if (archived.hash !== hash) throw new ApiError('case_conflict', `Case ${c.caseId} was already accepted with other content; use a new caseId.`);
    return { created: false, answer: { caseId: c.caseId, status: 'accepted', deliveries: archived.deliveries } };
  }

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
