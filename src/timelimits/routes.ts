/**
 * `GET /api/v1/reports/timeliness` and `GET /api/v1/reports/cases.gbt39046` (viewer and up).
 */
import { Router } from 'express';
import { z } from 'zod';
import { errors, json, OPS, OPS_ERRORS } from '../api-docs';
import { callerOf } from '../platform/access';
import { seesFullData } from '../platform/auth';
import { ApiError, parseRequest } from '../platform/errors';
import { mask } from '../platform/privacy';
import { answersCsv, route } from '../platform/route';
import { statsRange } from '../ledger/stats';
import { casesAccepted, GROUP_BY, gbtCsv, gbtJsonLines, gbtRecords, timeliness, timelinessCsv, timelinessSchema, type ReportSources } from './reports';

export interface ReportRoutesDeps extends ReportSources {
  now?: () => Date;
}

const dayOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const range = {
  from: dayOrInstant.optional().describe('Cases accepted from: a day (YYYY-MM-DD, Asia/Shanghai, from its start) or an ISO instant; default 30 days before `to`.'),
  to: dayOrInstant.optional().describe('… until before: a day (included, to its end) or an ISO instant (excluded); default now.'),
};
const timelinessQuery = z.strictObject({ ...range, groupBy: z.enum(GROUP_BY).default('item'), format: z.enum(['json', 'csv']).optional().describe('`csv` for CSV whatever the Accept header says.') });
const exportQuery = z.strictObject({ ...range, format: z.enum(['jsonl', 'csv']).optional().describe('`csv` for CSV, `jsonl` for JSON lines (the default), whatever the Accept header says.') });

export function reportRoutes(deps: ReportRoutesDeps): Router {
  const router = Router();
  const now = () => deps.now?.() ?? new Date();
  const read = async (from: string | undefined, to: string | undefined) => {
    const at = now();
    const span = statsRange(from, to, at);
    if (!span) throw new ApiError('invalid_request', 'from and to must be dates (YYYY-MM-DD, Asia/Shanghai days, both included) or ISO instants.', [{ path: 'from', message: 'not a date' }]);
    try {
      return { span, at, cases: await casesAccepted(deps, new Date(span.from), new Date(span.to)) };
    } catch {
      throw new ApiError('unavailable', 'Redis or the case ledger does not answer right now; try again shortly.');
    }
  };

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/reports/timeliness',
      operationId: 'timelinessReport',
      tags: ['reports'],
      summary: 'On-time rates, handling times and channels of the cases accepted in a period',
      description:
        'Per item, system, level or channel: cases accepted in [from, to), completed, completed within the promised and the legal limit, median and p90 working days of handling, ' +
        'open cases overdue, cases stopped for 补正 and for special procedures, cases per 申报来源代码 (GB/T 39046 A.5), and the promised limits\' cut against the legal ones. ' +
        'Open cases are read from Redis, finished ones from the case ledger, computed alike. JSON, or CSV with `Accept: text/csv` or `format=csv`.',
      security: OPS,
      query: timelinessQuery,
      responses: {
        '200': { description: 'One row per group, by key.', content: { ...json(timelinessSchema), 'text/csv': { schema: { type: 'string' } } } },
        ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
      const query = parseRequest(timelinessQuery, req.query, '(query)');
      const { span, at, cases } = await read(query.from, query.to);
      const rows = timeliness(cases, query.groupBy, deps.config().timeLimits, at);
      const csv = answersCsv(req, query.format, 'application/json');
      if (csv) res.type('text/csv; charset=utf-8').send(timelinessCsv(rows));
      else res.json({ from: span.from, to: span.to, groupBy: query.groupBy, rows });
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/reports/cases.gbt39046',
      operationId: 'casesGbt39046',
      tags: ['reports'],
      summary: 'The cases accepted in a period, as GB/T 39046-2020 data items',
      description:
        'One record per case accepted in [from, to): 办件编号, 实施编码, 事项名称, 办件类型代码, 申报来源代码, 申请者名称, 申请者证件类型代码, 申请者证件号码, 申请时间, 受理时间, 承诺办结时间, ' +
        '办理 (per delivery: 环节名称, 环节开始时间, 环节结束时间, 业务动作), 办结时间, 办件结果描述; date-times YYYYMMDDhhmmss in Asia/Shanghai. ' +
        'ID numbers are masked below admin. JSON lines (application/x-ndjson), or CSV with `Accept: text/csv` or `format=csv` (办理 as JSON in its cell).',
      security: OPS,
      query: exportQuery,
      responses: {
        '200': { description: 'The records, in order of acceptance.', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } },
        ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
      const query = parseRequest(exportQuery, req.query, '(query)');
      const { at, cases } = await read(query.from, query.to);
      const full = seesFullData(callerOf(res)?.role);
      const records = gbtRecords(cases, deps.config().timeLimits, at).map((r) => (full ? r : { ...r, 申请者证件号码: mask(r.申请者证件号码) }));
      const csv = answersCsv(req, query.format, 'application/x-ndjson');
      if (csv) res.type('text/csv; charset=utf-8').send(gbtCsv(records));
      else res.type('application/x-ndjson; charset=utf-8').send(gbtJsonLines(records));
    },
  );
  return router;
}
