/**
 * The seal room's HTTP interface, open to anyone: the public keys, and a
 * verifier that says whether a seal holds and which fields changed.
 */
import { raw, Router } from 'express';
import { ApiError } from '../platform/errors';
import { reenterRequest } from '../platform/http-observe';
import { answer, body, errors, NONE } from '../api-docs';
import { sealKeysAnswerSchema, verificationSchema } from '../api-schemas';
import { route } from '../platform/route';
import type { Sealer } from './seal';
import { verifyRequestSchema } from './verify';
import type { VerifyThread } from './verify-thread';

export interface SealRoutesDeps {
  sealer: Sealer;
  /** Where verify bodies are parsed and verified, off the event loop. */
  verifier: VerifyThread;
  /** Largest verify body; a payload sent as base64 is a third larger than itself. Default 2mb. */
  bodyLimit?: string | number;
}

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
      summary: 'Whether a seal holds for a document, and which fields changed',
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
    // The bytes only: parsing them is the verifier's work, on its thread.
    raw({ type: () => true, limit: deps.bodyLimit ?? '2mb' }),
    reenterRequest,
    async (req, res) => {
      const outcome = await deps.verifier.verify(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      if ('refused' in outcome) throw new ApiError(outcome.refused.code, outcome.refused.message, outcome.refused.details);
      res.json(outcome.verification);
    },
  );

  return router;
}
