/**
 * The seal room's HTTP interface (CONTRACT §6, §8), open to anyone: the public keys, and a
 * verifier that says whether a seal holds and which fields changed.
 */
import { Router } from 'express';
import { z } from 'zod';
import { ApiError, issueDetails } from '../platform/errors';
import { jsonBody } from '../platform/json-body';
import { answer, body, errors, NONE } from '../api-docs';
import { sealKeysAnswerSchema, verificationSchema } from '../api-schemas';
import { route } from '../platform/route';
import { withinDepth } from './canonical';
import { sealObjectSchema, type Sealer, type Verification } from './seal';

/** Deeper documents are refused: canonical JSON recurses, and no shared document nests this far. */
export const MAX_PAYLOAD_DEPTH = 200;

export interface SealRoutesDeps {
  sealer: Sealer;
  /** Largest verify body; a payload sent as base64 is a third larger than itself. Default 2mb. */
  bodyLimit?: string | number;
  /** Told of every verification (the audit trail hooks in here). */
  onVerify?: (result: Verification) => void;
}

/** {seal, payload} or {seal, payloadBase64}: the verify endpoint's body, and the CLI's file. */
export const verifyRequestSchema = z
  .strictObject({
    seal: sealObjectSchema,
    payload: z.unknown().refine((value) => withinDepth(value, MAX_PAYLOAD_DEPTH), `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`).optional(),
    payloadBase64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64').optional(),
  })
  .superRefine((body, ctx) => {
    const hasPayload = 'payload' in body && body.payload !== undefined;
    if (hasPayload === (body.payloadBase64 !== undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'send exactly one of payload (the JSON document) and payloadBase64 (the exact bytes)' });
  });

export function sealRoutes(deps: SealRoutesDeps): Router {
  const router = Router();

  route(
    router,
    {
      method: 'get',
      path: '/api/v1/seal/keys',
      operationId: 'sealKeys',
      tags: ['seal'],
      summary: 'The public keys seals are verified with',
      description: 'Keys rotate by `keyId`; a retired key seals nothing new and still verifies what it sealed.',
      security: NONE,
      responses: { '200': answer('Every key, active and retired.', sealKeysAnswerSchema), ...errors(['internal']) },
    },
    (_req, res) => {
    res.json({ keys: deps.sealer.keys.list() });
  });

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/seal/verify',
      operationId: 'verifySeal',
      tags: ['seal'],
      summary: 'Whether a seal holds for a document, and which fields changed (audited)',
      description:
        'Send the seal with the document (`payload`, checked by its canonical JSON) or with its exact bytes (`payloadBase64`), not both. ' +
        'A seal that does not hold is still a 200: `valid: false` with the `reason` and, for a JSON document, the `changed` fields.',
      security: NONE,
      requestBody: body(verifyRequestSchema, true),
      responses: {
        '200': answer('What the verifier found.', verificationSchema),
        ...errors(['invalid_request', 'invalid_json', 'payload_too_large', 'unsupported_media_type', 'internal']),
      },
    },
    (req, _res, next) => next(req.is('application/json') ? undefined : new ApiError('unsupported_media_type')),
    ...jsonBody(deps.bodyLimit ?? '2mb'),
    (req, res) => {
      const parsed = verifyRequestSchema.safeParse(req.body);
      if (!parsed.success) throw new ApiError('invalid_request', 'The body must be {seal, payload} or {seal, payloadBase64} with a well-formed seal.', issueDetails(parsed.error.issues));
      const result = deps.sealer.verify(parsed.data);
      deps.onVerify?.(result);
      res.json(result);
    },
  );

  return router;
}
