/**
 * The one catalogue of API error codes. Every error the HTTP interface sends is
 * `{"error": {code, message, details?}}` with a code from here, so clients can switch on it.
 */
import { z } from 'zod';

export const ERROR_CATALOGUE = {
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  invalid_case: { status: 400, message: 'The case does not match the canonical model.' },
  invalid_request: { status: 400, message: 'The request is not valid.' },
  invalid_result: { status: 400, message: 'The pushed result does not map to a valid result.' },
  invalid_xml: { status: 400, message: 'The body is not acceptable XML.' },
  invalid_config: { status: 400, message: 'The system configuration is not valid.' },
  unauthorized: { status: 401, message: 'A valid bearer token is required.' },
  forbidden: { status: 403, message: 'This token may not use this endpoint.' },
  purpose_not_allowed: { status: 403, message: 'The purpose (item) may not use every document kind asked for.' },
  purpose_mismatch: { status: 403, message: 'The purpose is not the item of the case named: look-ups are made for the item of a case the gateway holds.' },
  not_found: { status: 404, message: 'No such resource.' },
  unknown_case: { status: 404, message: 'No case with this id.' },
  unknown_system: { status: 404, message: 'No legacy system with this id.' },
  case_conflict: { status: 409, message: 'A different case with this caseId was already accepted.' },
  ambiguous_receipt: { status: 409, message: 'The receipt number is held by several open deliveries of this system; the result is kept for ops. Push it again with its caseId.' },
  receipt_mismatch: { status: 409, message: 'The caseId and the receipt number name different deliveries; nothing was recorded.' },
  version_conflict: { status: 409, message: 'The configuration changed meanwhile; fetch it and try again.' },
  system_busy: { status: 409, message: 'The system cannot be removed yet: it has deliveries in flight or dead letters, or the configuration still names it (each in details).' },
  version_mismatch: { status: 412, message: 'If-Match names a version that is no longer current; fetch the system again and redo the change.' },
  precondition_required: { status: 428, message: 'Send If-Match with the version the change was made from (the ETag of the GET).' },
  payload_too_large: { status: 413, message: 'The body is larger than the configured limit.' },
  too_many_requests: { status: 429, message: 'Too many requests; slow down.' },
  unsupported_media_type: { status: 415, message: 'The body must be application/json.' },
  no_route: { status: 422, message: 'No legacy system is routed for this itemCode.' },
  internal: { status: 500, message: 'Something went wrong inside the gateway; it has been logged.' },
  unavailable: { status: 503, message: 'The gateway cannot queue durably right now; try again shortly.' },
  // 507 Insufficient Storage: the gateway, not the sender, is out of room, and the sender must know its result was not kept.
  unmatched_full: { status: 507, message: 'No delivery matches this result and it was NOT kept: the unmatched results of this system are at their cap.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

const errorCodes = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];
export const errorCodeSchema = z.enum(errorCodes);

export const errorDetailSchema = z.object({
  path: z.string(),
  message: z.string(),
});
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** The one error shape of the HTTP interface. */
export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    details: z.array(errorDetailSchema).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Joins a key path the way an operator reads it: `auth.token`, `routes[2].targets[0]`. */
export function keyPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${String(s)}` : String(s)), '');
}

/** A schema's complaints as the contract's details; an unknown key is named at the key itself. */
export function issueDetails(issues: ReadonlyArray<{ code: string; path: PropertyKey[]; message: string; keys?: string[] }>, whole = '(body)'): ErrorDetail[] {
  return issues.flatMap((i) =>
    i.code === 'unrecognized_keys' && i.keys
      ? i.keys.map((k) => ({ path: keyPath([...i.path, k]), message: 'unknown field' }))
      : [{ path: keyPath(i.path) || whole, message: i.message }],
  );
}

/** `value` as `schema` reads it, or 400 `invalid_request` naming each problem (`whole`: the path of a problem with the value as a whole). */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, whole = '(body)'): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError('invalid_request', undefined, issueDetails(parsed.error.issues, whole));
  return parsed.data;
}

/** An error the HTTP layer answers as-is; anything else becomes `internal` and is logged. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'ApiError';
    this.status = ERROR_CATALOGUE[code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/**
 * What went wrong reading a request body (body-parser, zlib), in the contract's terms; undefined
 * for anything else. A corrupt gzip, deflate or br body is the sender's fault: 400, never 500.
 */
export function requestError(err: unknown): ApiError | undefined {
  const e = (err ?? {}) as { type?: string; status?: number; code?: string; message?: string };
  if (e.type === 'entity.too.large') return new ApiError('payload_too_large');
  if (e.type === 'entity.parse.failed') return new ApiError('invalid_json', `The body is not valid JSON: ${e.message}`);
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') return new ApiError('unsupported_media_type', e.message);
  if (typeof e.code === 'string' && (e.code.startsWith('Z_') || e.code.startsWith('ERR__ERROR'))) {
    return new ApiError('invalid_request', 'The body could not be decompressed: it does not match its Content-Encoding.');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new ApiError('invalid_request', e.message);
  return undefined;
}
