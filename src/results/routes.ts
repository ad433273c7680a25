/**
 * Results pushed over REST (CONTRACT §6), and the ops view of results no case was found for.
 */
import { Router } from 'express';
import { requireRole, bearerToken, type Tokens } from '../platform/auth';
import { ApiError } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import type { ResultReceiver } from './receiver';

export interface ResultRoutesDeps {
  results: ResultReceiver;
  tokens: Tokens;
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

  const ops = requireRole(deps.tokens, 'ops');
  router.get('/api/v1/admin/unmatched-results', ops, async (_req, res) => {
    res.json(await deps.results.unmatched());
  });
  router.post('/api/v1/admin/unmatched-results/:id/rematch', ops, async (req, res) => {
    const id = String(req.params.id);
    if (!(await deps.results.unmatched()).some((u) => u.id === id)) throw new ApiError('not_found', `No unmatched result ${id}.`);
    const matched = (await deps.results.rematch({ id })) === 1;
    res.status(matched ? 200 : 409).json({ id, matched });
  });

  return router;
}
