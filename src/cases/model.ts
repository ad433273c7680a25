/**
 * The canonical model: the case the intake platform sends, the result a legacy
 * system's answer becomes, and the delivery that ties a case to one target system.
 */
import { z } from 'zod';
import { isMarkupKey } from '../platform/xml';
import { timeLimitSchema } from '../timelimits/clock';

export const caseIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z, a-z, 0-9, _ and -');

export const applicantSchema = z.strictObject({
  kind: z.enum(['person', 'organization']),
  name: z.string().min(1).max(200),
  idType: z.string().min(1).max(32),
  idNumber: z.string().min(1).max(64),
  phone: z.string().max(32).optional(),
  address: z.string().max(500).optional(),
});

export const materialSchema = z.strictObject({
  name: z.string().min(1).max(200),
  kind: z.string().min(1).max(64),
  uri: z
    .string()
    .min(1)
    .max(2048)
    .describe('store://<storeId>/<path> of a configured material store (or an http(s) URL under its base URL), or lookup://<queryId>/<kind> of a shared-data look-up of this case. Anything else is refused.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/i, '64 hex digits').optional().describe('Checked against the bytes fetched: a mismatch rejects the delivery ("material altered").'),
  size: z.number().int().min(0).optional().describe('Bytes; checked against the bytes fetched like sha256.'),
  mime: z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'a media type such as application/pdf').max(127).optional(),
});
export type Material = z.infer<typeof materialSchema>;

/** At most this many markup keys are named in one answer. */
const MARKUP_KEYS_NAMED = 20;

/** A place in the form being walked: its key under its parent, kept as a chain so that no path is copied. */
interface Place {
  parent?: Place;
  key?: PropertyKey;
  value: unknown;
}

function pathOf(place: Place): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let p: Place | undefined = place; p?.key !== undefined; p = p.parent) path.unshift(p.key);
  return path;
}

/**
 * Refuses keys an XML or SOAP writer reads as markup (`$xml`, `attributes`, `@id`…) anywhere in the
 * form: a legacy system must receive what a case says as text, never as elements or attributes.
 * A walk with its own stack, so that no nesting depth can overflow the call stack.
 */
function refuseMarkupKeys(form: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const stack: Place[] = [{ value: form }];
  let named = 0;
  while (stack.length > 0) {
    const place = stack.pop()!;
    const value = place.value as object;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && isMarkupKey(key)) {
        ctx.addIssue({ code: 'custom', path: pathOf({ parent: place, key, value: child }), message: 'a key starting with $, @, #, ? or :, or named attributes, _xml or _xmlns, is XML markup and not allowed in case data' });
        if (++named === MARKUP_KEYS_NAMED) return;
      }
      if (child !== null && typeof child === 'object') stack.push({ parent: place, key, value: child });
    }
  }
}

export const caseSchema = z.strictObject({
  caseId: caseIdSchema,
  itemCode: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 of A-Z, a-z, 0-9, _, . and -'),
  itemName: z.string().min(1).max(200),
  channel: z.enum(['window', 'mobile', 'web', 'self-service']),
  submittedAt: z.iso.datetime({ offset: true }),
  applicant: applicantSchema,
  materials: z.array(materialSchema).max(200).default([]),
  form: z
    .record(z.string(), z.unknown())
    .superRefine(refuseMarkupKeys)
    .default({})
    .describe('The item\'s own fields, any JSON. Keys that XML and SOAP writers read as markup are refused, at any depth: those starting with $, @, #, ? or :, and attributes, _xml, _xmlns.'),
  targets: z.array(z.string().regex(/^[a-z0-9-]+$/, 'a system id')).min(1).max(44).optional(),
});

export type Case = z.infer<typeof caseSchema>;

export const outcomeSchema = z.enum(['approved', 'rejected', 'need_more', 'info']);

/**
 * A special procedure (特别程序, 行政许可法 §45: hearing, testing, inspection, expert review…) a
 * legacy system reports with an `info` result: its start stops the case's clock, its end restarts it.
 */
export const procedureSchema = z.strictObject({
  kind: z.string().min(1).max(64).describe('What the procedure is, as the system names it (e.g. 专家评审, or a GB/T 39046 A.7 code).'),
  phase: z.enum(['start', 'end']),
});
export type Procedure = z.infer<typeof procedureSchema>;

export const resultSchema = z.strictObject({
  caseId: caseIdSchema,
  systemId: z.string(),
  receiptNo: z.string().optional(),
  outcome: outcomeSchema,
  message: z.string().optional(),
  documents: z.array(z.unknown()).optional(),
  decidedAt: z.string().optional(),
  procedure: procedureSchema.optional().describe('With outcome `info` only: a special procedure starts or ends (the clock stops or restarts).'),
});
export type Result = z.infer<typeof resultSchema>;

export const deliveryStatusSchema = z.enum(['queued', 'delivering', 'delivered', 'completed', 'rejected', 'dead']);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/** A status from which a delivery moves no further on its own. */
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['completed', 'rejected', 'dead'];

/** Every event a delivery's history can hold, in the order a delivery usually meets them. */
export const historyEventSchema = z.enum([
  'accepted', // the case was accepted for this system
  'waiting', // held: outside the maintenance window, or the circuit is open
  'attempt', // an attempt began
  'throttled', // the system said 429: the queue holds, the attempt is given back
  'retry_scheduled', // failed, retried after a backoff
  'delivered', // the system acknowledged it, with a receipt number
  'receipt_shared', // another open delivery to the same system holds the same receipt number
  'materials', // how the case's materials were handed over (by reference, inline, attached)
  'result', // the system's decision came back
  'rejected', // refused for good
  'dead', // attempts exhausted, or no result in time
  'case_corrected', // an admin corrected the case before replaying it
  'resubmitted', // the applicant completed the case (补正): sent again with the new content
  'replayed', // ops queued a dead letter again
  'discarded', // ops gave a dead letter up
]);
export type HistoryEvent = z.infer<typeof historyEventSchema>;

export const historyEntrySchema = z.object({
  at: z.string(),
  event: historyEventSchema,
  detail: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export const deliveryViewSchema = z.object({
  systemId: z.string(),
  status: deliveryStatusSchema,
  attempts: z.number().int(),
  receiptNo: z.string().optional(),
  lastError: z.string().optional(),
  /** Why a queued delivery is not being sent right now (absent: it is next in line). */
  waitingFor: z.enum(['paused', 'window', 'circuit', 'retry', 'rate_limit']).optional().describe('Why a queued delivery waits: its system is paused, outside its maintenance window, its circuit is open, a retry backoff, or the queue is held (rate limit, a 429).'),
  nextAttemptAt: z.iso.datetime().optional().describe('When it will be tried next; absent while paused (nothing is sent until resumed).'),
  result: resultSchema.optional(),
  handover: z
    .object({
      mode: z.enum(['reference', 'inline', 'attach']),
      materials: z.array(z.object({ kind: z.string(), size: z.number().int().optional(), sha256: z.string().optional() })),
    })
    .optional()
    .describe('How the materials this system takes were handed over on the delivery the system acknowledged: as URIs, base64 in the body, or attached parts.'),
  history: z.array(historyEntrySchema),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

export const caseStatusSchema = z.enum(['in_progress', 'completed', 'failed', 'partially_failed']);
export type CaseStatus = z.infer<typeof caseStatusSchema>;

export const caseViewSchema = z.object({
  caseId: caseIdSchema,
  itemCode: z.string(),
  status: caseStatusSchema,
  acceptedAt: z.string(),
  /** True when answered from the ledger: the case has finished and left Redis. */
  archived: z.boolean().optional(),
  materials: z
    .array(
      z.object({
        kind: z.string(),
        name: z.string(),
        size: z.number().int().optional(),
        sha256: z.string().optional(),
        mime: z.string().optional(),
        fetched: z.boolean().describe('Fetched and verified for a delivery; size and sha256 are then those of the bytes fetched.'),
      }),
    )
    .optional()
    .describe('The case\'s materials: as the case gave them, or as fetched once a delivery fetched them. Never the URI (a store path may name the applicant) nor the bytes.'),
  deliveries: z.array(deliveryViewSchema),
  timeLimit: timeLimitSchema.optional().describe('The clock of the case (办件时限), when its item has time limits (config/items.yaml).'),
});
export type CaseView = z.infer<typeof caseViewSchema>;

export const acceptedSchema = z.object({
  caseId: caseIdSchema,
  status: z.literal('accepted'),
  deliveries: z.array(z.object({ systemId: z.string(), status: deliveryStatusSchema })),
});
export type Accepted = z.infer<typeof acceptedSchema>;

/** What a case's deliveries add up to. */
export function caseStatusOf(statuses: readonly DeliveryStatus[]): CaseStatus {
  if (!statuses.every((s) => FINAL_STATUSES.includes(s))) return 'in_progress';
  const failed = statuses.filter((s) => s === 'rejected' || s === 'dead').length;
  if (failed === 0) return 'completed';
  return failed === statuses.length ? 'failed' : 'partially_failed';
}

export const caseEventTypeSchema = z.enum(['delivery.delivered', 'delivery.completed', 'delivery.rejected', 'delivery.dead']);
export type CaseEventType = z.infer<typeof caseEventTypeSchema>;

/** What the intake platform is told (callbacks); the same eventId on every try. */
export const caseEventSchema = z.object({
  eventId: z.string(),
  event: caseEventTypeSchema,
  caseId: caseIdSchema,
  systemId: z.string(),
  status: deliveryStatusSchema,
  receiptNo: z.string().optional(),
  result: resultSchema.optional(),
  error: z.string().optional(),
  at: z.string(),
});
export type CaseEvent = z.infer<typeof caseEventSchema>;
