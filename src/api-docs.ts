/**
 * The words routes are documented in (see `route` in platform/route.ts): who may call, the error
 * answers by code, the shared headers and parameters (a query is declared as the zod object its
 * handler parses). Bodies and answers are given as the zod schemas
 * the handlers validate with (src/api-schemas.ts, cases/model.ts); scripts/openapi.ts names them as
 * components and turns the declarations into docs/openapi.yaml.
 */
import type { z } from 'zod';
import type { caseSchema } from './cases/model';
import { ERROR_CATALOGUE, type ErrorCode } from './platform/errors';
import type { Content, Operation, Parameter, Response, Schema } from './platform/route';

type Security = Operation['security'];

/** A component of docs/openapi.yaml by name, where a parameter needs a named schema. */
export const ref = (id: string): Schema => ({ $ref: `#/components/schemas/${id}` });

/** A JSON body or answer: a zod schema (named in the document when scripts/openapi.ts names it), or a JSON Schema. */
export const json = (schema: z.ZodType | Schema): Content => ({ 'application/json': { schema } });

const XML_TEXT: Schema = { type: 'string' };
export const SOAP_CONTENT: Content = { 'text/xml': { schema: XML_TEXT }, 'application/soap+xml': { schema: XML_TEXT } };
export const XML_CONTENT: Content = { 'text/xml': { schema: XML_TEXT } };
export const XML_REQUEST: Content = { 'text/xml': { schema: XML_TEXT }, 'application/xml': { schema: XML_TEXT } };

/** A JSON answer with its description. */
export const answer = (description: string, schema: z.ZodType | Schema): Response => ({ description, content: json(schema) });

/** A JSON body the handler parses with its zod schema; an absent optional body counts as `{}`. */
export function body(schema: z.ZodType, required: boolean): NonNullable<Operation['requestBody']> {
  return { required, content: json(schema) };
}

/**
 * Error answers for these codes, one per HTTP status, the status taken from the catalogue: the JSON
 * error body, or `content` for endpoints that answer errors in their own format.
 */
export function errors(codes: ErrorCode[], content: Content = json(ref('Error'))): Record<string, Response> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CATALOGUE[code].status, [...(byStatus.get(ERROR_CATALOGUE[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [String(status), { description: group.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].message}`).join(' '), content }]),
  );
}

/** A path segment: never empty (`/systems/` is another route). */
export const pathParam = (name: string, description: string, schema: Schema = { type: 'string', minLength: 1 }): Parameter => ({ name, in: 'path', required: true, description, schema });
export const headerParam = (name: string, description: string, schema: Schema): Parameter => ({ name, in: 'header', required: true, description, schema });

/** Who is acting, for the audit trail of every ops action. */
export const OPERATOR: Parameter = {
  name: 'X-OW-Operator',
  in: 'header',
  required: false,
  description: "Who is acting, for the audit trail, percent-encoded (e.g. `encodeURIComponent('值班员 李四')`); `ops` when left out. The audit trail also keeps a fingerprint of the token used.",
  schema: { type: 'string' },
};

/** The version an edit was made from (the ETag of the GET), for ops' compare-and-set. */
export const IF_MATCH: Parameter = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'The `ETag` of the version the change was made from, e.g. `"3"`; 412 `version_mismatch` when it is no longer current. Without it, the change is made on top of whatever is current.',
  schema: { type: 'string' },
};

/** If-Match where it must be sent (the routing table). */
export const IF_MATCH_REQUIRED: Parameter = {
  ...IF_MATCH,
  required: true,
  description: 'The `ETag` of the version the change was made from, e.g. `"3"`: required (428 `precondition_required` without it); 412 `version_mismatch` when it is no longer current.',
};

/** `*`: create only, never replace. */
export const IF_NONE_MATCH: Parameter = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: '`*`: only add the system; when one of that id exists, 412 `version_mismatch` and nothing changes (what the console sends when it adds a system).',
  schema: { type: 'string', enum: ['*'] },
};

export const INTAKE: Security = [{ intakeToken: [] }];
export const OPS: Security = [{ opsToken: [] }];
export const SYSTEM: Security = [{ systemToken: [] }];
export const NONE: Security = [];

/** What every ops endpoint may answer besides its own errors. */
export const OPS_ERRORS: ErrorCode[] = ['unauthorized', 'forbidden', 'internal'];

/** The example case of `POST /api/v1/cases`. */
export const CASE_EXAMPLE = {
  caseId: 'QZ-20261128-000001',
  itemCode: '330800-FG-001',
  itemName: '出具房改核查证明',
  channel: 'window',
  submittedAt: '2026-11-28T09:30:00+08:00',
  applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000' },
  materials: [{ name: '身份证', kind: 'ID_CARD', uri: 'store://intake/id/330802199001011234.pdf', sha256: '3f1c0f5ab2e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbcc', size: 482113, mime: 'application/pdf' }],
  form: { purpose: 'housing' },
} satisfies z.input<typeof caseSchema>;
