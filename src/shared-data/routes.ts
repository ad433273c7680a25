/**
 * The shared-data HTTP interface: the intake platform's query, and the ops
 * listing of look-ups (who looked up whom, for what), read-only and masked.
 */
import { Router } from 'express';
import { z } from 'zod';
import { operatorOf } from '../admin/routes';
import { lookupPageSchema, sharedDataAnswerSchema } from '../api-schemas';
import { answer, body, errors, INTAKE, OPS, OPS_ERRORS } from '../api-docs';
import { route } from '../platform/route';
import { ApiError, parseRequest } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import { originOf } from '../platform/http-observe';
import { sharedDataQuerySchema, type SharedDataService } from './service';

export interface SharedDataRoutesDeps {
  service: SharedDataService;
}

const when = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const listingQuery = z.strictObject({
  caseId: z.string().min(1).max(64).optional().describe('Only look-ups for this case.'),
  person: z
    .string()
    .regex(/^[0-9A-Za-z]{6,32}$/, '6-32 letters and digits')
    .optional()
    .describe('Only look-ups of this ID number (the full number, compared by its keyed hash; never shown).'),
  purpose: z.string().min(1).max(64).optional().describe('Only look-ups for this item code.'),
  from: when.optional().describe('Not before this time.'),
  to: when.optional().describe('Not after this time.'),
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe('At most this many look-ups, 1 to 1000.'),
});

export function sharedDataRoutes(deps: SharedDataRoutesDeps): Router {
  const router = Router();

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/shared-data/query',
      operationId: 'querySharedData',
      tags: ['shared-data'],
      summary: 'Look up the records a case needs by ID number (audited)',
      description:
        'The `caseId` must name a case the gateway holds (submitted, in Redis or archived in the ledger), else 404 `unknown_case`; the `purpose` must be that case’s itemCode, else 403 `purpose_mismatch`. ' +
        'Each kind asked must be allowed for the purpose (the item code) in shared-data.yaml, else 403 `purpose_not_allowed`. A refused query asks no source. ' +
        'Every source of every kind is asked at once; the answer leaves within `deadlineMs` (default 3000) whatever the sources do. ' +
        'A found document is sealed for the asking case (the item as purpose) and carries the watermark. `name`, when given, is sent to the sources. ' +
        'A kind with a `cacheTtl` is answered from the cache for the same ID number, name and item within it (`cached: true`), sealed afresh for the asking case. ' +
        'Every query, answered or refused, is audited with the ID number masked.',
      security: INTAKE,
      requestBody: body(sharedDataQuerySchema, true),
      responses: {
        '200': answer('One entry per kind asked, in the order asked.', sharedDataAnswerSchema),
        ...errors(['invalid_request', 'invalid_json', 'unauthorized', 'forbidden', 'purpose_not_allowed', 'purpose_mismatch', 'unknown_case', 'payload_too_large', 'unsupported_media_type', 'internal', 'unavailable']),
      },
    },
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
      const answer: z.infer<typeof sharedDataAnswerSchema> = await deps.service.query(req.body, operatorOf(req).who, receivedAt, originOf(req));
      // How long the gateway took from the request's arrival: the deadline's own clock, for callers and tests.
      res.set('Server-Timing', `total;dur=${Date.now() - receivedAt}`);
      res.json(answer);
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/shared-data/lookups',
      operationId: 'listLookups',
      tags: ['admin'],
      summary: 'Shared-data look-ups: who looked up whom, for what (read-only)',
      description: 'From the case ledger (for `retention.ledger`, at least 180 days) and the tail not drained there yet, newest first: the ID number masked, never its hash. 503 `unavailable` while the ledger does not answer.',
      security: OPS,
      query: listingQuery,
      responses: { '200': answer('The matching look-ups, newest first.', lookupPageSchema), ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const page: z.infer<typeof lookupPageSchema> = { items: await deps.service.lookups(parseRequest(listingQuery, req.query, '(query)')) };
    res.json(page);
  });

  return router;
}
