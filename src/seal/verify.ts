/**
 * A verify request as it arrives, bytes and all: `{seal, payload}` or `{seal, payloadBase64}`, parsed,
 * checked and verified in one function that needs nothing but the bytes, the public keys and the
 * seal configuration, so that it can run on a thread of its own (verify-thread.ts) as well as here.
 */
import { z } from 'zod';
import type { ErrorCode, ErrorDetail } from '../platform/errors';
import { issueDetails } from '../platform/errors';
import { jsonShapeProblem } from '../platform/json-body';
import { materialFromPublicPem } from './algorithms';
import { withinDepth } from './canonical';
import type { SealConfig } from './config';
import type { SealKeyInfo } from './keys';
import { sealObjectSchema, verifySeal, type Verification, type VerifyingKeys } from './seal';

/** Deeper documents are refused: canonical JSON recurses, and no shared document nests this far. */
export const MAX_PAYLOAD_DEPTH = 200;

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

/** What a verify body comes to: the verification, or why the body is refused (a 400). */
export type VerifyOutcome = { verification: Verification } | { refused: { code: Extract<ErrorCode, 'invalid_json' | 'invalid_request'>; message: string; details?: ErrorDetail[] } };

/** Verifying keys made from the public halves the key list shows. */
export function publicKeys(infos: readonly SealKeyInfo[]): VerifyingKeys {
  const keys = new Map(infos.map((info) => [info.keyId, { alg: info.alg, material: materialFromPublicPem(info.publicKeyPem), retiredAt: info.retiredAt }]));
  return { get: (keyId) => keys.get(keyId) };
}

/** Parses, checks and verifies a verify body: what the endpoint answers, minus the HTTP. */
export function verifyBody(keys: VerifyingKeys, config: SealConfig, body: Uint8Array, now: Date): VerifyOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    return { refused: { code: 'invalid_json', message: `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` } };
  }
  const problem = jsonShapeProblem(parsed);
  if (problem) return { refused: { code: 'invalid_json', message: `The body is refused at ${problem.path}: ${problem.message}.`, details: [problem] } };
  const request = verifyRequestSchema.safeParse(parsed);
  if (!request.success) return { refused: { code: 'invalid_request', message: 'The body must be {seal, payload} or {seal, payloadBase64} with a well-formed seal.', details: issueDetails(request.error.issues) } };
  return { verification: verifySeal(keys, config, { ...request.data, now }) };
}
