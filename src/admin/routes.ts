/** The ops interface (CONTRACT §6): systems, pause/resume, dead letters, audit. Bearer OW_OPS_TOKEN. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  discardBodySchema,
  reasonBodySchema,
  replayManyBodySchema,
  type DiscardAnswer,
  type ReplayAnswer,
  type ReplayManyAnswer,
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

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new ApiError('invalid_request', undefined, issueDetails(parsed.error.issues));
  return parsed.data;
}

export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();
  const { operations } = deps;
  router.use('/api/v1/admin', ...jsonBody('64kb'));

  router.get('/api/v1/admin/systems', async (_req, res) => {
    res.json(await operations.systems());
  });
  router.get('/api/v1/admin/systems/:id', (req, res) => {
    res.json(operations.showSystem(String(req.params.id)));
  });
  router.put('/api/v1/admin/systems/:id', async (req, res) => {
    res.json(await operations.putSystem(String(req.params.id), req.body, operatorOf(req)));
  });
  router.post('/api/v1/admin/systems/:id/pause', async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(String(req.params.id), true, operatorOf(req), reason));
  });
  router.post('/api/v1/admin/systems/:id/resume', async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    res.json(await operations.setPaused(String(req.params.id), false, operatorOf(req), reason));
  });

  router.get('/api/v1/admin/dead-letters', async (req, res) => {
    const systemId = typeof req.query.systemId === 'string' ? req.query.systemId : undefined;
    const error = typeof req.query.error === 'string' ? req.query.error : undefined;
    res.json(await operations.deadLetters({ systemId, error }));
  });
  router.post('/api/v1/admin/dead-letters/replay', async (req, res) => {
    const { reason, ...filter } = parse(replayManyBodySchema, req.body);
    res.json({ replayed: await operations.replayMany(filter, operatorOf(req), reason) } satisfies ReplayManyAnswer);
  });
  router.post('/api/v1/admin/dead-letters/:id/replay', async (req, res) => {
    const { reason } = parse(reasonBodySchema, req.body);
    await operations.replay(String(req.params.id), operatorOf(req), reason);
    res.json({ id: String(req.params.id), replayed: true } satisfies ReplayAnswer);
  });
  router.delete('/api/v1/admin/dead-letters/:id', async (req, res) => {
    const { reason } = parse(discardBodySchema, req.body);
    await operations.discard(String(req.params.id), operatorOf(req), reason);
    res.json({ id: String(req.params.id), discarded: true } satisfies DiscardAnswer);
  });

  router.get('/api/v1/admin/audit', async (_req, res) => {
    res.json(await operations.auditTrail());
  });
  return router;
}
