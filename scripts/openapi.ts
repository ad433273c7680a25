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
import { errorBodySchema, healthSchema, readinessSchema } from '../src/api-schemas';
import {
  acceptedSchema,
  applicantSchema,
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

type Schema = z.core.JSONSchema.BaseSchema;
type Security = Record<string, string[]>[];

interface Response {
  description: string;
  content?: Record<string, { schema: Schema }>;
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: Schema;
}

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Security;
  parameters?: Parameter[];
  requestBody?: { required: true; content: Record<string, { schema: Schema; example?: unknown }> };
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
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

/** Operations the contract lists but the gateway does not serve yet carry this in their description. */
export const PLANNED = 'planned (later issue)';

const COMMAND = 'npm run openapi';

const ref = (id: string): Schema => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Schema): Response['content'] => ({ 'application/json': { schema } });

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
  const requests = components('input', { Case: caseSchema, Applicant: applicantSchema, Material: materialSchema, CaseId: caseIdSchema });
  const answers = components('output', {
    Accepted: acceptedSchema,
    CaseView: caseViewSchema,
    DeliveryView: deliveryViewSchema,
    DeliveryStatus: deliveryStatusSchema,
    CaseStatus: caseStatusSchema,
    Result: resultSchema,
    CaseId: caseIdSchema,
    Error: errorBodySchema,
    Health: healthSchema,
    Readiness: readinessSchema,
  });
  for (const [id, schema] of Object.entries(requests)) {
    if (id in answers && JSON.stringify(answers[id]) !== JSON.stringify(schema)) throw new Error(`openapi: ${id} differs as input and output`);
  }
  const merged = { ...requests, ...answers };
  return Object.fromEntries(Object.keys(merged).sort().map((id) => [id, merged[id]]));
}

/** Error answers for these codes, one per HTTP status, the status taken from the catalogue. */
function errors(...codes: ErrorCode[]): Record<string, Response> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CATALOGUE[code].status, [...(byStatus.get(ERROR_CATALOGUE[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      String(status),
      { description: group.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].message}`).join(' '), content: json(ref('Error')) },
    ]),
  );
}

const pathParam = (name: string, description: string, schema: Schema = { type: 'string' }): Parameter => ({ name, in: 'path', required: true, description, schema });

const INTAKE: Security = [{ intakeToken: [] }];
const OPS: Security = [{ opsToken: [] }];
const NONE: Security = [];

/** An operation the contract promises but the gateway does not serve yet: its answers in a word. */
function planned(op: Omit<Operation, 'description' | 'responses'>, responses: Record<string, string>): Operation {
  return {
    ...op,
    description: `${PLANNED}: not served yet.`,
    responses: Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
  };
}

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
  const deadLetterId = pathParam('id', 'A dead letter id.');
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'OneWindow Gateway',
      version: 'v1',
      description:
        "Between Quzhou's one-window intake platform and the legacy business systems. " +
        'Every error is JSON: `{"error": {"code", "message", "details?": [{"path", "message"}]}}` with a code from the `Error` schema. ' +
        `Generated from the code's zod schemas by scripts/openapi.ts (\`${COMMAND}\`); do not edit by hand.`,
    },
    servers: [{ url: 'http://localhost:8080', description: 'the default PORT' }],
    tags: [
      { name: 'intake', description: 'The intake platform submits cases and follows them.' },
      { name: 'results', description: 'Legacy systems push their results.' },
      { name: 'admin', description: 'Ops staff manage systems and dead letters.' },
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
            ...errors('invalid_case', 'invalid_json', 'unauthorized', 'forbidden', 'case_conflict', 'payload_too_large'),
            ...errors('unsupported_media_type', 'no_route', 'internal', 'unavailable'),
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
            ...errors('unauthorized', 'forbidden', 'unknown_case', 'internal'),
          },
        },
      },
      '/api/v1/results/{systemId}': {
        post: planned(
          { operationId: 'pushResult', tags: ['results'], summary: 'A legacy system pushes a result (REST)', security: [{ systemToken: [] }], parameters: [systemId] },
          { '200': '`{accepted: true}`, also for a duplicate.', '400': 'An invalid result.', '404': '`unknown_case`; the result is kept for ops.' },
        ),
      },
      '/soap/results': {
        get: planned(
          {
            operationId: 'getResultsWsdl',
            tags: ['results'],
            summary: 'The WSDL of the SOAP result endpoint',
            parameters: [{ name: 'wsdl', in: 'query', required: true, schema: { type: 'string' } }],
          },
          { '200': 'The WSDL.' },
        ),
        post: planned(
          { operationId: 'pushResultSoap', tags: ['results'], summary: 'A legacy system pushes a result (SOAP, WS-Security UsernameToken)' },
          { '200': 'A SOAP `PushResult` response.', default: 'A SOAP Fault.' },
        ),
      },
      '/xml/results/{systemId}': {
        post: planned(
          { operationId: 'pushResultXml', tags: ['results'], summary: 'A legacy system pushes a result (XML over HTTP)', parameters: [systemId] },
          { '200': "An XML acknowledgement in the system's charset." },
        ),
      },
      '/api/v1/admin/systems': {
        get: planned(
          { operationId: 'listSystems', tags: ['admin'], summary: 'Every legacy system with its state and queue', security: OPS },
          { '200': '`[{id, name, level, protocol, paused, circuit, queue: {waiting, active, delayed, failed}}]`' },
        ),
      },
      '/api/v1/admin/systems/{id}': {
        get: planned(
          { operationId: 'getSystem', tags: ['admin'], summary: "A system's configuration", security: OPS, parameters: [id] },
          { '200': 'The configuration, secrets redacted, with its `version`.' },
        ),
        put: planned(
          { operationId: 'putSystem', tags: ['admin'], summary: "Replace a system's configuration", security: OPS, parameters: [id] },
          { '200': 'Stored as a new version; every instance uses it within 5 s.', '400': 'Invalid, with details.' },
        ),
      },
      '/api/v1/admin/systems/{id}/pause': {
        post: planned(
          { operationId: 'pauseSystem', tags: ['admin'], summary: 'Pause a system', security: OPS, parameters: [id] },
          { '2XX': 'Paused: deliveries queue and nothing is sent.' },
        ),
      },
      '/api/v1/admin/systems/{id}/resume': {
        post: planned(
          { operationId: 'resumeSystem', tags: ['admin'], summary: 'Resume a paused system', security: OPS, parameters: [id] },
          { '2XX': 'Resumed.' },
        ),
      },
      '/api/v1/admin/dead-letters': {
        get: planned(
          { operationId: 'listDeadLetters', tags: ['admin'], summary: 'Deliveries whose attempts ran out', security: OPS },
          { '200': '`[{id, caseId, systemId, attempts, lastError, failedAt}]`' },
        ),
      },
      '/api/v1/admin/dead-letters/{id}/replay': {
        post: planned(
          { operationId: 'replayDeadLetter', tags: ['admin'], summary: 'Re-queue a dead letter (audited)', security: OPS, parameters: [deadLetterId] },
          { '2XX': 'Re-queued.' },
        ),
      },
      '/api/v1/admin/dead-letters/{id}': {
        delete: planned(
          { operationId: 'discardDeadLetter', tags: ['admin'], summary: 'Discard a dead letter with a reason (audited)', security: OPS, parameters: [deadLetterId] },
          { '2XX': 'Discarded.' },
        ),
      },
      '/console': {
        get: planned({ operationId: 'console', tags: ['admin'], summary: 'The web console', security: OPS }, { '200': 'The console (HTML).' }),
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
