/**
 * The gateway's HTTP interface (CONTRACT §6) as an OpenAPI 3.1 document. Body schemas are generated
 * from the zod schemas the code validates with, so the document cannot disagree with them.
 *
 *   node dist/scripts/openapi.js [--write]   writes docs/openapi.yaml
 *   node dist/scripts/openapi.js --check     exits 1 when docs/openapi.yaml is out of date
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import {
  applyErrorSchema,
  auditActionSchema,
  auditEntrySchema,
  auditPageSchema,
  circuitViewSchema,
  configExportSchema,
  deadLetterPageSchema,
  deadLetterSchema,
  discardAnswerSchema,
  discardBodySchema,
  documentStatusSchema,
  dryRunAnswerSchema,
  dryRunBodySchema,
  errorBodySchema,
  healthSchema,
  historyVersionSchema,
  lookupListingSchema,
  lookupPageSchema,
  problemSchema,
  pushAnswerSchema,
  readinessSchema,
  reasonBodySchema,
  rematchAnswerSchema,
  replayAnswerSchema,
  replayBodySchema,
  replayManyAnswerSchema,
  replayManyBodySchema,
  rollbackBodySchema,
  sharedDataAnswerSchema,
  sharedDocumentSchema,
  sourceAnswerSchema,
  systemFileBodySchema,
  systemPutBodySchema,
  systemStatusSchema,
  systemVersionSchema,
  unmatchedPageSchema,
  unmatchedResultSchema,
  versionInfoSchema,
  versionSourceSchema,
  whoamiSchema,
} from '../src/api-schemas';
import {
  acceptedSchema,
  applicantSchema,
  caseEventSchema,
  caseEventTypeSchema,
  caseIdSchema,
  caseSchema,
  caseStatusSchema,
  caseViewSchema,
  deliveryStatusSchema,
  deliveryViewSchema,
  materialSchema,
  resultSchema,
} from '../src/cases/model';
import { ERROR_CATALOGUE, type ErrorCode } from '../src/platform/errors';
import { sealObjectSchema } from '../src/seal/seal';
import { sharedDataQuerySchema } from '../src/shared-data/service';

type Schema = z.core.JSONSchema.BaseSchema;
type Security = Record<string, string[]>[];
type Content = Record<string, { schema: Schema; example?: unknown }>;

interface Response {
  description: string;
  content?: Content;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  allowEmptyValue?: boolean;
  schema: Schema;
}

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Security;
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: Content };
  responses: Record<string, Response>;
}

type Method = 'get' | 'put' | 'post' | 'delete';

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<Method, Operation>>>;
  /** What the gateway itself sends (OpenAPI 3.1): the callbacks to the intake platform. */
  webhooks: Record<string, { post: Operation }>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

const COMMAND = 'npm run openapi';

const ref = (id: string): Schema => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Schema): Content => ({ 'application/json': { schema } });
const XML_TEXT: Schema = { type: 'string' };
const SOAP_CONTENT: Content = { 'text/xml': { schema: XML_TEXT }, 'application/soap+xml': { schema: XML_TEXT } };
const XML_CONTENT: Content = { 'text/xml': { schema: XML_TEXT } };

/** JSON Schema patterns have no flags, so an `i` regex gets its letter ranges spelled in both cases. */
function caseInsensitive(re: RegExp): string {
  const source = re.source.replace(/([a-z])-([a-z])/g, (range, a: string, b: string) => `${range}${a.toUpperCase()}-${b.toUpperCase()}`);
  if (/[a-z]/i.test(source.replace(/\\./g, '').replace(/[a-z]-[a-z]/gi, ''))) throw new Error(`openapi: cannot spell out /${re.source}/i`);
  return source;
}

/** The zod schemas, named, as JSON Schema components referring to each other by `$ref`. */
function components(io: 'input' | 'output', named: Record<string, z.ZodType>): Record<string, Schema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      // `format: date-time` says it; zod's full RFC 3339 regex only makes the document unreadable.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
      // z.number().int() bounds are the safe-integer range: noise to a reader.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      for (const check of zodSchema._zod.def.checks ?? []) {
        const def = check._zod.def;
        const re = 'pattern' in def ? def.pattern : undefined;
        if (!(re instanceof RegExp) || !re.flags.includes('i')) continue;
        if (jsonSchema.pattern !== re.source) throw new Error(`openapi: cannot express /${re.source}/i`);
        jsonSchema.pattern = caseInsensitive(re);
      }
    },
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema; // the document's jsonSchemaDialect says it
    delete schema.$id;
  }
  return schemas;
}

function allSchemas(): Record<string, Schema> {
  // Request bodies as clients may send them (defaults make fields optional), answers as sent.
  const requests = components('input', {
    Case: caseSchema,
    Applicant: applicantSchema,
    Material: materialSchema,
    CaseId: caseIdSchema,
    ReasonBody: reasonBodySchema,
    DiscardBody: discardBodySchema,
    ReplayManyBody: replayManyBodySchema,
    ReplayBody: replayBodySchema,
    RollbackBody: rollbackBodySchema,
    DryRunBody: dryRunBodySchema,
    // A system's file is shown as written, defaults not filled in: its input form, both ways.
    SystemFile: systemFileBodySchema,
    SystemVersion: systemVersionSchema,
    SystemPutBody: systemPutBodySchema,
    VersionSource: versionSourceSchema,
    HistoryVersion: historyVersionSchema,
    VersionInfo: versionInfoSchema,
    SharedDataQuery: sharedDataQuerySchema,
  });
  const answers = components('output', {
    Accepted: acceptedSchema,
    CaseView: caseViewSchema,
    DeliveryView: deliveryViewSchema,
    DeliveryStatus: deliveryStatusSchema,
    CaseStatus: caseStatusSchema,
    Result: resultSchema,
    CaseId: caseIdSchema,
    CaseEvent: caseEventSchema,
    CaseEventType: caseEventTypeSchema,
    PushAnswer: pushAnswerSchema,
    UnmatchedResult: unmatchedResultSchema,
    UnmatchedResultPage: unmatchedPageSchema,
    RematchAnswer: rematchAnswerSchema,
    SystemStatus: systemStatusSchema,
    CircuitView: circuitViewSchema,
    DeadLetter: deadLetterSchema,
    ReplayAnswer: replayAnswerSchema,
    ReplayManyAnswer: replayManyAnswerSchema,
    DiscardAnswer: discardAnswerSchema,
    AuditEntry: auditEntrySchema,
    AuditAction: auditActionSchema,
    AuditPage: auditPageSchema,
    DeadLetterPage: deadLetterPageSchema,
    DryRunAnswer: dryRunAnswerSchema,
    ConfigExport: configExportSchema,
    ApplyError: applyErrorSchema,
    Problem: problemSchema,
    Error: errorBodySchema,
    Health: healthSchema,
    Readiness: readinessSchema,
    Whoami: whoamiSchema,
    SharedDataAnswer: sharedDataAnswerSchema,
    SharedDocument: sharedDocumentSchema,
    SourceAnswer: sourceAnswerSchema,
    DocumentStatus: documentStatusSchema,
    Seal: sealObjectSchema,
    LookupListing: lookupListingSchema,
    LookupPage: lookupPageSchema,
  });
  for (const [id, schema] of Object.entries(requests)) {
    if (id in answers && JSON.stringify(answers[id]) !== JSON.stringify(schema)) throw new Error(`openapi: ${id} differs as input and output`);
  }
  const merged = { ...requests, ...answers };
  return Object.fromEntries(Object.keys(merged).sort().map((id) => [id, merged[id]]));
}

/**
 * Error answers for these codes, one per HTTP status, the status taken from the catalogue: the JSON
 * error body, or `content` for endpoints that answer errors in their own format.
 */
function errors(codes: ErrorCode[], content: Content = json(ref('Error'))): Record<string, Response> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CATALOGUE[code].status, [...(byStatus.get(ERROR_CATALOGUE[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [String(status), { description: group.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].message}`).join(' '), content }]),
  );
}

const pathParam = (name: string, description: string, schema: Schema = { type: 'string' }): Parameter => ({ name, in: 'path', required: true, description, schema });
const queryParam = (name: string, description: string): Parameter => ({ name, in: 'query', required: false, description, schema: { type: 'string' } });
const header = (name: string, description: string, schema: Schema): Parameter => ({ name, in: 'header', required: true, description, schema });

/** Who is acting, for the audit trail of every ops action. */
const OPERATOR: Parameter = {
  name: 'X-OW-Operator',
  in: 'header',
  required: false,
  description: "Who is acting, for the audit trail, percent-encoded (e.g. `encodeURIComponent('值班员 李四')`); `ops` when left out. The audit trail also keeps a fingerprint of the token used.",
  schema: { type: 'string' },
};

/** The version an edit was made from (the ETag of the GET), for ops' compare-and-set. */
const IF_MATCH: Parameter = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'The `ETag` of the version the change was made from, e.g. `"3"`; 412 `version_mismatch` when it is no longer current. Without it, the change is made on top of whatever is current.',
  schema: { type: 'string' },
};

/** A JSON body the handler parses with its zod schema; an absent body counts as `{}`. */
function body(schema: string, required: boolean): Operation['requestBody'] {
  return { required, content: json(ref(schema)) };
}

const INTAKE: Security = [{ intakeToken: [] }];
const OPS: Security = [{ opsToken: [] }];
const SYSTEM: Security = [{ systemToken: [] }];
const NONE: Security = [];

/** What every ops endpoint may answer besides its own errors. */
const OPS_ERRORS: ErrorCode[] = ['unauthorized', 'forbidden', 'internal'];

const caseExample = {
  caseId: 'QZ-20261128-000001',
  itemCode: '330800-FG-001',
  itemName: '出具房改核查证明',
  channel: 'window',
  submittedAt: '2026-11-28T09:30:00+08:00',
  applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000' },
  materials: [{ name: '身份证', kind: 'ID_CARD', uri: 'share://id/330802199001011234' }],
  form: { purpose: 'housing' },
} satisfies z.input<typeof caseSchema>;

export function buildOpenApi(): OpenApiDocument {
  const systemId = pathParam('systemId', 'A legacy system id.');
  const id = pathParam('id', 'A legacy system id.');
  const deadLetterId = pathParam('id', 'A dead letter id: `<systemId>.<caseId>`.');
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'OneWindow Gateway',
      version: 'v1',
      description:
        "Between Quzhou's one-window intake platform and the legacy business systems. " +
        'Every JSON error is `{"error": {"code", "message", "details?": [{"path", "message"}]}}` with a code from the `Error` schema; ' +
        'the SOAP and XML result endpoints answer in their own formats. ' +
        `Generated from the code's zod schemas by scripts/openapi.ts (\`${COMMAND}\`); do not edit by hand.`,
    },
    servers: [{ url: 'http://localhost:8080', description: 'the default PORT' }],
    tags: [
      { name: 'intake', description: 'The intake platform submits cases and follows them.' },
      { name: 'callbacks', description: 'The gateway tells the intake platform what became of each delivery.' },
      { name: 'results', description: 'Legacy systems push their results.' },
      { name: 'shared-data', description: 'The intake platform looks up records (数据跑路) instead of asking for photocopies.' },
      { name: 'admin', description: 'Ops staff manage systems, dead letters and unmatched results.' },
      { name: 'probes', description: 'Liveness, readiness and metrics.' },
    ],
    paths: {
      '/api/v1/cases': {
        post: {
          operationId: 'submitCase',
          tags: ['intake'],
          summary: 'Submit a case',
          description:
            'Answers 202 once the case is durably queued for each target system, 200 with the same answer for an identical resubmission. ' +
            '`invalid_case` lists every problem in `details`.',
          security: INTAKE,
          requestBody: { required: true, content: { 'application/json': { schema: ref('Case'), example: caseExample } } },
          responses: {
            '202': { description: 'Accepted and durably queued.', content: json(ref('Accepted')) },
            '200': { description: 'An identical resubmission of an accepted case: the same answer.', content: json(ref('Accepted')) },
            ...errors(['invalid_case', 'invalid_json', 'unauthorized', 'forbidden', 'case_conflict', 'payload_too_large']),
            ...errors(['unsupported_media_type', 'no_route', 'internal', 'unavailable']),
          },
        },
      },
      '/api/v1/cases/{caseId}': {
        get: {
          operationId: 'getCase',
          tags: ['intake'],
          summary: 'What became of a case',
          security: [...INTAKE, ...OPS],
          parameters: [pathParam('caseId', 'The caseId the case was submitted with.', ref('CaseId'))],
          responses: {
            '200': { description: 'The case and each of its deliveries.', content: json(ref('CaseView')) },
            ...errors(['unauthorized', 'forbidden', 'unknown_case', 'internal']),
          },
        },
      },
      '/api/v1/shared-data/query': {
        post: {
          operationId: 'querySharedData',
          tags: ['shared-data'],
          summary: 'Look up the records a case needs by ID number (audited)',
          description:
            'Each kind asked must be allowed for the purpose (the item code) in shared-data.yaml, else 403 `purpose_not_allowed` and no source is asked. ' +
            'Every source of every kind is asked at once; the answer leaves within `deadlineMs` (default 3000) whatever the sources do. ' +
            'A found document is sealed (the item as purpose) and carries the watermark. Every query, answered or refused, is audited with the ID number masked.',
          security: INTAKE,
          requestBody: body('SharedDataQuery', true),
          responses: {
            '200': { description: 'One entry per kind asked, in the order asked.', content: json(ref('SharedDataAnswer')) },
            ...errors(['invalid_request', 'invalid_json', 'unauthorized', 'forbidden', 'purpose_not_allowed', 'payload_too_large', 'unsupported_media_type', 'internal', 'unavailable']),
          },
        },
      },
      '/api/v1/admin/shared-data/lookups': {
        get: {
          operationId: 'listLookups',
          tags: ['admin'],
          summary: 'Shared-data look-ups: who looked up whom, for what (read-only)',
          description: 'From the case ledger (for `retention.ledger`, at least 180 days) and the tail not drained there yet, newest first: the ID number masked, never its hash. 503 `unavailable` while the ledger does not answer.',
          security: OPS,
          parameters: [
            queryParam('caseId', 'Only look-ups for this case.'),
            queryParam('person', 'Only look-ups of this ID number (the full number, compared by its keyed hash; never shown).'),
            queryParam('purpose', 'Only look-ups for this item code.'),
            { name: 'from', in: 'query', required: false, description: 'Not before this time.', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', required: false, description: 'Not after this time.', schema: { type: 'string', format: 'date-time' } },
            { name: 'limit', in: 'query', required: false, description: 'At most this many look-ups, 1 to 1000.', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
          ],
          responses: { '200': { description: 'The matching look-ups, newest first.', content: json(ref('LookupPage')) }, ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/results/{systemId}': {
        post: {
          operationId: 'pushResult',
          tags: ['results'],
          summary: 'A legacy system pushes a result (REST)',
          description:
            "The body is the system's own result document, read by its `result.map` (JSONata) into a result naming a caseId or the system's receipt number. " +
            'A result no delivery is found for is answered `unknown_case` and kept for ops as an unmatched result; it is re-matched when its case or receipt number appears. ' +
            'Each system may park at most `unmatched.maxPerSystem` results and `unmatched.maxBytesPerSystem` bytes of them (gateway.yaml; 1000 and 16mb): beyond that such a result is answered `unmatched_full` and NOT kept.',
          security: SYSTEM,
          parameters: [systemId],
          requestBody: { required: true, content: json({ description: "The system's result document, in its own format; `result.map` reads it." }) },
          responses: {
            '200': { description: 'Recorded (`duplicate: true` when the same result was recorded before: nothing changed).', content: json(ref('PushAnswer')) },
            ...errors(['invalid_result', 'invalid_json', 'unauthorized', 'unknown_case', 'unknown_system', 'payload_too_large', 'unsupported_media_type', 'internal', 'unmatched_full']),
          },
        },
      },
      '/soap/results': {
        get: {
          operationId: 'getResultsWsdl',
          tags: ['results'],
          summary: 'The WSDL of the SOAP result endpoint',
          description: 'See docs/soap.md.',
          security: NONE,
          parameters: [{ name: 'wsdl', in: 'query', required: true, allowEmptyValue: true, description: 'Present, with no value: `GET /soap/results?wsdl`.', schema: { type: 'string' } }],
          responses: { '200': { description: 'The WSDL (document/literal, SOAP 1.1 and 1.2 bindings), its address the URL it was fetched from.', content: XML_CONTENT } },
        },
        post: {
          operationId: 'pushResultSoap',
          tags: ['results'],
          summary: 'A legacy system pushes a result (SOAP PushResult)',
          description:
            'A SOAP 1.1 (`text/xml`) or SOAP 1.2 (`application/soap+xml`) envelope carrying `PushResult(systemId, caseId?, receiptNo?, outcome, message?, decidedAt?)`, ' +
            "authenticated by a WS-Security UsernameToken in its header: the username and password (`result.inboundToken`) configured for the system named in `systemId`. " +
            "The arguments go to the system's `result.map`. The envelopes, the WSDL and the faults are documented in docs/soap.md.",
          security: NONE,
          requestBody: { required: true, content: SOAP_CONTENT },
          responses: {
            '200': { description: 'A `PushResultResponse` (`accepted`, `caseId`, `duplicate`), in the SOAP version of the request.', content: SOAP_CONTENT },
            '400': { description: 'A SOAP 1.2 Fault: the sender is at fault and should not push the same again.', content: SOAP_CONTENT },
            '413': { description: 'A SOAP Fault: the body is larger than the configured limit.', content: SOAP_CONTENT },
            '500': {
              description: "A SOAP 1.1 Fault (either party's), or a SOAP 1.2 Fault on the gateway's side (push again later); `unmatched_full: …` when the result matched no delivery and was NOT kept.",
              content: SOAP_CONTENT,
            },
          },
        },
      },
      '/xml/results/{systemId}': {
        post: {
          operationId: 'pushResultXml',
          tags: ['results'],
          summary: 'A legacy system pushes a result (XML over HTTP)',
          description:
            "An XML document in the system's charset (from the Content-Type, else the XML declaration, else the system's `charset`): " +
            "the children of its root element go to the system's `result.map`. Every answer is an XML `<Ack>` in the system's charset " +
            '(`<code>0</code>` when recorded, else the error code), documented in docs/xml.md.',
          security: SYSTEM,
          parameters: [systemId],
          requestBody: { required: true, content: { 'text/xml': { schema: XML_TEXT }, 'application/xml': { schema: XML_TEXT } } },
          responses: {
            '200': { description: 'Recorded: `<Ack><code>0</code><msg>成功</msg><caseId>…</caseId><duplicate>false</duplicate></Ack>`.', content: XML_CONTENT },
            ...errors(['invalid_xml', 'invalid_result', 'invalid_request', 'unauthorized', 'unknown_case', 'unknown_system', 'payload_too_large', 'internal', 'unmatched_full'], XML_CONTENT),
          },
        },
      },
      '/api/v1/admin/whoami': {
        get: {
          operationId: 'whoami',
          tags: ['admin'],
          summary: 'The role of the ops token used',
          description: 'Any ops role may ask; the console asks after sign-in and shows only what the role may do. The API checks every call whatever the console shows.',
          security: OPS,
          responses: { '200': { description: "The token's role.", content: json(ref('Whoami')) }, ...errors(OPS_ERRORS) },
        },
      },
      '/api/v1/admin/systems': {
        get: {
          operationId: 'listSystems',
          tags: ['admin'],
          summary: 'Every legacy system with its state, queue and health, problem systems first',
          description:
            'Problem systems first, in this order: open circuit, paused, maintenance window closed with deliveries waiting, failing, dead letters, a version some process could not apply (`problems`); ' +
            'then the rest, in configuration order. A few Redis commands per system, never per case.',
          security: OPS,
          responses: { '200': { description: 'Every configured system.', content: json({ type: 'array', items: ref('SystemStatus') }) }, ...errors(OPS_ERRORS) },
        },
      },
      '/api/v1/admin/systems/{id}': {
        get: {
          operationId: 'getSystem',
          tags: ['admin'],
          summary: "A system's configuration",
          description: 'The answer carries `ETag: "<version>"`; sent back as it is (with `If-Match`), it is a valid PUT body.',
          security: OPS,
          parameters: [id],
          responses: {
            '200': { description: 'The system file in use, secrets shown as `[redacted]`, with its version and source.', content: json(ref('SystemVersion')) },
            ...errors(['unknown_system', ...OPS_ERRORS]),
          },
        },
        put: {
          operationId: 'putSystem',
          tags: ['admin'],
          summary: "Replace a system's configuration (admin, audited)",
          description:
            'The system file, or the GET answer as it is (its `system` is used). Validated as the gateway validates its files, then stored in Redis as a new version; ' +
            'every gateway process uses it within 5 s, and it survives restarts. A stored version wins over the file until `reset`. ' +
            'With `If-Match: "<version>"`, refused with 412 `version_mismatch` when that is no longer the current version.',
          security: OPS,
          parameters: [id, OPERATOR, IF_MATCH],
          requestBody: body('SystemPutBody', true),
          responses: {
            '200': { description: 'Stored as a new version (`ETag` names it).', content: json(ref('SystemVersion')) },
            ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'unknown_system', 'payload_too_large', ...OPS_ERRORS]),
          },
        },
      },
      '/api/v1/admin/systems/{id}/history': {
        get: {
          operationId: 'systemHistory',
          tags: ['admin'],
          summary: "A system's configuration versions, newest first",
          description: 'Version 1 is the file each process started from. `applyError` says which process could not use a version (and kept its previous one).',
          security: OPS,
          parameters: [id],
          responses: { '200': { description: 'Newest first.', content: json({ type: 'array', items: ref('VersionInfo') }) }, ...errors(['unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/systems/{id}/history/{version}': {
        get: {
          operationId: 'systemVersion',
          tags: ['admin'],
          summary: 'One configuration version with its content',
          security: OPS,
          parameters: [id, pathParam('version', 'A version number.', { type: 'integer', minimum: 1 })],
          responses: { '200': { description: 'The version, secrets shown as `[redacted]`.', content: json(ref('HistoryVersion')) }, ...errors(['not_found', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/systems/{id}/rollback': {
        post: {
          operationId: 'rollbackSystem',
          tags: ['admin'],
          summary: "Store an earlier version's content as a new version (admin, audited)",
          security: OPS,
          parameters: [id, OPERATOR, IF_MATCH],
          requestBody: body('RollbackBody', true),
          responses: {
            '200': { description: 'Stored as a new version.', content: json(ref('SystemVersion')) },
            ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'not_found', 'version_conflict', 'version_mismatch', 'unknown_system', ...OPS_ERRORS]),
          },
        },
      },
      '/api/v1/admin/systems/{id}/reset': {
        post: {
          operationId: 'resetSystem',
          tags: ['admin'],
          summary: 'Go back to the file in OW_CONFIG_DIR (admin, audited)',
          description: 'Stores the file this process read as a new version, `source: file`: after editing a file, reset makes it the one in use.',
          security: OPS,
          parameters: [id, OPERATOR, IF_MATCH],
          requestBody: body('ReasonBody', false),
          responses: {
            '200': { description: 'Stored as a new version.', content: json(ref('SystemVersion')) },
            ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'version_conflict', 'version_mismatch', 'unknown_system', ...OPS_ERRORS]),
          },
        },
      },
      '/api/v1/admin/systems/{id}/dry-run': {
        post: {
          operationId: 'dryRunSystem',
          tags: ['admin'],
          summary: 'What would be sent for a case, with the current or a proposed configuration; nothing is sent',
          description:
            'The adapter frames the request exactly as for a delivery (JSON, XML in the system charset, the SOAP envelope) and sends nothing; ' +
            'a WSDL given as a URL is read. A proposed `system` is validated as PUT validates it and is not stored.',
          security: OPS,
          parameters: [id],
          requestBody: body('DryRunBody', false),
          responses: {
            '200': { description: 'The request that would be sent, and what `response.*` made of the sample reply.', content: json(ref('DryRunAnswer')) },
            ...errors(['invalid_config', 'invalid_json', 'invalid_request', 'unknown_case', 'unknown_system', 'payload_too_large', ...OPS_ERRORS]),
          },
        },
      },
      '/api/v1/admin/systems/{id}/pause': {
        post: {
          operationId: 'pauseSystem',
          tags: ['admin'],
          summary: 'Pause a system (audited)',
          description: 'A paused system keeps queueing deliveries and sends nothing, in every gateway process.',
          security: OPS,
          parameters: [id, OPERATOR],
          requestBody: body('ReasonBody', false),
          responses: { '200': { description: 'Paused.', content: json(ref('SystemStatus')) }, ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/systems/{id}/resume': {
        post: {
          operationId: 'resumeSystem',
          tags: ['admin'],
          summary: 'Resume a paused system (audited)',
          security: OPS,
          parameters: [id, OPERATOR],
          requestBody: body('ReasonBody', false),
          responses: { '200': { description: 'Resumed.', content: json(ref('SystemStatus')) }, ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/config/export': {
        get: {
          operationId: 'exportConfig',
          tags: ['admin'],
          summary: 'The running configuration as files ready to commit (admin)',
          description:
            'Every system as it runs (stored versions included), routes.yaml and gateway.yaml. Secrets leave only as `${VAR}` references: ' +
            "the file's own where it had one, else a placeholder (`${<SYSTEM>_<KEY>}`) with a comment naming the variable to set.",
          security: OPS,
          responses: { '200': { description: 'File name → YAML text.', content: json(ref('ConfigExport')) }, ...errors(OPS_ERRORS) },
        },
      },
      '/api/v1/admin/dead-letters': {
        get: {
          operationId: 'listDeadLetters',
          tags: ['admin'],
          summary: 'Deliveries whose attempts ran out',
          security: OPS,
          parameters: [
            queryParam('systemId', 'Only this system’s dead letters.'),
            queryParam('error', 'Only dead letters whose last error contains this (any case).'),
            queryParam('cursor', 'The `next` of the page before (opaque).'),
            { name: 'limit', in: 'query', required: false, description: 'Dead letters per page, 1 to 500.', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          ],
          responses: { '200': { description: 'A page of dead letters, oldest first.', content: json(ref('DeadLetterPage')) }, ...errors(['invalid_request', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/dead-letters/replay': {
        post: {
          operationId: 'replayDeadLetters',
          tags: ['admin'],
          summary: 'Re-queue every matching dead letter (audited)',
          description: 'A filter (`systemId`, `error`) or `all: true` is required: an empty body is refused. `dryRun: true` only counts them.',
          security: OPS,
          parameters: [OPERATOR],
          requestBody: body('ReplayManyBody', true),
          responses: { '200': { description: 'Queued again (or counted).', content: json(ref('ReplayManyAnswer')) }, ...errors(['invalid_request', 'invalid_json', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/dead-letters/{id}/replay': {
        post: {
          operationId: 'replayDeadLetter',
          tags: ['admin'],
          summary: 'Re-queue a dead letter, optionally with its case corrected (audited)',
          description:
            'Queued again with fresh attempts and the same `Idempotency-Key`. With `case` (admin only), the stored case is replaced first: ' +
            'validated as intake validates, the same caseId, audited with the paths it changed (never their values).',
          security: OPS,
          parameters: [deadLetterId, OPERATOR],
          requestBody: body('ReplayBody', false),
          responses: { '200': { description: 'Queued again.', content: json(ref('ReplayAnswer')) }, ...errors(['invalid_request', 'invalid_case', 'invalid_json', 'not_found', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/dead-letters/{id}': {
        delete: {
          operationId: 'discardDeadLetter',
          tags: ['admin'],
          summary: 'Discard a dead letter with a reason (audited)',
          description: 'The delivery stays `dead`, with the reason in its history.',
          security: OPS,
          parameters: [deadLetterId, OPERATOR],
          requestBody: body('DiscardBody', true),
          responses: { '200': { description: 'Discarded.', content: json(ref('DiscardAnswer')) }, ...errors(['invalid_request', 'invalid_json', 'not_found', 'unknown_system', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/unmatched-results': {
        get: {
          operationId: 'listUnmatchedResults',
          tags: ['admin'],
          summary: 'Pushed results no delivery was found for',
          description:
            'They are re-matched automatically when their case or receipt number is acknowledged. Paged: by system id, then oldest first; ' +
            'a page holds at most `limit` results and stops early past about 4 MB of them. Follow `next` until it is absent: every result parked throughout is listed exactly once.',
          security: OPS,
          parameters: [
            queryParam('systemId', 'Only this system’s unmatched results.'),
            queryParam('cursor', 'The `next` of the page before (opaque).'),
            { name: 'limit', in: 'query', required: false, description: 'Results per page, 1 to 500.', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          ],
          responses: { '200': { description: 'A page of unmatched results.', content: json(ref('UnmatchedResultPage')) }, ...errors(['invalid_request', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/unmatched-results/{id}/rematch': {
        post: {
          operationId: 'rematchUnmatchedResult',
          tags: ['admin'],
          summary: 'Try to match an unmatched result again',
          security: OPS,
          parameters: [pathParam('id', 'An unmatched result id: `<systemId>.<uuid>`.')],
          responses: {
            '200': { description: 'Matched and recorded (`matched: true`).', content: json(ref('RematchAnswer')) },
            '409': { description: 'Still no delivery matches it (`matched: false`); it stays unmatched.', content: json(ref('RematchAnswer')) },
            ...errors(['not_found', ...OPS_ERRORS]),
          },
        },
      },
      '/api/v1/admin/unmatched-results/{id}': {
        delete: {
          operationId: 'discardUnmatchedResult',
          tags: ['admin'],
          summary: 'Discard an unmatched result with a reason (audited)',
          security: OPS,
          parameters: [pathParam('id', 'An unmatched result id: `<systemId>.<uuid>`.'), OPERATOR],
          requestBody: body('DiscardBody', true),
          responses: { '200': { description: 'Discarded.', content: json(ref('DiscardAnswer')) }, ...errors(['invalid_request', 'invalid_json', 'not_found', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/audit': {
        get: {
          operationId: 'auditTrail',
          tags: ['admin'],
          summary: 'Ops actions, newest first, filtered and paged',
          description:
            'With the case ledger (the default), every action for `retention.ledger` and at least 180 days (网络安全法 §21): drained from Redis to the ledger by the sweep, the tail not drained yet read from Redis, so an action is listed at once. Without a ledger (OW_LEDGER=off) the trail keeps about the latest 10,000 actions. 503 `unavailable` while the ledger does not answer.',
          security: OPS,
          parameters: [
            { name: 'action', in: 'query', required: false, description: 'Only this action.', schema: ref('AuditAction') },
            queryParam('who', 'Only actions whose `who` contains this.'),
            queryParam('caseId', 'Only actions on this case (its dead letters).'),
            { name: 'from', in: 'query', required: false, description: 'Not before this time.', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', required: false, description: 'Not after this time.', schema: { type: 'string', format: 'date-time' } },
            queryParam('cursor', 'The `next` of the page before.'),
            { name: 'limit', in: 'query', required: false, description: 'Entries per page, 1 to 500.', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          ],
          responses: { '200': { description: 'A page, newest first.', content: json(ref('AuditPage')) }, ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]) },
        },
      },
      '/api/v1/admin/stats': {
        get: {
          operationId: 'stats',
          tags: ['admin'],
          summary: 'Per system and day: deliveries accepted, delivered, completed, rejected, dead; accept → completed median and p90 (from the case ledger)',
          description: 'Days are Asia/Shanghai days of acceptance; only finished cases (in the ledger) are counted. JSON, or CSV with `Accept: text/csv` or `format=csv`.',
          security: OPS,
          parameters: [
            queryParam('from', 'A day (YYYY-MM-DD, included) or an ISO instant; default 30 days ago.'),
            queryParam('to', 'A day (YYYY-MM-DD, included) or an ISO instant; default now.'),
            { name: 'level', in: 'query', required: false, description: 'Only systems of this level.', schema: { type: 'string', enum: ['national', 'provincial', 'city'] } },
            queryParam('systemId', 'Only this system.'),
            queryParam('itemCode', 'Only cases of this item.'),
            { name: 'format', in: 'query', required: false, description: 'json (default) or csv.', schema: { type: 'string', enum: ['json', 'csv'] } },
          ],
          responses: {
            '200': {
              description: 'One row per system and day.',
              content: {
                ...json({
                  type: 'object',
                  required: ['from', 'to', 'items'],
                  properties: {
                    from: { type: 'string', format: 'date-time' },
                    to: { type: 'string', format: 'date-time' },
                    items: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['day', 'systemId', 'level', 'accepted', 'delivered', 'completed', 'rejected', 'dead', 'medianSeconds', 'p90Seconds'],
                        properties: {
                          day: { type: 'string', format: 'date' },
                          systemId: { type: 'string' },
                          level: { type: ['string', 'null'] },
                          accepted: { type: 'integer' },
                          delivered: { type: 'integer' },
                          completed: { type: 'integer' },
                          rejected: { type: 'integer' },
                          dead: { type: 'integer' },
                          medianSeconds: { type: ['number', 'null'] },
                          p90Seconds: { type: ['number', 'null'] },
                        },
                      },
                    },
                  },
                }),
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...errors(['invalid_request', 'unavailable', ...OPS_ERRORS]),
          },
        },
      },
      '/console': {
        get: {
          operationId: 'console',
          tags: ['admin'],
          summary: 'The ops web console',
          description: 'A static page (with /console/console.css and /console/console.js) that holds no data: everything it shows comes from the admin API, called with the ops token typed in.',
          security: NONE,
          responses: { '200': { description: 'The console page.', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors(['not_found']) },
        },
      },
      '/healthz': {
        get: {
          operationId: 'healthz',
          tags: ['probes'],
          summary: 'Liveness',
          security: NONE,
          responses: { '200': { description: 'The process is up.', content: json(ref('Health')) } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          tags: ['probes'],
          summary: 'Readiness: Redis reachable, configuration loaded, accepting cases',
          security: NONE,
          responses: {
            '200': { description: 'Ready.', content: json(ref('Readiness')) },
            '503': { description: 'Not ready (Redis unreachable or shutting down).', content: json(ref('Readiness')) },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          tags: ['probes'],
          summary: 'Prometheus metrics',
          security: NONE,
          responses: { '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
    webhooks: {
      caseEvent: {
        post: {
          operationId: 'caseEvent',
          tags: ['callbacks'],
          summary: 'A delivery event, POSTed to the intake callback URL',
          description:
            'Sent to `intake.callbackUrl` (or `OW_CALLBACK_URL`) for every delivery event, signed with `intake.callbackSecret` (or `OW_CALLBACK_SECRET`). ' +
            'Verify by recomputing the HMAC over the timestamp header, a dot and the raw body. ' +
            "Retried with backoff (up to 10 minutes apart) until a 2xx, with the same `eventId` and body every time (at least once); a case's events arrive in order.",
          security: NONE,
          parameters: [
            header('X-OW-Event-Id', 'The `eventId` of the body: the same on every try.', { type: 'string' }),
            header('X-OW-Timestamp', 'When this try was signed, in unix seconds.', { type: 'string', pattern: '^[0-9]+$' }),
            header('X-OW-Signature', '`sha256=` and the hex HMAC-SHA256, keyed with the callback secret, of the timestamp, a dot and the raw body.', {
              type: 'string',
              pattern: '^sha256=[0-9a-f]{64}$',
            }),
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CaseEvent') } } },
          responses: { '2XX': { description: 'Received; any other answer (or none) is retried.' } },
        },
      },
    },
    components: {
      schemas: allSchemas(),
      securitySchemes: {
        intakeToken: { type: 'http', scheme: 'bearer', description: 'The intake platform: one of the comma-separated tokens of `OW_INTAKE_TOKEN`.' },
        opsToken: { type: 'http', scheme: 'bearer', description: 'Ops staff: `OW_OPS_TOKEN`.' },
        systemToken: { type: 'http', scheme: 'bearer', description: "A legacy system: its configuration's `result.inboundToken`." },
      },
    },
  };
}

/** The document as docs/openapi.yaml holds it. */
export function renderOpenApi(): string {
  const header = `# Generated by scripts/openapi.ts from the code's zod schemas. Do not edit: run \`${COMMAND}\`.\n`;
  return header + YAML.stringify(buildOpenApi(), { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** docs/openapi.yaml, found from here whether this runs as scripts/openapi.ts or dist/scripts/openapi.js. */
export function openApiFile(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`openapi: no package.json above ${__dirname}`);
    dir = parent;
  }
  return path.join(dir, 'docs', 'openapi.yaml');
}

export function main(args: readonly string[]): number {
  const file = openApiFile();
  const text = renderOpenApi();
  if (args.length === 0 || (args.length === 1 && args[0] === '--write')) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
    return 0;
  }
  if (args.length === 1 && args[0] === '--check') {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current.replace(/\r\n/g, '\n') === text) return 0;
    console.error(`${path.relative(process.cwd(), file)} is out of date: run \`${COMMAND}\` and commit it.`);
    return 1;
  }
  console.error('usage: node dist/scripts/openapi.js [--write | --check]');
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
