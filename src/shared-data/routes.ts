/**
 * The shared-data HTTP interface (CONTRACT §6, §9): the intake platform's query, and the ops
 * listing of look-ups (who looked up whom, for what), read-only and masked.
 */
import { Router } from 'express';
import { z } from 'zod';
import { operatorOf } from '../admin/routes';
import type { lookupPageSchema, sharedDataAnswerSchema } from '../api-schemas';
import { ApiError } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import type { SharedDataService } from './service';

export interface SharedDataRoutesDeps {
  service: SharedDataService;
}

const when = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const listingQuery = z.strictObject({
  caseId: z.string().min(1).max(64).optional(),
  /** A full ID number: matched by its keyed hash, never stored or shown. */
  person: z.string().regex(/^[0-9A-Za-z]{6,32}$/, '6-32 letters and digits').optional(),
  purpose: z.string().min(1).max(64).optional(),
  from: when.optional(),
  to: when.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export function sharedDataRoutes(deps: SharedDataRoutesDeps): Router {
  const router = Router();

  router.post(
    '/api/v1/shared-data/query',
    (_req, res, next) => {
      // The deadline is the caller's: it runs from the request's arrival, before its body is read.
      res.locals.receivedAt = Date.now();
      next();
    },
    (req, _res, next) => next(req.is('application/json') ? undefined : new ApiError('unsupported_media_type')),
    // A query is a few hundred bytes; nothing larger is read.
    ...jsonBody('16kb'),
    async (req, res) => {
      const receivedAt = Number(res.locals.receivedAt);
      // Typed as documented (docs/openapi.yaml): a documented field missing or of another type fails the typecheck.
      const answer: z.infer<typeof sharedDataAnswerSchema> = await deps.service.query(req.body, operatorOf(req).who, receivedAt);
      // How long the gateway took from the request's arrival: the deadline's own clock, for callers and tests.
      res.set('Server-Timing', `total;dur=${Date.now() - receivedAt}`);
      res.json(answer);
    },
  );

  router.get('/api/v1/admin/shared-data/lookups', async (req, res) => {
    const parsed = listingQuery.safeParse(req.query);
    if (!parsed.success) throw new ApiError('invalid_request', undefined, parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(query)', message: i.message })));
    const page: z.infer<typeof lookupPageSchema> = { items: await deps.service.lookups(parsed.data) };
    res.json(page);
  });

  return router;
}
