/**
 * `GET /api/v1/admin/stats` (ops): per system and day, from the ledger; JSON or CSV.
 * `GET /api/v1/admin/ledger/quarantine` (ops): the rows the ledger refused, set aside by the sweep;
 * `POST …/quarantine/{kind}/{id}/retry` (operator and up, audited): try one again, once what the
 * database refused is mended (a migration, a constraint, a column made wider).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { ApiError, parseRequest } from '../platform/errors';
import { errors, json, OPERATOR, OPS, OPS_ERRORS, pathParam } from '../api-docs';
import { quarantineAnswerSchema, quarantineRetryAnswerSchema, statsAnswerSchema, type AuditEntry, type QuarantineRetryAnswer } from '../api-schemas';
import type { RedisClient } from '../platform/redis';
import { answersCsv, route } from '../platform/route';
import type { Ledger } from './ledger';
import { isRowRefusal, refusalOf, type Quarantine, type QuarantinedKind, type QuarantinedRow } from './quarantine';
import { statsCsv, statsRange } from './stats';

export interface LedgerRoutesDeps {
  /** Unset (OW_LEDGER=off): the routes are there, and say there is no ledger to answer from. */
  ledger?: Ledger;
  /** Kept in Redis, so listed even while the ledger does not answer. */
  quarantine: Quarantine;
  /** Where the sweep finds cases to write: a retried case goes back in. */
  redis: RedisClient;
  sweepKeys: { finished: string; archived: string };
  /** Writes the ops audit entry of a retry, with the caller's name and role. */
  audit: (req: Request, entry: Pick<AuditEntry, 'action' | 'target' | 'detail'>) => Promise<void>;
  now?: () => Date;
}

/**
 * Tries a quarantined row again. A case goes back into the sweep's set it was taken from, due now:
 * the sweep writes it (or sets it aside again) at its next tick, as it would have. An audit entry or
 * look-up, kept whole in the quarantine, is written to the ledger here and now.
 */
async function retry(deps: LedgerRoutesDeps, row: QuarantinedRow): Promise<QuarantineRetryAnswer> {
  const { kind, id } = row;
  if (kind === 'case') {
    await deps.redis.zadd(row.stage === 'archived' ? deps.sweepKeys.archived : deps.sweepKeys.finished, 0, id);
    await deps.quarantine.remove(kind, id);
    return { kind, id, outcome: 'queued' };
  }
  if (!deps.ledger) throw new ApiError('unavailable', 'This gateway runs without a case ledger (OW_LEDGER=off): there is nothing to write to.');
  if (!row.entry) throw new ApiError('not_found', `The quarantined ${kind} ${id} holds no entry to write.`);
  const entries = [{ id, entry: row.entry }];
  try {
    await (kind === 'audit' ? deps.ledger.writeAudit(entries) : deps.ledger.writeLookups(entries));
  } catch (err) {
    if (!isRowRefusal(err)) throw new ApiError('unavailable', 'The case ledger does not answer right now; try again shortly.');
    return { kind, id, outcome: 'refused', error: refusalOf(err) };
  }
  await deps.quarantine.remove(kind, id);
  return { kind, id, outcome: 'written' };
}

/** A day (an Asia/Shanghai day, included) or an instant with its offset. */
const dayOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const querySchema = z.strictObject({
  from: dayOrInstant.optional().describe('A day (YYYY-MM-DD, Asia/Shanghai, included) or an ISO instant; default 30 days before `to`.'),
  to: dayOrInstant.optional().describe('A day (included) or an ISO instant; default now.'),
  level: z.enum(['national', 'provincial', 'city']).optional().describe('Only systems of this level.'),
  systemId: z.string().regex(/^[a-z0-9-]+$/).optional().describe('Only this system.'),
  itemCode: z.string().min(1).max(64).optional().describe('Only cases of this item.'),
  format: z.enum(['json', 'csv']).optional().describe('`csv` for CSV whatever the Accept header says.'),
});

export function ledgerRoutes(deps: LedgerRoutesDeps): Router {
  const router = Router();
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/stats',
      operationId: 'stats',
      tags: ['admin'],
      summary: 'Deliveries per system and day, from the case ledger',
      description:
        'Per system and Asia/Shanghai day of acceptance: deliveries accepted, delivered, completed, rejected and dead, and the median and p90 seconds from acceptance to the result. ' +
        'Only finished cases (in the ledger) are counted. JSON, or CSV with `Accept: text/csv` or `format=csv`.',
      security: OPS,
      query: querySchema,
      responses: {
        '200': { description: 'The rows, by day and system.', content: { ...json(statsAnswerSchema), 'text/csv': { schema: { type: 'string' } } } },
        ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const { from, to, format, ...filter } = parseRequest(querySchema, req.query, '(query)');
    const range = statsRange(from, to, deps.now?.() ?? new Date());
    if (!range) throw new ApiError('invalid_request', 'from and to must be dates (YYYY-MM-DD, Asia/Shanghai days, both included) or ISO instants.', [{ path: 'from', message: 'not a date' }]);
    if (!deps.ledger) throw new ApiError('unavailable', 'This gateway runs without a case ledger (OW_LEDGER=off): there are no stats to answer from.');
    let rows;
    try {
      rows = await deps.ledger.stats({ ...range, ...filter });
    } catch {
      throw new ApiError('unavailable', 'The case ledger does not answer right now; try again shortly.');
    }
    const csv = answersCsv(req, format, 'application/json');
    if (csv) res.type('text/csv; charset=utf-8').send(statsCsv(rows));
    else res.json({ from: range.from, to: range.to, items: rows });
  });
  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/ledger/quarantine',
      operationId: 'ledgerQuarantine',
      tags: ['admin'],
      summary: 'Rows the case ledger refused, set aside by the sweep',
      description:
        'A case or audit entry the ledger database refused (e.g. text it cannot store) is set aside instead of stopping the sweep: ' +
        'a case stays in Redis and is still answered by the status API; an audit entry is kept here whole. Newest first, at most 1000.',
      security: OPS,
      responses: {
        '200': { description: 'The rows set aside, with what the database said.', content: json(quarantineAnswerSchema) },
        ...errors(OPS_ERRORS),
      },
    },
    async (_req, res) => {
      res.json({ items: await deps.quarantine.list() });
    },
  );
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/ledger/quarantine/{kind}/{id}/retry',
      operationId: 'retryQuarantined',
      tags: ['admin'],
      summary: 'Try a row the case ledger refused again (audited)',
      description:
        'Once what the database refused is mended: a case goes back to the sweep, which writes it at its next tick (and sets it aside again if it is refused again); ' +
        'an audit entry or look-up is written now, and leaves the quarantine if the ledger takes it.',
      security: OPS,
      parameters: [pathParam('kind', 'case, audit or lookup.'), pathParam('id', 'The case id, or the audit stream entry id.'), OPERATOR],
      responses: {
        '200': { description: 'What the retry did.', content: json(quarantineRetryAnswerSchema) },
        ...errors(['not_found', 'unavailable', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
      const kind = String(req.params.kind) as QuarantinedKind;
      const id = String(req.params.id);
      const row = ['case', 'audit', 'lookup'].includes(kind) ? await deps.quarantine.get(kind, id) : undefined;
      if (!row) throw new ApiError('not_found', `Nothing quarantined as ${kind} ${id}.`);
      const answer = await retry(deps, row);
      await deps.audit(req, { action: 'ledger.retry', target: `${kind}:${id}`, detail: answer.outcome === 'refused' ? `refused again: ${answer.error}` : answer.outcome });
      res.json(answer);
    },
  );
  return router;
}
