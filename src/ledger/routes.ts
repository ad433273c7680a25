/**
 * `GET /api/v1/admin/stats` (ops): per system and day, from the ledger; JSON or CSV.
 * `GET /api/v1/admin/ledger/quarantine` (ops): the rows the ledger refused, set aside by the sweep.
 */
import { Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../platform/errors';
import { errors, json, OPS, OPS_ERRORS } from '../api-docs';
import { quarantineAnswerSchema, statsAnswerSchema } from '../api-schemas';
import { route } from '../platform/route';
import type { Ledger } from './ledger';
import type { Quarantine } from './quarantine';
import { statsCsv, statsRange } from './stats';

export interface LedgerRoutesDeps {
  /** Unset (OW_LEDGER=off): the routes are there, and say there is no ledger to answer from. */
  ledger?: Ledger;
  /** Kept in Redis, so listed even while the ledger does not answer. */
  quarantine: Quarantine;
  now?: () => Date;
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
    const parsed = querySchema.safeParse(req.query);
    if (!parsed.success) throw new ApiError('invalid_request', undefined, parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(query)', message: i.message })));
    const { from, to, format, ...filter } = parsed.data;
    const range = statsRange(from, to, deps.now?.() ?? new Date());
    if (!range) throw new ApiError('invalid_request', 'from and to must be dates (YYYY-MM-DD, Asia/Shanghai days, both included) or ISO instants.', [{ path: 'from', message: 'not a date' }]);
    if (!deps.ledger) throw new ApiError('unavailable', 'This gateway runs without a case ledger (OW_LEDGER=off): there are no stats to answer from.');
    let rows;
    try {
      rows = await deps.ledger.stats({ ...range, ...filter });
    } catch {
      throw new ApiError('unavailable', 'The case ledger does not answer right now; try again shortly.');
    }
    const csv = format === 'csv' || (format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
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
  return router;
}
