/**
 * Results pushed over REST (CONTRACT §6), and the ops view of results no case was found for.
 */
import { Router } from 'express';
import { bearerToken } from '../platform/auth';
import { callerOf } from '../platform/access';
import { seesFullData } from '../platform/auth';
import { ApiError, issueDetails } from '../platform/errors';
import { maskDeep } from '../platform/privacy';
import { jsonBody } from '../platform/json-body';
import { unmatchedListQuerySchema, type RematchAnswer, type UnmatchedPageAnswer } from '../api-schemas';
import type { ResultReceiver } from './receiver';
import type { UnmatchedCursor } from './unmatched-store';

/** `<systemId>:<seq>`, as the list writes `next` (checked by unmatchedListQuerySchema). */
function cursorOf(cursor: string): UnmatchedCursor {
  const colon = cursor.lastIndexOf(':');
  return { systemId: cursor.slice(0, colon), seq: Number(cursor.slice(colon + 1)) };
}

export interface ResultRoutesDeps {
  results: ResultReceiver;
  bodyLimit: string | number;
}

export function resultRoutes(deps: ResultRoutesDeps): Router {
  const router = Router();

  router.post(
    '/api/v1/results/:systemId',
    (req, _res, next) => {
      next(deps.results.authenticates(String(req.params.systemId), bearerToken(req.get('authorization'))) ? undefined : new ApiError('unauthorized', 'A valid bearer token of the pushing system is required.'));
    },
    (req, _res, next) => next(req.is('application/json') ? undefined : new ApiError('unsupported_media_type')),
    ...jsonBody(deps.bodyLimit),
    async (req, res) => {
      const outcome = await deps.results.receive(String(req.params.systemId), req.body);
      res.json({ accepted: true, caseId: outcome.caseId, duplicate: outcome.duplicate });
    },
  );

  router.get('/api/v1/admin/unmatched-results', async (req, res) => {
    const parsed = unmatchedListQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new ApiError('invalid_request', undefined, issueDetails(parsed.error.issues, '(query)'));
    const { systemId, cursor, limit } = parsed.data;
    const page = await deps.results.unmatched({ systemId, limit, cursor: cursor ? cursorOf(cursor) : undefined });
    // What a system pushed is personal data: in full for admins only.
    const items = seesFullData(callerOf(res)?.role) ? page.items : maskDeep(page.items);
    res.json({ items, ...(page.next ? { next: `${page.next.systemId}:${page.next.seq}` } : {}) } satisfies UnmatchedPageAnswer);
  });
  router.post('/api/v1/admin/unmatched-results/:id/rematch', async (req, res) => {
    const id = String(req.params.id);
    const matched = await deps.results.rematchOne(id);
    res.status(matched ? 200 : 409).json({ id, matched } satisfies RematchAnswer);
  });

  return router;
}
