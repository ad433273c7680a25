/**
 * Accepting a case: validate, route, store, queue. The answer is 202 only after the case and every
 * delivery job are in Redis. If the process dies between storing and queueing, the intake platform
 * (which got no 202) sends the case again, and the resubmission queues whatever is still missing.
 */
import crypto from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { GatewayConfig } from '../config/loader';
import type { DeliveryQueues } from '../delivery/queues';
import { ApiError, issueDetails } from '../platform/errors';
import { caseSchema, type Accepted, type Case, type DeliveryStatus } from './model';
import { routeCase } from './routing';
import type { CaseStore } from './store';
import { readMaterialUri } from '../materials/uri';
import type { LookupDocuments } from '../materials/lookup-documents';

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
  /** Found look-up documents, which a case's `lookup://` materials must name (unset: none may). */
  lookupDocuments?: LookupDocuments;
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

/**
 * Every material must name something the gateway may fetch for this case: a file of a configured
 * store, or a document a look-up of this very case found. Refused with the path of each that does
 * not, and nothing is fetched to find out.
 */
export async function checkMaterials(c: Case, config: GatewayConfig, documents: LookupDocuments | undefined): Promise<void> {
  const details: Array<{ path: string; message: string }> = [];
  for (const [i, material] of c.materials.entries()) {
    const path = `materials[${i}].uri`;
    const reading = readMaterialUri(material.uri, config.gateway.materials);
    if (!reading.ok) {
      details.push({ path, message: reading.reason });
      continue;
    }
    if (reading.source.kind !== 'lookup') continue;
    const { queryId, documentKind } = reading.source;
    const document = documents ? await documents.get(queryId, documentKind) : undefined;
    // One answer whether the look-up is another case's, unknown or found nothing: no probing.
    if (!document || document.caseId !== c.caseId) details.push({ path, message: `no look-up ${queryId} of case ${c.caseId} found a ${documentKind} document` });
  }
  if (details.length > 0) throw new ApiError('invalid_case', 'A material names something the gateway may not fetch for this case.', details);
}

export function caseHash(c: Case): string {
  return crypto.createHash('sha256').update(stringify(c) ?? '').digest('hex');
}

/**
 * `created`: a new case (202); `resubmitted`: changed content taken for a case that waited on its
 * applicant (202, sent again); neither: an identical resubmission (200). `requestId`, the intake
 * request's, is stored with the case and rides in its delivery jobs.
 */
export async function acceptCase(body: unknown, deps: IntakeDeps, requestId?: string): Promise<{ created: boolean; resubmitted?: boolean; answer: Accepted }> {
  const config = deps.config();
  const c = parseCase(body);
  await checkMaterials(c, config, deps.lookupDocuments);
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

  // Watched before it is stored, so that a crash in between cannot leave a clock unwatched (a
  // watched case that was never stored is dropped at its first look).
  // Sent together: on an auto-pipelined connection, one round trip for both indexes.
  await Promise.all([deps.store.indexAccepted(c.caseId, acceptedAt), config.timeLimits.items.find(c.itemCode) ? deps.store.watch(c.caseId, acceptedAt) : undefined]);
  const outcome = await deps.store.accept({ case: c, hash, acceptedAt, targets, ...(requestId ? { requestId } : {}) });
  if (!outcome.created && outcome.record.hash !== hash) {
    // Changed content is the applicant's 补正 when the case waits for it; otherwise a conflict.
    const taken = await deps.store.resubmit(outcome.record, { case: c, hash }, acceptedAt);
    if (!taken.resubmitted) {
      throw new ApiError('case_conflict', `Case ${c.caseId} was already accepted with other content; use a new caseId. Changed content is taken only while the case waits for the applicant to complete it (need_more).`);
    }
    const requeued = new Set(taken.systems);
    await Promise.all(
      taken.systems.map((systemId) => {
        const system = config.systems.get(systemId);
        return system ? deps.queues.requeue(system, c.caseId, requestId) : undefined;
      }),
    );
    const deliveries = outcome.record.targets.map((systemId, i) => ({ systemId, status: requeued.has(systemId) ? ('queued' as const) : (outcome.statuses[i] ?? 'queued') }));
    return { created: false, resubmitted: true, answer: { caseId: c.caseId, status: 'accepted', deliveries } };
  }

  // Queue every delivery still waiting to be sent. For a new case that is all of them (no status to
  // read); for a resubmission it heals a crash between storing and queueing (an existing job id is a
  // no-op). The adds go out together: on an auto-pipelined connection, one round trip for all.
  const deliveries: Accepted['deliveries'] = outcome.record.targets.map((systemId, i) => ({ systemId, status: outcome.created ? 'queued' : (outcome.statuses[i] ?? 'queued') }));
  await Promise.all(
    deliveries.map(({ systemId, status }) => {
      const system = config.systems.get(systemId);
      return status === 'queued' && system ? deps.queues.enqueue(system, c.caseId, requestId) : undefined;
    }),
  );
  return { created: outcome.created, answer: { caseId: c.caseId, status: 'accepted', deliveries } };
}
