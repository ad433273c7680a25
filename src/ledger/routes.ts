/** `GET /api/v1/admin/stats` (ops): per system and day, from the ledger; JSON or CSV. */
import { Router } from 'express';
import { z } from 'zod';
import { ApiError } from '../platform/errors';
import type { Ledger } from './ledger';
import { statsCsv, statsRange } from './stats';

export interface LedgerRoutesDeps {
  /** Unset (OW_LEDGER=off): the routes are there, and say there is no ledger to answer from. */
  ledger?: Ledger;
  now?: () => Date;
}

const querySchema = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
  level: z.enum(['national', 'provincial', 'city']).optional(),
  systemId: z.string().regex(/^[a-z0-9-]+$/).optional(),
  itemCode: z.string().min(1).max(64).optional(),
  format: z.enum(['json', 'csv']).optional(),
});

export function ledgerRoutes(deps: LedgerRoutesDeps): Router {
  const router = Router();
  router.get('/api/v1/admin/stats', async (req, res) => {
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
  return router;
}
