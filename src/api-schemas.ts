/**
 * Zod schemas of HTTP bodies that are not part of the canonical model: the error body
 * every endpoint answers with, the probes' answers, what legacy systems are answered when they push a
 * result, and the ops interface's bodies and answers. Route handlers validate with the request
 * schemas, the code's types are inferred from (or checked against) the answer schemas, and
 * scripts/openapi.ts documents them all, so docs/openapi.yaml cannot drift from the code.
 */
import { z } from 'zod';
import { unmatchedResultSchema } from './results/unmatched-store';
import { auditActionSchema, auditEntrySchema, documentStatusSchema, lookupAuditSchema } from './ledger/audit-entry';
export { auditActionSchema, auditEntrySchema, documentStatusSchema, lookupAuditSchema, type AuditEntry, type LookupAudit } from './ledger/audit-entry';

export { unmatchedResultSchema };
import { caseIdSchema, caseSchema } from './cases/model';
import { levelSchema, protocolSchema, routesSchema, systemFileSchema } from './config/schema';
import { circuitViewSchema } from './delivery/circuit';
import { sealObjectSchema, type Verification } from './seal/seal';
import { SEAL_ALGORITHMS } from './seal/config';
import type { SealKeyInfo } from './seal/keys';
import type { StatsRow } from './ledger/stats';
import type { LedgerState } from './ledger/ledger';
import type { QuarantinedRow } from './ledger/quarantine';

export { circuitViewSchema };
import { errorBodySchema, errorCodeSchema, errorDetailSchema } from './platform/errors';

export { errorBodySchema, errorCodeSchema, errorDetailSchema };

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  reason: z.string().optional().describe('Not ready: every reason, joined by `; `.'),
  reasons: z.array(z.string()).optional().describe('Not ready: each reason (Redis, configuration, shutting down, workers).'),
  redis: z.boolean(),
  config: z.boolean(),
  accepting: z.boolean(),
  workers: z.boolean().optional().describe("Whether this process's background workers run (a process that runs any)."),
  ledger: z
    .object({ kind: z.enum(['postgres', 'pglite']), healthy: z.boolean(), lastError: z.string().optional(), since: z.iso.datetime() })
    .optional()
    .describe('The case ledger, reported and never a reason to be not ready: an outage only delays archiving.'),
});

// ── Results pushed by legacy systems ─────────────────────────────────────────────────────────────

/** The answer to `POST /api/v1/results/:systemId`. */
export const pushAnswerSchema = z.object({
  accepted: z.literal(true),
  caseId: caseIdSchema,
  /** The same result was recorded before: nothing changed. */
  duplicate: z.boolean(),
});
export type PushAnswer = z.infer<typeof pushAnswerSchema>;

/** The query of `GET /api/v1/admin/unmatched-results`; `cursor` is the `next` of the page before. */
export const unmatchedListQuerySchema = z.strictObject({
  systemId: z.string().regex(/^[a-z0-9-]+$/, 'a system id').optional().describe('Only this system’s unmatched results.'),
  cursor: z.string().regex(/^[a-z0-9-]+:\d{1,15}$/, 'the `next` of an earlier page').optional().describe('The `next` of the page before (opaque).'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Results per page, 1 to 500.'),
});

/** A page of unmatched results: by system id, then oldest first; `next` when there are more. */
export const unmatchedPageSchema = z.object({
  items: z.array(unmatchedResultSchema),
  next: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last.'),
});
export type UnmatchedPageAnswer = z.infer<typeof unmatchedPageSchema>;

/** The answer to `POST /api/v1/admin/unmatched-results/:id/rematch`: 200 when matched, else 409. */
export const rematchAnswerSchema = z.object({ id: z.string(), matched: z.boolean() });
export type RematchAnswer = z.infer<typeof rematchAnswerSchema>;

// ── Ops: who is calling ──────────────────────────────────────────────────────────────────────────

/** The answer to `GET /api/v1/admin/whoami`: the role of the ops token used, for the console to show only what it may do. */
export const whoamiSchema = z.object({
  role: z.enum(['viewer', 'operator', 'admin']).describe('`viewer` reads (ID and phone numbers masked); `operator` also pauses, resumes, replays, discards, re-matches and dry-runs; `admin` also changes, exports and rolls back configuration and corrects a dead letter\'s case.'),
});
export type WhoamiAnswer = z.infer<typeof whoamiSchema>;

// ── Ops: systems ─────────────────────────────────────────────────────────────────────────────────

const count = z.number().int().min(0);

/** What makes a system a problem, in the order the board lists problem systems. */
export const PROBLEMS = ['circuit_open', 'unreachable', 'paused', 'window_closed', 'failing', 'dead_letters', 'apply_error'] as const;
export const problemSchema = z.enum(PROBLEMS);

export const applyErrorSchema = z.object({
  version: z.number().int().min(1),
  process: z.string().describe('The gateway process (host:pid:id) that kept its previous version.'),
  message: z.string(),
  at: z.iso.datetime(),
});

/** A legacy system as ops see it (`GET /api/v1/admin/systems`, and the answer to pause and resume). */
export const systemStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  level: levelSchema,
  protocol: protocolSchema,
  paused: z.boolean(),
  circuit: circuitViewSchema,
  window: z.object({ open: z.boolean(), opensAt: z.iso.datetime().optional() }).describe('The maintenance window: open now, or when it opens (always open without one).'),
  queue: z.object({ waiting: count, active: count, delayed: count, failed: count }),
  deadLetters: count.describe('Deliveries whose attempts ran out, waiting for ops (replay or discard).'),
  lastSuccessAt: z.iso.datetime().optional().describe('When the system last answered a delivery.'),
  lastError: z.string().optional().describe('What went wrong last (the system’s own words kept as they are).'),
  failingSince: z.iso.datetime().optional().describe('The first failure since the last success; absent while it takes cases.'),
  oldestWaitingAt: z.iso.datetime().optional().describe('When the oldest delivery still queued for it was queued.'),
  probe: z
    .object({
      ok: z.boolean().describe('The last probe got an HTTP answer below 500.'),
      checkedAt: z.iso.datetime(),
      error: z.string().optional().describe('Why the last probe failed.'),
      unreachableSince: z.iso.datetime().optional().describe('The first failed probe since the last good one.'),
    })
    .optional()
    .describe('The health probe (`health:` in the system file), when it has one and it has run: reachability found out without a delivery.'),
  problems: z.array(problemSchema).describe('Why it is listed among the problem systems (first), in this order of urgency; empty when fine.'),
  version: z.number().int().min(1).describe('The configuration version this process uses.'),
  source: z.enum(['file', 'api']),
  applyErrors: z.array(applyErrorSchema).optional().describe('Processes that could not apply a stored version and kept their previous one.'),
});
export type SystemStatus = z.infer<typeof systemStatusSchema>;

/**
 * A system's configuration as stored: the system file as written (before `${VAR}` expansion), every
 * secret shown as `[redacted]`; sending `[redacted]` back keeps the secret.
 */
export const systemFileBodySchema = systemFileSchema.describe(
  'A system file as JSON, as written: `${VAR}` references are expanded when it is applied, and a secret shown or sent as `[redacted]` keeps its current value.',
);

export const versionSourceSchema = z.enum(['file', 'api']).describe('`file`: read from OW_CONFIG_DIR (at start, a reset or a reload); `api`: stored through the API, used instead of the file until a reset.');

/** The answer to `GET` and `PUT /api/v1/admin/systems/:id` (and, as it is, an accepted PUT body). */
export const systemVersionSchema = z.object({
  id: z.string(),
  version: z.number().int().min(1),
  source: versionSourceSchema,
  system: systemFileBodySchema,
});

/** The body of PUT: the system file, or the GET answer as it is (its `system` is used). */
export const systemPutBodySchema = z.union([systemFileBodySchema, systemVersionSchema]);

/** One version in a system's history (`GET /api/v1/admin/systems/:id/history`). */
export const versionInfoSchema = z.object({
  version: z.number().int().min(1),
  at: z.iso.datetime(),
  who: z.string(),
  source: versionSourceSchema,
  summary: z.string().describe('The top-level keys this version changed, after what it was (a rollback, a reset).'),
  reason: z.string().optional(),
  removed: z.boolean().optional().describe('This version removed the system (it has no content).'),
  applyError: z.string().optional().describe('A gateway process could not use this version and kept its previous one: which, and why.'),
});

/** `GET /api/v1/admin/systems/:id/history/:version`: a version with its content, secrets redacted. */
export const historyVersionSchema = versionInfoSchema.extend({ id: z.string(), system: systemFileBodySchema });

export const rollbackBodySchema = z.strictObject({
  version: z.number().int().min(1).describe('The version whose content is stored again, as a new version.'),
  reason: z.string().trim().min(1).max(500).optional(),
});

/** `DELETE /api/v1/admin/systems/:id`: the version that records the removal. */
export const systemRemovedSchema = z.object({
  id: z.string(),
  version: z.number().int().min(2).describe('The version that removed it: the history keeps it, after every version before.'),
  removed: z.literal(true),
});

/** `POST /api/v1/admin/config/reload`: what reading OW_CONFIG_DIR again did. */
export const reloadAnswerSchema = z.object({
  added: z.array(z.string()).describe('Systems whose file is new: each added, in every process within 5 s.'),
  changed: z.array(z.string()).describe('Systems whose file changed since it was last read (start-up, reset, reload): each a new version, `source: file`.'),
  unchanged: z.array(z.string()).describe('Systems whose file is as it was last read: left alone (a version stored through the API stays in use).'),
  missingOnDisk: z.array(z.string()).describe('Systems that run without a file in the folder: reported, not removed (DELETE removes a system).'),
  routes: z.object({ changed: z.boolean().describe('routes.yaml changed since it was last read, and is now a new version.'), version: z.number().int().min(1) }),
  versions: z.record(z.string(), z.number().int().min(1)).describe('The version each added or changed system is at now.'),
});

/** routes.yaml as JSON, as written (`${VAR}` references unexpanded). */
export const routesFileBodySchema = routesSchema.describe('routes.yaml as JSON: `routes` (itemCode glob → targets, first match wins) and `unrouted` (`reject` or a system id).');

/** `GET` and `PUT /api/v1/admin/routes`: the routing table in use, with its version (also the `ETag`). */
export const routesVersionSchema = z.object({
  version: z.number().int().min(1),
  source: versionSourceSchema,
  routes: routesFileBodySchema.shape.routes,
  unrouted: z.string().optional().describe('`reject` (the default when left out) or the system that takes every unrouted case.'),
});

/** The body of `PUT /api/v1/admin/routes`: routes.yaml as JSON, or the GET answer as it is (its version and source are ignored). */
export const routesPutBodySchema = z.union([routesFileBodySchema, routesVersionSchema]);

/** `GET /api/v1/admin/routes/history/:version`: a version of the routing table with its content. */
export const routesHistoryVersionSchema = versionInfoSchema.extend({ routes: routesFileBodySchema.shape.routes, unrouted: z.string().optional() });

/** `GET /api/v1/admin/config/export`: files ready to commit to OW_CONFIG_DIR. */
export const configExportSchema = z.object({
  files: z.record(z.string(), z.string()).describe('File name (`systems/<id>.yaml`, `routes.yaml`, `gateway.yaml`) → YAML text; every secret a `${VAR}` reference, never its value.'),
});

/** The body of `POST /api/v1/admin/systems/:id/dry-run`. */
export const dryRunBodySchema = z.strictObject({
  caseId: caseIdSchema.optional().describe('A stored case to map (else `case`, else the sample case).'),
  case: caseSchema.optional().describe('A case to map, validated as intake validates it.'),
  // Checked by the configuration validator (as PUT is), so its errors are `invalid_config` with every detail.
  system: z.record(z.string(), z.unknown()).optional().describe('A proposed configuration (the system file, or the GET answer as it is), validated as PUT validates it and not stored; else the one in use.'),
  reply: z.unknown().optional().describe('A sample reply, as the `response.*` expressions read it (JSON; for XML and SOAP the parsed object form).'),
});

export const dryRunAnswerSchema = z.object({
  systemId: z.string(),
  version: z.number().int().min(1).optional().describe('The configuration version used; absent for a proposed one.'),
  proposed: z.boolean(),
  caseId: caseIdSchema,
  caseSource: z.enum(['stored', 'given', 'sample']),
  request: z.object({
    endpoint: z.string().describe('Credentials in it redacted.'),
    method: z.string(),
    headers: z.record(z.string(), z.string()).describe('Credentials redacted.'),
    charset: z.string(),
    body: z.string().describe('The exact bytes that would be sent, decoded in `charset`, ID and phone numbers masked (below admin, the case itself is masked before it is mapped).'),
    byteLength: count,
  }),
  reply: z.object({ success: z.boolean(), receiptNo: z.string().optional(), error: z.string().optional(), retryable: z.boolean() }).optional().describe('What `response.*` made of the sample reply.'),
  materials: z
    .array(
      z.object({
        kind: z.string(),
        name: z.string(),
        size: count.optional(),
        sha256: z.string().optional(),
        mime: z.string().optional(),
        handover: z.enum(['uri', 'base64', 'form-data', 'mtom']).describe('How the delivery would hand it over: its URI in the mapped body (reference), base64 in the body (inline), a multipart/form-data part or an MTOM/XOP part (attach).'),
        field: z.string().optional().describe('Where in the body it (or its reference to the part) would go: `materials.field`.'),
        state: z
          .enum(['fetched', 'not_fetched_yet', 'by_reference'])
          .describe('`fetched`: a delivery of this case already fetched it (size and digest as fetched); `not_fetched_yet`: a delivery would fetch it first (a dry run fetches nothing); `by_reference`: never fetched for this system.'),
      }),
    )
    .optional()
    .describe('The materials this system takes from the case, and how each would be handed over: sizes and digests, never the bytes (and never the URI). `request.body` shows the body as mapped, without them.'),
  sealPreview: z.string().optional().describe('For a sealed system: the `X-OW-Seal` in `headers` is a preview, not signed, and never verifies.'),
  sent: z.literal(false).describe('Nothing was sent.'),
});
export type DryRunAnswer = z.infer<typeof dryRunAnswerSchema>;

// ── Ops: dead letters and the audit trail ────────────────────────────────────────────────────────

export const deadLetterSchema = z.object({
  id: z.string().describe('`<systemId>.<caseId>`: neither id can contain a dot.'),
  caseId: caseIdSchema,
  systemId: z.string(),
  attempts: count,
  lastError: z.string(),
  failedAt: z.iso.datetime(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

const cursor = z.string().regex(/^[A-Za-z0-9_-]{1,400}$/, 'the `next` of an earlier page');
const limit = z.coerce.number().int().min(1).max(500).default(100);

/** The query of `GET /api/v1/admin/dead-letters`. */
export const deadLetterQuerySchema = z.strictObject({
  systemId: z.string().optional().describe('Only this system’s dead letters.'),
  error: z.string().optional().describe('Only dead letters whose last error contains this (any case).'),
  cursor: cursor.optional().describe('The `next` of the page before (opaque).'),
  limit: limit.describe('Dead letters per page, 1 to 500.'),
});

/** A page of dead letters, oldest first; `next` when there are more. */
export const deadLetterPageSchema = z.object({
  items: z.array(deadLetterSchema),
  next: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last.'),
});
export type DeadLetterPage = z.infer<typeof deadLetterPageSchema>;

/** One look-up as `GET /api/v1/admin/shared-data/lookups` lists it: no hash, the ID number masked. */
export const lookupListingSchema = lookupAuditSchema.omit({ personKey: true }).extend({
  at: z.iso.datetime(),
  who: z.string().describe('The X-OW-Operator name, with a fingerprint of the token used.'),
});

export const lookupPageSchema = z.object({ items: z.array(lookupListingSchema).describe('Newest first.') });

/** What one source said about one kind. */
export const sourceAnswerSchema = z.object({
  source: z.string(),
  status: documentStatusSchema,
  ms: z.number().int().min(0),
  error: z.string().optional(),
});

/** One document of a shared-data answer: found (data, sealed and watermarked), or why not. */
export const sharedDocumentSchema = z.object({
  kind: z.string(),
  name: z.string().describe('The kind’s name in shared-data.yaml, e.g. 婚姻登记信息.'),
  status: documentStatusSchema,
  source: z.string().describe('The system whose record this is (found), or that answered the status.'),
  data: z.record(z.string(), z.unknown()).optional(),
  watermark: z.string().optional().describe('「此件由{origin}提供，仅供办理{purpose}使用，有效期至{YYYY年M月D日}」'),
  seal: sealObjectSchema.optional(),
  error: z.string().optional(),
  ms: z.number().int().min(0),
  cached: z.boolean().optional().describe('Answered from the cache (same person, name, kind and item within the kind’s cacheTtl); sealed afresh for this case.'),
  sources: z.array(sourceAnswerSchema).describe('Every source asked for this kind, and what each said.'),
});

export const sharedDataAnswerSchema = z.object({
  queryId: z.string(),
  caseId: z.string(),
  purpose: z.string(),
  documents: z.array(sharedDocumentSchema),
});

/** The query of `GET /api/v1/admin/audit`. */
export const auditQuerySchema = z.strictObject({
  action: auditActionSchema.optional().describe('Only this action.'),
  who: z.string().optional().describe('Only actions whose `who` contains this.'),
  caseId: z.string().optional().describe('Only actions on this case (its dead letters).'),
  from: z.iso.datetime({ offset: true }).optional().describe('Not before this time.'),
  to: z.iso.datetime({ offset: true }).optional().describe('Not after this time.'),
  cursor: cursor.optional().describe('The `next` of the page before.'),
  limit: limit.describe('Entries per page, 1 to 500.'),
});

export const auditPageSchema = z.object({
  items: z.array(auditEntrySchema),
  next: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last.'),
});
export type AuditPage = z.infer<typeof auditPageSchema>;

const reason = z.string().trim().min(1).max(500);

/** The optional body of pause, resume and replay. */
export const reasonBodySchema = z.strictObject({ reason: reason.optional() });

/** The body of `DELETE /api/v1/admin/dead-letters/:id`: discarding needs a reason. */
export const discardBodySchema = z.strictObject({ reason: z.string().trim().min(1, 'a reason is required to discard').max(500) });

/** The body of `POST /api/v1/admin/dead-letters/:id/replay`. */
export const replayBodySchema = z.strictObject({
  reason: reason.optional(),
  case: caseSchema.optional().describe('Admin only: replaces the stored case before the replay (same caseId; validated as intake validates; audited with the changed paths).'),
});

/** The body of `POST /api/v1/admin/dead-letters/replay`: which dead letters to replay; a filter or `all` is required. */
export const replayManyBodySchema = z.strictObject({
  systemId: z.string().optional().describe('Only this system’s dead letters.'),
  error: z.string().min(1).optional().describe('Only dead letters whose last error contains this (any case).'),
  all: z.literal(true).optional().describe('Every dead letter of every system: required when there is no filter.'),
  dryRun: z.boolean().optional().describe('Only count them; nothing is replayed.'),
  reason: reason.optional(),
});

export const replayAnswerSchema = z.object({
  id: z.string(),
  replayed: z.literal(true),
  changed: z.array(z.string()).optional().describe('With a corrected case: the paths it changed (audited).'),
});
export type ReplayAnswer = z.infer<typeof replayAnswerSchema>;

/** `GET /api/v1/admin/dead-letters/:id/case` (admin): the stored case, to correct before a replay. */
export const deadLetterCaseSchema = z.object({
  id: z.string(),
  caseId: caseIdSchema,
  systemId: z.string(),
  case: caseSchema.describe('The case as stored, in full (only an admin may read it): edit it and send it back as the replay\'s `case`.'),
});
export type DeadLetterCase = z.infer<typeof deadLetterCaseSchema>;

export const replayManyAnswerSchema = z.object({
  count: count.describe('How many dead letters match (and, without `dryRun`, were queued again).'),
  dryRun: z.boolean(),
  replayed: z.array(z.string()).optional().describe('The ids of the dead letters queued again (absent for a dry run).'),
});
export type ReplayManyAnswer = z.infer<typeof replayManyAnswerSchema>;

export const discardAnswerSchema = z.object({ id: z.string(), discarded: z.literal(true) });
export type DiscardAnswer = z.infer<typeof discardAnswerSchema>;

/** What the code holds of a system version: the file as read (its shape is checked when it is applied). */
export type SystemVersion = Omit<z.output<typeof systemVersionSchema>, 'system'> & { system: Record<string, unknown> };

// ── The seal room and the ledger's stats ─────────────────────────────────────────────────────────

const sealAlgorithmSchema = z.enum(SEAL_ALGORITHMS);

/** `GET /api/v1/seal/keys`: every key that may have sealed something, retired ones included. */
export const sealKeysAnswerSchema = z.object({
  keys: z.array(
    z.object({
      keyId: z.string(),
      alg: sealAlgorithmSchema,
      publicKeyPem: z.string(),
      publicKeyHex: z.string().optional().describe('SM2: the uncompressed point `04‖x‖y`, hex.'),
      status: z.enum(['active', 'retired']).describe('Retired keys seal nothing new and still verify what they sealed before `retiredAt`.'),
      createdAt: z.iso.datetime(),
      retiredAt: z.iso.datetime({ offset: true }).optional().describe('When it stopped signing: a seal it says it issued later is not valid.'),
    }),
  ),
});

/** The answer to `POST /api/v1/seal/verify`. */
export const verificationSchema = z.object({
  valid: z.boolean(),
  keyId: z.string(),
  alg: sealAlgorithmSchema,
  origin: z.string(),
  purpose: z.string(),
  expiresAt: z.iso.datetime({ offset: true }),
  expired: z.boolean(),
  changed: z.array(z.string()).describe('JSON Pointers of the fields that differ from the sealed ones.'),
  reason: z
    .string()
    .optional()
    .describe('Why it is not valid: `preview` (a dry run’s seal), `unknown_key`, `algorithm_mismatch`, `bad_signature`, `retired_key`, `validity_too_long`, `payload_changed`, `expired`, `not_yet_valid`.'),
});

/** `GET /api/v1/admin/stats` as JSON: per system and Asia/Shanghai day of acceptance. */
export const statsAnswerSchema = z.object({
  from: z.iso.datetime({ offset: true }).describe('Inclusive.'),
  to: z.iso.datetime({ offset: true }).describe('Exclusive.'),
  items: z.array(
    z.object({
      day: z.string().describe('YYYY-MM-DD, Asia/Shanghai.'),
      systemId: z.string(),
      level: z.string().nullable(),
      accepted: count,
      delivered: count,
      completed: count,
      rejected: count,
      dead: count,
      medianSeconds: z.number().nullable().describe('From acceptance to the result, over completed deliveries; null when none completed.'),
      p90Seconds: z.number().nullable(),
    }),
  ),
});

/** `GET /api/v1/admin/ledger/quarantine`: rows the ledger refused, set aside by the sweep. */
/** What retrying a quarantined row did. */
export const quarantineRetryAnswerSchema = z.object({
  kind: z.enum(['case', 'audit', 'lookup']),
  id: z.string(),
  outcome: z
    .enum(['queued', 'written', 'refused'])
    .describe('queued: a case goes back to the sweep, which writes it at its next tick (and sets it aside again if refused); written: the entry is in the ledger and left the quarantine; refused: the ledger refused it again and it stays.'),
  error: z.string().optional().describe('refused: what the database said this time.'),
});
export type QuarantineRetryAnswer = z.infer<typeof quarantineRetryAnswerSchema>;

export const quarantineAnswerSchema = z.object({
  items: z.array(
    z.object({
      kind: z.enum(['case', 'audit', 'lookup']).describe('A case (still in Redis, answered by the status API), an ops audit entry or a shared-data look-up.'),
      id: z.string().describe('The case id, or the audit stream entry id.'),
      at: z.iso.datetime().describe('When it was set aside.'),
      stage: z.enum(['finished', 'archived']).optional().describe('A case: refused at its first write (finished) or at its last before leaving Redis (archived).'),
      path: z.string().optional().describe('Where in the row the text the database refused is, when the gateway can tell.'),
      error: z.string().describe('What the database said: SQLSTATE and message.'),
      entry: auditEntrySchema.optional().describe('An audit entry or look-up, kept whole since it left its stream.'),
    }),
  ),
});

// The seal room, the ledger and the readiness probe type their answers themselves: a field they add or retype without
// adding it here fails the typecheck, so the document cannot fall behind them.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const SEAL_AND_STATS_AGREE: [
  Same<z.infer<typeof sealKeysAnswerSchema>['keys'][number], SealKeyInfo>,
  Same<z.infer<typeof verificationSchema>, Verification>,
  Same<z.infer<typeof statsAnswerSchema>['items'][number], StatsRow>,
  Same<NonNullable<z.infer<typeof readinessSchema>['ledger']>, LedgerState>,
  Same<z.infer<typeof quarantineAnswerSchema>['items'][number], QuarantinedRow>,
] = [true, true, true, true, true];
