/**
 * Zod schemas of HTTP bodies that are not part of the canonical model (CONTRACT §6): the error body
 * every endpoint answers with, the probes' answers, what legacy systems are answered when they push a
 * result, and the ops interface's bodies and answers. Route handlers validate with the request
 * schemas, the code's types are inferred from (or checked against) the answer schemas, and
 * scripts/openapi.ts documents them all, so docs/openapi.yaml cannot drift from the code.
 */
import { z } from 'zod';
import { unmatchedResultSchema } from './cases/store';

export { unmatchedResultSchema };
import { caseIdSchema } from './cases/model';
import { levelSchema, protocolSchema, systemFileSchema } from './config/schema';
import { circuitViewSchema } from './delivery/circuit';

export { circuitViewSchema };
import { errorBodySchema, errorCodeSchema, errorDetailSchema } from './platform/errors';

export { errorBodySchema, errorCodeSchema, errorDetailSchema };

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  redis: z.boolean(),
  config: z.boolean(),
  accepting: z.boolean(),
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
  systemId: z.string().regex(/^[a-z0-9-]+$/, 'a system id').optional(),
  cursor: z.string().regex(/^[a-z0-9-]+:\d{1,15}$/, 'the `next` of an earlier page').optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
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

// ── Ops: systems ─────────────────────────────────────────────────────────────────────────────────

const count = z.number().int().min(0);

/** A legacy system as ops see it (`GET /api/v1/admin/systems`, and the answer to pause and resume). */
export const systemStatusSchema = z.object({
  id: z.string(),
  name: z.string(),
  level: levelSchema,
  protocol: protocolSchema,
  paused: z.boolean(),
  circuit: circuitViewSchema,
  queue: z.object({ waiting: count, active: count, delayed: count, failed: count }),
});
export type SystemStatus = z.infer<typeof systemStatusSchema>;

/**
 * A system's configuration as stored: the system file as written (before `${VAR}` expansion), every
 * secret shown as `[redacted]`; sending `[redacted]` back keeps the secret.
 */
export const systemFileBodySchema = systemFileSchema.describe(
  'A system file as JSON, as written: `${VAR}` references are expanded when it is applied, and a secret shown or sent as `[redacted]` keeps its current value.',
);

/** The answer to `GET` and `PUT /api/v1/admin/systems/:id`. */
export const systemVersionSchema = z.object({
  id: z.string(),
  version: z.number().int().min(1),
  system: systemFileBodySchema,
});

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

export const auditActionSchema = z.enum(['system.pause', 'system.resume', 'system.configure', 'dead_letter.replay', 'dead_letter.discard', 'auth.refused', 'shared-data.query']);

export const documentStatusSchema = z.enum(['found', 'not_found', 'error', 'timeout']);

/** What the audit trail keeps of one shared-data query (§9): never the ID number, only its mask and a keyed hash. */
export const lookupAuditSchema = z.object({
  queryId: z.string(),
  caseId: z.string(),
  purpose: z.string().describe('The item code the query named.'),
  person: z.string().describe('The ID number, masked (330*************34).'),
  personKey: z.string().optional().describe('Keyed hash of the ID number, for finding one person’s look-ups; never shown.'),
  kinds: z.array(z.string()),
  sources: z.array(z.string()),
  outcome: z.enum(['answered', 'refused']),
  statuses: z.array(z.object({ kind: z.string(), source: z.string(), status: documentStatusSchema, cached: z.boolean().optional() })),
  /** Kinds the purpose may not use (outcome refused). */
  refused: z.array(z.string()).optional(),
  ms: z.number().int().min(0),
});
export type LookupAudit = z.infer<typeof lookupAuditSchema>;

export const auditEntrySchema = z.object({
  at: z.iso.datetime(),
  who: z.string().describe('The X-OW-Operator name, with a fingerprint of the token used (or the address of a stranger).'),
  role: z.enum(['intake', 'viewer', 'operator', 'admin']).optional().describe('The role of the token used; absent when none was valid.'),
  action: auditActionSchema,
  target: z.string().describe('A system id, or a dead letter id.'),
  reason: z.string().optional(),
  detail: z.string().optional(),
  lookup: lookupAuditSchema.optional().describe('For shared-data.query: what was asked and answered.'),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const reason = z.string().trim().min(1).max(500);

/** The optional body of pause, resume and replay. */
export const reasonBodySchema = z.strictObject({ reason: reason.optional() });

/** The body of `DELETE /api/v1/admin/dead-letters/:id`: discarding needs a reason. */
export const discardBodySchema = z.strictObject({ reason: z.string().trim().min(1, 'a reason is required to discard').max(500) });

/** The optional body of `POST /api/v1/admin/dead-letters/replay`: which dead letters to replay. */
export const replayManyBodySchema = z.strictObject({
  systemId: z.string().optional().describe('Only this system’s dead letters.'),
  error: z.string().min(1).optional().describe('Only dead letters whose last error contains this (any case).'),
  reason: reason.optional(),
});

export const replayAnswerSchema = z.object({ id: z.string(), replayed: z.literal(true) });
export type ReplayAnswer = z.infer<typeof replayAnswerSchema>;

export const replayManyAnswerSchema = z.object({ replayed: z.array(z.string()).describe('The ids of the dead letters queued again.') });
export type ReplayManyAnswer = z.infer<typeof replayManyAnswerSchema>;

export const discardAnswerSchema = z.object({ id: z.string(), discarded: z.literal(true) });
export type DiscardAnswer = z.infer<typeof discardAnswerSchema>;

/** What the code holds of a system version: the file as read (its shape is checked when it is applied). */
export type SystemVersion = Omit<z.output<typeof systemVersionSchema>, 'system'> & { system: Record<string, unknown> };
