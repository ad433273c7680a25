/**
 * The shape of one audit trail entry and of the shared-data look-up it may carry: written by every
 * room that audits, kept by the ledger, listed by the API. A leaf module, so the ledger and the API
 * document can both import it.
 */
import { z } from 'zod';

export const auditActionSchema = z.enum([
  'system.pause',
  'system.resume',
  'system.configure',
  'system.rollback',
  'system.reset',
  'system.create',
  'system.remove',
  'system.dry_run',
  'routes.configure',
  'routes.rollback',
  'config.reload',
  'config.export',
  'dead_letter.replay',
  'dead_letter.correct',
  'dead_letter.discard',
  'unmatched.discard',
  'unmatched.rematch',
  'auth.refused',
  'seal.verify',
  'seal.rotate',
  'shared-data.query',
  'material.altered',
  'ledger.retry',
]);

export const documentStatusSchema = z.enum(['found', 'not_found', 'error', 'timeout']);

/** What the audit trail keeps of one shared-data query: never the ID number, only its mask and a keyed hash. */
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
  /** Kinds refused (outcome refused): those the purpose may not use, or all when the case is refused. */
  refused: z.array(z.string()).optional(),
  refusal: z.enum(['purpose_not_allowed', 'unknown_case', 'purpose_mismatch']).optional().describe('Why it was refused (outcome refused): the error code answered.'),
  ms: z.number().int().min(0),
});
export type LookupAudit = z.infer<typeof lookupAuditSchema>;

export const auditEntrySchema = z.object({
  at: z.iso.datetime(),
  who: z.string().describe('The X-OW-Operator name, with a fingerprint of the token used (or the address of a stranger).'),
  role: z.enum(['intake', 'viewer', 'operator', 'admin']).optional().describe('The role of the token used; absent when none was valid.'),
  action: auditActionSchema,
  target: z.string().describe('A system id, `<systemId>.<caseId>` (a dead letter, a dry run), `routes` (the routing table) or `config` (a reload).'),
  reason: z.string().optional(),
  detail: z.string().optional(),
  lookup: lookupAuditSchema.optional().describe('For shared-data.query: what was asked and answered.'),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
