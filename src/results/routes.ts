/**
 * Results pushed over REST, and the ops view of results no case was found for.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { bearerToken } from '../platform/auth';
import { callerOf, credentialRefused } from '../platform/access';
import { seesFullData } from '../platform/auth';
import { ApiError, parseRequest } from '../platform/errors';
import { maskDeep } from '../platform/privacy';
import { jsonBody } from '../platform/json-body';
import { originOf } from '../platform/http-observe';
import { pushAnswerSchema, rematchAnswerSchema, unmatchedListQuerySchema, unmatchedPageSchema, type AuditEntry, type RematchAnswer, type UnmatchedPageAnswer } from '../api-schemas';
import { answer, errors, json, OPS, OPS_ERRORS, pathParam, SYSTEM } from '../api-docs';
import { route } from '../platform/route';
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
  /** Writes the ops audit entry of a re-match, with the caller's name and role. */
  audit: (req: Request, entry: Pick<AuditEntry, 'action' | 'target' | 'detail'>) => Promise<void>;
}

/**
 * A pushing system's bearer token, checked against the system named in the path; a refusal counts
 * as a failed authentication of its address (and is audited), as on every other endpoint.
 */
export function systemCredential(results: ResultReceiver): RequestHandler {
  return async (req, res, next) => {
    const systemId = String(req.params.systemId);
    if (results.authenticates(systemId, bearerToken(req.get('authorization')))) return next();
    next(await credentialRefused(res, `no valid result token for ${systemId.slice(0, 64)}`, new ApiError('unauthorized', 'A valid bearer token of the pushing system is required.')));
  };
}

export function resultRoutes(deps: ResultRoutesDeps): Router {
  const router = Router();

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/results/{systemId}',
      operationId: 'pushResult',
      tags: ['results'],
      summary: 'A legacy system pushes a result (REST)',
      description:
        "The body is the system's own result document, read by its `result.map` (JSONata) into a result naming a caseId or the system's receipt number. " +
        'A result no delivery is found for is answered `unknown_case` and kept for ops as an unmatched result; it is re-matched when its case or receipt number appears. ' +
        'A result naming only a receipt number that several open deliveries of the system hold (its counter restarted) is answered `ambiguous_receipt` and kept the same way, naming them as `candidates`; ' +
        'one whose caseId and receipt number name different deliveries is refused `receipt_mismatch` and changes nothing. ' +
        'Each system may park at most `unmatched.maxPerSystem` results and `unmatched.maxBytesPerSystem` bytes of them (gateway.yaml; 1000 and 16mb): beyond that such a result is answered `unmatched_full` and NOT kept.',
      security: SYSTEM,
      parameters: [pathParam('systemId', 'A legacy system id.')],
      requestBody: { required: true, content: json({ description: "The system's result document, in its own format; `result.map` reads it." }) },
      responses: {
        '200': answer('Recorded (`duplicate: true` when the same result was recorded before: nothing changed).', pushAnswerSchema),
        ...errors(['invalid_result', 'invalid_json', 'unauthorized', 'unknown_case', 'unknown_system', 'ambiguous_receipt', 'receipt_mismatch', 'payload_too_large', 'unsupported_media_type', 'internal', 'unmatched_full']),
      },
    },
    systemCredential(deps.results),
    (req, _res, next) => next(req.is('application/json') ? undefined : new ApiError('unsupported_media_type')),
    ...jsonBody(deps.bodyLimit),
    async (req, res) => {
      const outcome = await deps.results.receive(String(req.params.systemId), req.body, originOf(req));
      res.json({ accepted: true, caseId: outcome.caseId, duplicate: outcome.duplicate });
    },
  );

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/admin/unmatched-results',
      operationId: 'listUnmatchedResults',
      tags: ['admin'],
      summary: 'Pushed results no delivery was found for',
      description:
        'They are re-matched automatically when their case or receipt number is acknowledged. Paged: by system id, then oldest first; ' +
        'a page holds at most `limit` results and stops early past about 4 MB of them. Follow `next` until it is absent: every result parked throughout is listed exactly once.',
      security: OPS,
      query: unmatchedListQuerySchema,
      responses: { '200': answer('A page of unmatched results.', unmatchedPageSchema), ...errors(['invalid_request', ...OPS_ERRORS]) },
    },
    async (req, res) => {
    const { systemId, cursor, limit } = parseRequest(unmatchedListQuerySchema, req.query, '(query)');
    const page = await deps.results.unmatched({ systemId, limit, cursor: cursor ? cursorOf(cursor) : undefined });
    // What a system pushed is personal data: in full for admins only.
    const items = seesFullData(callerOf(res)?.role) ? page.items : maskDeep(page.items);
    res.json({ items, ...(page.next ? { next: `${page.next.systemId}:${page.next.seq}` } : {}) } satisfies UnmatchedPageAnswer);
  });
  route(
    router,
    {
      method: 'post',
      path: '/api/v1/admin/unmatched-results/{id}/rematch',
      operationId: 'rematchUnmatchedResult',
      tags: ['admin'],
      summary: 'Try to match an unmatched result again',
      security: OPS,
      parameters: [pathParam('id', 'An unmatched result id: `<systemId>.<uuid>`.')],
      responses: {
        '200': answer('Matched and recorded (`matched: true`).', rematchAnswerSchema),
        '409': answer('Still no delivery matches it (`matched: false`); it stays unmatched.', rematchAnswerSchema),
        ...errors(['not_found', ...OPS_ERRORS]),
      },
    },
    async (req, res) => {
    const id = String(req.params.id);
    const matched = await deps.results.rematchOne(id);
    await deps.audit(req, { action: 'unmatched.rematch', target: id, detail: matched ? 'matched and recorded' : 'still unmatched' });
    res.status(matched ? 200 : 409).json({ id, matched } satisfies RematchAnswer);
  });

  return router;
}
