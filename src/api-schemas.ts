/**
 * Zod schemas of HTTP bodies that are not part of the canonical model (CONTRACT §6): the error body
 * every endpoint answers with, and the probes' answers. scripts/openapi.ts documents them.
 */
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorBody, type ErrorCode } from './platform/errors';

const errorCodes = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

export const errorCodeSchema = z.enum(errorCodes);

export const errorDetailSchema = z.object({
  path: z.string(),
  message: z.string(),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.array(errorDetailSchema).optional(),
  }),
}) satisfies z.ZodType<ErrorBody>;

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  redis: z.boolean(),
  config: z.boolean(),
  accepting: z.boolean(),
});
