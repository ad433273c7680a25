/**
 * The gateway's HTTP interface as an OpenAPI 3.1 document, generated from the routes
 * themselves: each route declares its operation where it is served (`route()` in
 * src/platform/route.ts), so this script builds the app, takes the operations it declared, names
 * the zod schemas they use as components, and lets zod-to-openapi assemble the document. What is
 * left here belongs to the document, not to a route: its title and tags, the security schemes, the
 * component names, and the callback the gateway itself sends (a webhook, served by no route).
 *
 *   node dist/scripts/openapi.js [--write]   writes docs/openapi.yaml
 *   node dist/scripts/openapi.js --check     exits 1 when docs/openapi.yaml is out of date
 */
import fs from 'node:fs';
import path from 'node:path';
import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import pino from 'pino';
import YAML from 'yaml';
import { z } from 'zod';
import { errors, headerParam, NONE, ref } from '../src/api-docs';
import {
  applyErrorSchema,
  auditActionSchema,
  auditEntrySchema,
  auditPageSchema,
  circuitViewSchema,
  deadLetterCaseSchema,
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
  sealKeysAnswerSchema,
  sharedDataAnswerSchema,
  sharedDocumentSchema,
  sourceAnswerSchema,
  statsAnswerSchema,
  systemFileBodySchema,
  systemPutBodySchema,
  systemStatusSchema,
  systemVersionSchema,
  unmatchedPageSchema,
  unmatchedResultSchema,
  verificationSchema,
  versionInfoSchema,
  versionSourceSchema,
  whoamiSchema,
} from '../src/api-schemas';
import { createApp, type AppDeps } from '../src/app';
import { timeLimitEventSchema } from '../src/timelimits/monitor';
import { timeLimitSchema } from '../src/timelimits/clock';
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
import { createMetrics } from '../src/platform/metrics';
import { operationsOf, type Content, type Operation, type Parameter, type Schema } from '../src/platform/route';
import { sealObjectSchema } from '../src/seal/seal';
import { verifyRequestSchema } from '../src/seal/verify';
import { sharedDataQuerySchema } from '../src/shared-data/service';
import { sharedDataSchema } from '../src/config/schema';

type Method = Operation['method'];
type Documented = Omit<Operation, 'method' | 'path'>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<Method, Documented>>>;
  /** What the gateway itself sends (OpenAPI 3.1): the callbacks to the intake platform. */
  webhooks: Record<string, { post: Documented }>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

const COMMAND = 'npm run openapi';

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
      // `format: date-time` (or `date`) says it; zod's full RFC 3339 regex only makes the document unreadable.
      if (jsonSchema.format === 'date-time' || jsonSchema.format === 'date') delete jsonSchema.pattern;
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

/**
 * The component names: request bodies as clients may send them (defaults make fields optional),
 * answers as sent. A body or answer a route gives as an unnamed zod schema is written inline.
 */
function namedRequests(): Record<string, z.ZodType> {
  return {
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
    VerifyBody: verifyRequestSchema,
    Seal: sealObjectSchema,
  };
}

function namedAnswers(): Record<string, z.ZodType> {
  return {
    Accepted: acceptedSchema,
    CaseView: caseViewSchema,
    DeliveryView: deliveryViewSchema,
    DeliveryStatus: deliveryStatusSchema,
    CaseStatus: caseStatusSchema,
    Result: resultSchema,
    CaseId: caseIdSchema,
    CaseEvent: caseEventSchema,
    CaseEventType: caseEventTypeSchema,
    TimeLimitEvent: timeLimitEventSchema,
    TimeLimit: timeLimitSchema,
    PushAnswer: pushAnswerSchema,
    UnmatchedResult: unmatchedResultSchema,
    UnmatchedResultPage: unmatchedPageSchema,
    RematchAnswer: rematchAnswerSchema,
    SystemStatus: systemStatusSchema,
    CircuitView: circuitViewSchema,
    DeadLetter: deadLetterSchema,
    ReplayAnswer: replayAnswerSchema,
    DeadLetterCase: deadLetterCaseSchema,
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
    SealKeys: sealKeysAnswerSchema,
    Verification: verificationSchema,
    Stats: statsAnswerSchema,
  };
}

const isZod = (schema: unknown): schema is z.ZodType => schema instanceof z.ZodType;

/** Each operation's query as a content entry of its own, resolved in place like a body's. */
const queries = new WeakMap<Documented, Content>();
function queryOf(operation: Documented): Content | undefined {
  if (!operation.query) return undefined;
  if (!queries.has(operation)) queries.set(operation, { query: { schema: operation.query } });
  return queries.get(operation);
}

/**
 * Every body (input) and answer (output) of the operations, each content entry with its side; the
 * query's zod object counts as an input, turned into parameters once resolved (`queryParameters`).
 */
function contentsOf(operation: Documented): Array<{ io: 'input' | 'output'; content: Content }> {
  const query = queryOf(operation);
  return [
    ...(query ? [{ io: 'input' as const, content: query }] : []),
    ...(operation.requestBody ? [{ io: 'input' as const, content: operation.requestBody.content }] : []),
    ...Object.values(operation.responses).flatMap((r) => (r.content ? [{ io: 'output' as const, content: r.content }] : [])),
  ];
}

/**
 * The named components, and each operation with its zod schemas replaced: by a `$ref` where the
 * schema is named, else by its JSON Schema written inline (its parts may still refer to components).
 */
function resolve(operations: Documented[]): Record<string, Schema> {
  const named = { input: namedRequests(), output: namedAnswers() };
  const inline = { input: new Map<z.ZodType, string>(), output: new Map<z.ZodType, string>() };
  // A schema named on one side only is that component on both (a system's file is shown as written).
  const namedAs = (io: 'input' | 'output', schema: z.ZodType) => Object.keys(named[io]).find((id) => named[io][id] === schema);
  const nameOf = (io: 'input' | 'output', schema: z.ZodType) => namedAs(io, schema) ?? namedAs(io === 'input' ? 'output' : 'input', schema);
  for (const operation of operations) {
    for (const { io, content } of contentsOf(operation)) {
      for (const entry of Object.values(content)) {
        if (isZod(entry.schema) && !nameOf(io, entry.schema) && !inline[io].has(entry.schema)) inline[io].set(entry.schema, `inline.${io}.${inline[io].size}`);
      }
    }
  }
  // Inline schemas may refer to a component of either side; the components themselves are converted
  // each with its own side's names only, as they have always been.
  const withInline = (io: 'input' | 'output', other: 'input' | 'output') =>
    components(io, { ...named[other], ...named[io], ...Object.fromEntries([...inline[io]].map(([schema, id]) => [id, schema])) });
  const converted = {
    input: { ...withInline('input', 'output'), ...components('input', named.input) },
    output: { ...withInline('output', 'input'), ...components('output', named.output) },
  };
  for (const operation of operations) {
    for (const { io, content } of contentsOf(operation)) {
      for (const entry of Object.values(content)) {
        if (!isZod(entry.schema)) continue;
        const id = nameOf(io, entry.schema);
        entry.schema = id ? ref(id) : converted[io][inline[io].get(entry.schema)!]!;
      }
    }
  }
  const requests = Object.fromEntries(Object.keys(named.input).map((id) => [id, converted.input[id]!]));
  const answers = Object.fromEntries(Object.keys(named.output).map((id) => [id, converted.output[id]!]));
  for (const [id, schema] of Object.entries(requests)) {
    if (id in answers && JSON.stringify(answers[id]) !== JSON.stringify(schema)) throw new Error(`openapi: ${id} differs as input and output`);
  }
  const merged = { ...requests, ...answers };
  return Object.fromEntries(Object.keys(merged).sort().map((id) => [id, merged[id]!]));
}

/** Stands in for every collaborator of the app: building it asks none of them anything. */
const NOT_SERVING: object = new Proxy(
  {},
  {
    get: (_target, name) =>
      name === 'then'
        ? undefined
        : () => {
            throw new Error(`openapi: the app built for the document was asked for ${String(name)}`);
          },
  },
);

/** The operations the app declares, every optional room (seals, ledger, shared data) mounted. */
export function declaredOperations(): Operation[] {
  const app = createApp({
    config: () => ({ gateway: { server: { bodyLimit: '1mb', trustProxy: [] }, limits: { failedAuthPerMinute: 1, requestsPerMinute: 1 } }, systems: new Map() }),
    store: NOT_SERVING,
    queues: NOT_SERVING,
    results: NOT_SERVING,
    operations: NOT_SERVING,
    // A plain object: the rate limiters look for optional client features when they are made.
    redis: {},
    prefix: 'openapi',
    tokens: { intake: [], ops: [] },
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    seals: NOT_SERVING,
    sealVerifier: NOT_SERVING,
    ledger: NOT_SERVING,
    sharedData: NOT_SERVING,
  } as unknown as AppDeps);
  return operationsOf(app);
}

/** The callbacks to the intake platform: sent by the gateway, so declared by no route. */
const CASE_EVENT: Operation = {
  method: 'post',
  path: 'caseEvent',
  operationId: 'caseEvent',
  tags: ['callbacks'],
  summary: 'A delivery event, POSTed to the intake callback URL',
  description:
    'Sent to `intake.callbackUrl` (or `OW_CALLBACK_URL`) for every delivery event, signed with `intake.callbackSecret` (or `OW_CALLBACK_SECRET`). ' +
    'Verify by recomputing the HMAC over the timestamp header, a dot and the raw body. ' +
    "Retried with backoff (up to 10 minutes apart) until a 2xx, with the same `eventId` and body every time (at least once); a case's events arrive in order.",
  security: NONE,
  parameters: [
    headerParam('X-OW-Event-Id', 'The `eventId` of the body: the same on every try.', { type: 'string' }),
    headerParam('X-OW-Timestamp', 'When this try was signed, in unix seconds.', { type: 'string', pattern: '^[0-9]+$' }),
    headerParam('X-OW-Signature', '`sha256=` and the hex HMAC-SHA256, keyed with the callback secret, of the timestamp, a dot and the raw body.', {
      type: 'string',
      pattern: '^sha256=[0-9a-f]{64}$',
    }),
  ],
  requestBody: { required: true, content: { 'application/json': { schema: caseEventSchema } } },
  responses: { '2XX': { description: 'Received; any other answer (or none) is retried.' } },
};

/** The time-limit warnings: sent, signed and retried like delivery events, to the same URL. */
const TIME_LIMIT_EVENT: Operation = {
  ...CASE_EVENT,
  path: 'timeLimitEvent',
  operationId: 'timeLimitEvent',
  summary: 'A time-limit warning (case.due_soon, case.overdue), POSTed to the intake callback URL',
  description:
    '`case.due_soon` when the working days left before the promised (else legal) limit reach the item\'s `warnDays`, `case.overdue` once that limit has passed; ' +
    'each once per case and clock run (the clock runs anew after a 补正 resubmission or the end of a special procedure). Signed, retried and ordered exactly as delivery events.',
  requestBody: { required: true, content: { 'application/json': { schema: timeLimitEventSchema } } },
};

/**
 * Every operation but the probes is served behind the access layer (app.ts), whose request budget
 * and failed-authentication limit answer 429 on any of them.
 */
function behindAccess(operation: Operation): Operation {
  if (operation.tags.includes('probes') || operation.responses['429']) return operation;
  return { ...operation, responses: { ...operation.responses, ...errors(['too_many_requests']) } };
}

/** The document's groups of operations, in the order it lists them. */
const TAGS = [
  { name: 'intake', description: 'The intake platform submits cases and follows them.' },
  { name: 'callbacks', description: 'The gateway tells the intake platform what became of each delivery.' },
  { name: 'results', description: 'Legacy systems push their results.' },
  { name: 'shared-data', description: 'The intake platform looks up records (数据跑路) instead of asking for photocopies.' },
  { name: 'seal', description: 'Anyone verifies a seal (电子印章) against the public keys.' },
  { name: 'admin', description: 'Ops staff manage systems, dead letters and unmatched results.' },
  { name: 'reports', description: 'Ops staff read the time limits kept (办件时限) and export the cases as GB/T 39046-2020 data.' },
  { name: 'probes', description: 'Liveness, readiness and metrics.' },
];

export function buildOpenApi(): OpenApiDocument {
  // Copies: resolving replaces zod schemas in place, and the routes keep theirs.
  // Listed by tag, in the order of TAGS, then as the app mounts them (a stable sort).
  const byTag = (op: Operation) => TAGS.findIndex((tag) => tag.name === op.tags[0]);
  const declared = declaredOperations().sort((a, b) => byTag(a) - byTag(b));
  const operations = [...declared.map(behindAccess), CASE_EVENT, TIME_LIMIT_EVENT].map((op) => structuredCloneWithSchemas(op));
  const schemas = resolve(operations);
  shippedDocumentKinds(schemas.SharedDataQuery!);
  for (const operation of operations) queryParameters(operation);
  const registry = new OpenAPIRegistry();
  for (const [id, schema] of Object.entries(schemas)) registry.registerComponent('schemas', id, schema);
  registry.registerComponent('securitySchemes', 'intakeToken', {
    type: 'http',
    scheme: 'bearer',
    description:
      'The intake platform: one of the comma-separated tokens of `OW_INTAKE_TOKEN`. With `OW_INTAKE_HMAC_SECRET` set, every intake request is also signed: ' +
      '`X-OW-Timestamp` (unix seconds, within 300 s), `X-OW-Nonce` (8 to 128 of `A-Za-z0-9_-`, never used before) and ' +
      '`X-OW-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + nonce + "." + METHOD + "." + path-with-query + "." + body)>`, ' +
      'the path as in the request line and the body as its exact bytes (empty for a GET); anything else is 401.',
  });
  registry.registerComponent('securitySchemes', 'opsToken', { type: 'http', scheme: 'bearer', description: 'Ops staff: `OW_OPS_TOKEN`.' });
  registry.registerComponent('securitySchemes', 'systemToken', { type: 'http', scheme: 'bearer', description: "A legacy system: its configuration's `result.inboundToken`." });
  const callbacks = operations.splice(-2);
  for (const operation of operations) registry.registerPath(operation as unknown as RouteConfig);
  for (const webhook of callbacks) registry.registerWebhook(webhook as unknown as RouteConfig);
  const generated = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'OneWindow Gateway',
      version: 'v1',
      description:
        "Between Quzhou's one-window intake platform and the legacy business systems. " +
        'Every JSON error is `{"error": {"code", "message", "details?": [{"path", "message"}]}}` with a code from the `Error` schema; ' +
        'the SOAP and XML result endpoints answer in their own formats. ' +
        `Generated by scripts/openapi.ts (\`${COMMAND}\`) from the operations each route declares and the code's zod schemas; do not edit by hand.`,
    },
    servers: [{ url: 'http://localhost:8080', description: 'the default PORT' }],
    tags: TAGS,
  }) as unknown as OpenApiDocument;
  // The document's own order, whatever order the generator assembles it in.
  const { openapi, info, servers, tags, paths, webhooks, components: parts } = generated;
  const jsonSchemaDialect = 'https://json-schema.org/draft/2020-12/schema';
  return { openapi, jsonSchemaDialect, info, servers, tags, paths, webhooks, components: { schemas: parts.schemas, securitySchemes: parts.securitySchemes } };
}

/**
 * The document kinds a look-up may ask for are configuration (shared-data.yaml); the service refuses
 * any other with 400. The document names those of the shipped configuration folder as the enum.
 */
function shippedDocumentKinds(query: Schema): void {
  const file = path.join(path.dirname(path.dirname(openApiFile())), 'config', 'shared-data.yaml');
  const kinds = Object.keys(sharedDataSchema.parse(YAML.parse(fs.readFileSync(file, 'utf8'))).documents);
  const documents = (query.properties as Record<string, { items: Schema }>).documents;
  if (!documents?.items || kinds.length === 0) throw new Error('openapi: SharedDataQuery.documents or the shipped document kinds are missing');
  documents.items = { type: 'string', enum: kinds };
}

/**
 * The resolved query object as parameters, one per field in the order declared, before any other
 * parameter: the field's description becomes the parameter's, its schema the rest.
 */
function queryParameters(operation: Documented): void {
  const query = queryOf(operation)?.query?.schema as Schema | undefined;
  delete operation.query;
  if (!query) return;
  const properties = (query.properties ?? {}) as Record<string, Schema>;
  const required = (query.required ?? []) as string[];
  if (query.type !== 'object' || Object.keys(query).some((k) => !['type', 'properties', 'required', 'additionalProperties'].includes(k))) {
    throw new Error(`openapi: the query of ${operation.operationId} must be a plain zod object: ${JSON.stringify(query)}`);
  }
  const fromQuery: Parameter[] = Object.entries(properties).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    ...(typeof description === 'string' ? { description } : {}),
    schema,
  }));
  operation.parameters = [...(operation.parameters ?? []), ...fromQuery];
}

/** A copy of an operation whose objects are new, the zod schemas in it the same. */
function structuredCloneWithSchemas<T>(value: T): T {
  if (isZod(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => structuredCloneWithSchemas(item)) as T;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, structuredCloneWithSchemas(item)])) as T;
}

/** The document as docs/openapi.yaml holds it. */
export function renderOpenApi(): string {
  const header = `# Generated by scripts/openapi.ts from the routes' declarations and the code's zod schemas. Do not edit: run \`${COMMAND}\`.\n`;
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
