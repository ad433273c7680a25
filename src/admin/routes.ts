/** The ops interface (CONTRACT §6): systems, pause/resume, dead letters, audit. Bearer OW_OPS_TOKEN. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  auditQuerySchema,
  deadLetterQuerySchema,
  discardBodySchema,
  dryRunBodySchema,
  reasonBodySchema,
  replayBodySchema,
  replayManyBodySchema,
  rollbackBodySchema,
  type DeadLetterCase,
  type DiscardAnswer,
  type ReplayAnswer,
  type ReplayManyAnswer,
  type WhoamiAnswer,
} from '../api-schemas';
import { callerOf } from '../platform/access';
import { bearerToken, fingerprint } from '../platform/auth';
import { ApiError, issueDetails } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import type { Operations, Operator } from './operations';

export interface AdminRoutesDeps {
  operations: Operations;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The operator's name as sent: percent-encoded UTF-8 (what browsers and curl users are told to
 * send), or raw UTF-8 bytes, which Node hands over as Latin-1 characters. Anything else would be
 * stored as mojibake, so it is refused.
 */
function operatorName(header: string): string {
  try {
    if (/[^ -~\t]/.test(header)) return UTF8.decode(Buffer.from(header, 'latin1'));
    return decodeURIComponent(header);
  } catch {
    throw new ApiError('invalid_request', 'X-OW-Operator must be UTF-8, raw or percent-encoded (e.g. %E5%80%BC%E7%8F%AD%E5%91%98).', [{ path: 'X-OW-Operator', message: 'not UTF-8' }]);
  }
}

/**
 * Who is acting: the name ops give in X-OW-Operator, and which token they used (a fingerprint,
 * never the token).
 */
export function operatorOf(req: Request): Operator {
  const name = operatorName(req.get('x-ow-operator') ?? 'ops').replace(/[^\p{L}\p{N} ._@-]/gu, '').slice(0, 64) || 'ops';
  const role = req.res ? callerOf(req.res)?.role : undefined;
  return { who: `${name} (token ${fingerprint(bearerToken(req.get('authorization')) ?? '')})`, role };
}

/**
 * What only an admin may do (CONTRACT §6: change configuration, export it, correct a case). Most
 * such routes are admin-only in the permission table already; this also covers an admin-only part
 * of an operator's route (a dead letter's corrected case).
 */
export function requireAdmin(req: Request): Operator {
  const by = operatorOf(req);
  if (by.role !== 'admin') throw new ApiError('forbidden', `Only an admin may do this (this token has role ${by.role ?? 'none'}).`);
  return by;
}

/** `If-Match: "3"` (also `W/"3"` or a bare 3) as a version; undefined when not sent. */
export function ifMatchVersion(req: Request): number | undefined {
  const header = req.get('if-match');
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw new ApiError('invalid_request', 'If-Match must be a version as the ETag gave it, e.g. "3".', [{ path: 'If-Match', message: 'not a version' }]);
  return Number(match[1]);
}

function etag(res: Response, version: number): void {
  res.set('ETag', `"${version}"`);
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new ApiError('invalid_request', undefined, issueDetails(parsed.error.issues));
  return parsed.data;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { operations } = deps;
  router.use('/api/v1/admin', ...jsonBody('64kb'));

  // Any ops role may ask (the permission table lets only ops tokens reach GET /api/v1/admin/*).
  router.get('/api/v1/admin/whoami', (_req, res) => {
    const role = callerOf(res)?.role;
    if (role !== 'viewer' && role !== 'operator' && role !== 'admin') throw new ApiError('forbidden');
    res.json({ role } satisfies WhoamiAnswer);
  });

  router.get('/api/v1/admin/systems', async (_req, res) => {
    res.json(await operations.systems());
  });
  router.get('/api/v1/admin/systems/:id', (req, res) => {
    const shown = operations.showSystem(param(req, 'id'));
    etag(res, shown.version);
    res.json(shown);
  });
  router.put('/api/v1/admin/systems/:id', async (req, res) => {
    const by = requireAdmin(req);
    const stored = await operations.putSystem(param(req, 'id'), req.body, by, ifMatchVersion(req));
    etag(res, stored.version);
    res.json(stored);
  });
  router.get('/api/v1/admin/systems/:id/history', async (req, res) => {
    res.json(await operations.history(param(req, 'id')));
  });
  router.get('/api/v1/admin/systems/:id/history/:version', async (req, res) => {
    const version = /^\d{1,9}$/.test(param(req, 'version')) ? Number(param(req, 'version')) : 0;
    res.json(await operations.historyVersion(param(req, 'id'), version));
  });
  router.post('/api/v1/admin/systems/:id/rollback', async (req, res) => {
    const by = requireAdmin(req);
    const { version, reason } = parse(rollbackBodySchema, req.body);
    const stored = await operations.rollback(param(req, 'id'), version, by, ifMatchVersion(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  router.post('/api/v1/admin/systems/:id/reset', async (req, res) => {
    const by = requireAdmin(req);
    const { reason } = parse(reasonBodySchema, req.body);
    const stored = await operations.reset(param(req, 'id'), by, ifMatchVersion(req), reason);
    etag(res, stored.version);
    res.json(stored);
  });
  router.post('/api/v1/admin/systems/:id/dry-run', async (req, res) => {
    const body = parse(dryRunBodySchema, req.body);
    if (body.caseId && body.case) throw new ApiError('invalid_request', 'Give caseId or case, not both.', [{ path: 'case', message: 'caseId is given too' }]);
    res.json(await operations.dryRun(param(req, 'id'), body));
  });
  router.post('/api/v1/admin/systems/:id/pause', async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(param(req, 'id'), true, operatorOf(req), reason));
  });
  router.post('/api/v1/admin/systems/:id/resume', async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(param(req, 'id'), false, operatorOf(req), reason));
  });
  router.get('/api/v1/admin/config/export', (req, res) => {
    requireAdmin(req);
    res.json(operations.exportConfig());
  });

  router.get('/api/v1/admin/dead-letters', async (req, res) => {
    res.json(await operations.deadLetters(parse(deadLetterQuerySchema, req.query)));
  });
  router.post('/api/v1/admin/dead-letters/replay', async (req, res) => {
    const { reason, dryRun, all, ...filter } = parse(replayManyBodySchema, req.body);
    // An empty body once replayed every dead letter of every system: that now has to be asked for.
    if (!filter.systemId && !filter.error && !all) {
      throw new ApiError('invalid_request', 'Say which dead letters to replay: systemId, error, or all: true for every one.', [{ path: '(body)', message: 'a filter (systemId, error) or all: true is required' }]);
    }
    const done = await operations.replayMany(filter, operatorOf(req), { reason, dryRun });
    res.json({ count: done.count, dryRun: dryRun === true, ...(done.replayed ? { replayed: done.replayed } : {}) } satisfies ReplayManyAnswer);
  });
  // The full case (ID numbers and all) is an admin's to see, as is correcting it (CONTRACT §6).
  router.get('/api/v1/admin/dead-letters/:id/case', async (req, res) => {
    requireAdmin(req);
    res.json((await operations.deadLetterCase(param(req, 'id'))) satisfies DeadLetterCase);
  });
  router.post('/api/v1/admin/dead-letters/:id/replay', async (req, res) => {
    const { reason, case: corrected } = parse(replayBodySchema, req.body);
    const by = corrected ? requireAdmin(req) : operatorOf(req);
    const done = await operations.replay(param(req, 'id'), by, { reason, corrected });
    res.json({ id: param(req, 'id'), replayed: true, ...done } satisfies ReplayAnswer);
  });
  router.delete('/api/v1/admin/dead-letters/:id', async (req, res) => {
    const { reason } = parse(discardBodySchema, req.body);
    await operations.discard(param(req, 'id'), operatorOf(req), reason);
    res.json({ id: param(req, 'id'), discarded: true } satisfies DiscardAnswer);
  });
  router.delete('/api/v1/admin/unmatched-results/:id', async (req, res) => {
    const { reason } = parse(discardBodySchema, req.body);
    await operations.discardUnmatched(param(req, 'id'), operatorOf(req), reason);
    res.json({ id: param(req, 'id'), discarded: true } satisfies DiscardAnswer);
  });

  router.get('/api/v1/admin/audit', async (req, res) => {
    res.json(await operations.auditTrail(parse(auditQuerySchema, req.query)));
  });
  return router;
}
