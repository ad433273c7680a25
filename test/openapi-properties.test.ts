/**
 * Property-based: requests generated from docs/openapi.yaml (fast-check, from the document's own
 * schemas) against a running gateway on real Redis, as the intake platform, as each ops role, as a
 * legacy system and as a stranger. Every answer must be one the document lists for the operation:
 * its status, its content type, its body valid against the documented schema (ajv); no 5xx but the
 * documented SOAP faults; the process up at the end. Seeded: OW_PROPERTY_SEED replays a run,
 * OW_PROPERTY_RUNS sets the requests per operation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { RunningGateway } from '../src/gateway';
import { INTAKE_TOKEN, OPERATOR_TOKEN, OPS_TOKEN, VIEWER_TOKEN, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, writeConfig, type LegacyServer } from './support/harness';
import { arbitraryOf, openApiContract, pointerSegment, type DocumentedOperation, type Schema } from './support/openapi-contract';

const SEED = Number(process.env.OW_PROPERTY_SEED ?? 20261207);
const RUNS = Number(process.env.OW_PROPERTY_RUNS ?? 70);

const SYSTEMS = { 'city-housing-reform': 'housing-result-token', 'city-xml': 'xml-result-token' } as const;
type SystemId = keyof typeof SYSTEMS;
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const RESULTS_NS = 'http://ycsl.qz.gov.cn/gateway/results/v1';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

/** Who calls: each token the gateway knows, a legacy system's result token, and strangers. */
type Caller = 'intake' | 'admin' | 'operator' | 'viewer' | 'system' | 'stranger' | 'guess';
const BEARER: Record<Exclude<Caller, 'system'>, string | undefined> = {
  intake: INTAKE_TOKEN,
  admin: OPS_TOKEN,
  operator: OPERATOR_TOKEN,
  viewer: VIEWER_TOKEN,
  stranger: undefined,
  guess: 'not-a-token-of-anyone',
};
const CALLERS: Caller[] = ['intake', 'admin', 'operator', 'viewer', 'system', 'stranger', 'guess'];
const FITTING: Record<string, Caller[]> = { intakeToken: ['intake'], opsToken: ['admin', 'operator', 'viewer'], systemToken: ['system'] };

interface Generated {
  caller: Caller;
  systemId: SystemId;
  params: Record<string, unknown>;
  media?: string;
  body?: unknown;
  /** Picks a known id (a case, a dead letter …) for a path parameter, when there is one. */
  pick: number;
}

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** What the gateway has answered so far: ids to ask about again (stateful, within one run). */
const known = { caseIds: new Set<string>(), deadLetters: new Set<string>(), unmatched: new Set<string>() };

function harvest(value: unknown, operationId: string): void {
  if (Array.isArray(value)) return value.forEach((v) => harvest(v, operationId));
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (typeof record.caseId === 'string' && known.caseIds.size < 200) known.caseIds.add(record.caseId);
  if (typeof record.id === 'string' && operationId === 'listDeadLetters') known.deadLetters.add(record.id);
  if (typeof record.id === 'string' && operationId === 'listUnmatchedResults') known.unmatched.add(record.id);
  Object.values(record).forEach((v) => harvest(v, operationId));
}

const asHeader = (value: unknown): string => {
  const text = String(value);
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
};

describe('the gateway, asked what docs/openapi.yaml describes', () => {
  const contract = openApiContract();
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let dataDir: string;
  const figures = { requests: 0, operations: 0, byStatus: new Map<number, number>(), byOperation: new Map<string, Record<number, number>>() };

  beforeAll(async () => {
    // The housing system answers every delivery; the XML system fails every one, so dead letters appear.
    legacy = await legacyServer((req, n, res) => (req.url.startsWith('/xml') ? replyJson(res, 500, { code: '9' }) : replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } })));
    const dir = writeConfig(
      [
        restSystem('city-housing-reform', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: SYSTEMS['city-housing-reform'] } }),
        restSystem('city-xml', `${legacy.url}/xml`, {
          protocol: 'xml',
          charset: 'gbk',
          xml: { root: 'Request' },
          retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } },
          result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: SYSTEMS['city-xml'] },
        }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform', 'city-xml'] }] },
      // Budgets out of the way (they are tested on their own), and no address but loopback to deliver to.
      { limits: { failedAuthPerMinute: 1_000_000, requestsPerMinute: 1_000_000 }, egress: { allow: ['127.0.0.1'] } },
    );
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-properties-'));
    gateway = await startTestGateway(dir, { ledger: {}, dataDir });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await legacy?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The request an operation's generated values make. */
  function request(op: DocumentedOperation, g: Generated): Sent {
    const caller = g.caller === 'system' ? SYSTEMS[g.systemId] : BEARER[g.caller];
    const headers: Record<string, string> = caller ? { authorization: `Bearer ${caller}` } : {};
    const query = new URLSearchParams();
    let url = op.path;
    for (const p of op.parameters ?? []) {
      const value = g.params[p.name];
      if (value === undefined) continue;
      if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(String(pathValue(op, p.name, g) ?? value)));
      else if (p.in === 'query') query.set(p.name, String(value));
      else headers[p.name] = asHeader(value);
    }
    const search = query.toString();
    if (op.operationId === 'getResultsWsdl') url += search ? `?wsdl&${search}` : '?wsdl';
    else if (search) url += `?${search}`;
    if (g.media === undefined) return { method: op.method, url, headers };
    headers['content-type'] = g.media.includes('xml') ? `${g.media}; charset=utf-8` : g.media;
    return { method: op.method, url, headers, body: typeof g.body === 'string' && g.media !== 'application/json' ? g.body : JSON.stringify(g.body) };
  }

  /** A path parameter: the system of the request, or, half the time, an id the gateway gave earlier. */
  function pathValue(op: DocumentedOperation, name: string, g: Generated): string | undefined {
    if (name === 'systemId' || (name === 'id' && op.path.startsWith('/api/v1/admin/systems/'))) return g.pick % 5 === 0 ? undefined : g.systemId;
    const pool = name === 'caseId' ? known.caseIds : op.path.includes('dead-letters') ? known.deadLetters : op.path.includes('unmatched') ? known.unmatched : undefined;
    if (!pool || pool.size === 0 || g.pick % 2 === 1) return undefined;
    return [...pool][g.pick % pool.size];
  }

  /** Bodies for the XML and SOAP endpoints: documents they may read, half the time with a known case. */
  function xmlBody(op: DocumentedOperation): fc.Arbitrary<string> {
    const caseId = fc.oneof(fc.constant('QZ-UNKNOWN-1'), fc.nat().map((n) => [...known.caseIds][n % Math.max(known.caseIds.size, 1)] ?? 'QZ-NONE'));
    if (op.operationId === 'pushResultSoap') {
      const envelope = fc.tuple(fc.constantFrom<SystemId>('city-housing-reform', 'city-xml'), caseId, fc.constantFrom('approved', 'rejected', '1', ''), fc.boolean()).map(
        ([systemId, id, outcome, right]) =>
          `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Header><wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>${systemId}</wsse:Username>` +
          `<wsse:Password>${right ? SYSTEMS[systemId] : 'wrong'}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>` +
          `<soap:Body><PushResult xmlns="${RESULTS_NS}"><systemId>${systemId}</systemId><caseId>${id}</caseId><outcome>${outcome}</outcome></PushResult></soap:Body></soap:Envelope>`,
      );
      return fc.oneof(envelope, fc.string({ maxLength: 200 }));
    }
    return fc.oneof(caseId.map((id) => `<?xml version="1.0"?><Result><ywh>${id}</ywh></Result>`), fc.string({ maxLength: 200 }));
  }

  /** Each operation's requests: mostly as documented, as a fitting caller; now and then anything. */
  function generated(op: DocumentedOperation): fc.Arbitrary<Generated> {
    const base = `#/paths/${pointerSegment(op.path)}/${op.method.toLowerCase()}`;
    const fitting = op.security.flatMap((s) => Object.keys(s).flatMap((scheme) => FITTING[scheme] ?? []));
    const caller = fitting.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...fitting), weight: 4 }, { arbitrary: fc.constantFrom(...CALLERS), weight: 1 }) : fc.constantFrom(...CALLERS);
    const params: Record<string, fc.Arbitrary<unknown>> = {};
    const required: string[] = [];
    (op.parameters ?? []).forEach((p, i) => {
      if (p.name === 'wsdl') return;
      const valid = arbitraryOf(contract, contract.schemaAt(`${base}/parameters/${i}/schema`), {}, p.name);
      params[p.name] = p.in === 'path' ? valid : fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 });
      if (p.required) required.push(p.name);
    });
    const media = Object.keys(op.requestBody?.content ?? {});
    const body = media.length === 0
      ? fc.constant(undefined)
      : fc.constantFrom(...media).chain((m) => {
          const schema = contract.schemaAt(`${base}/requestBody/content/${pointerSegment(m)}/schema`);
          if (m !== 'application/json') return fc.record({ media: fc.constant(m), body: xmlBody(op) as fc.Arbitrary<unknown> });
          const valid = schema.type === undefined && schema.$ref === undefined ? fc.jsonValue({ maxDepth: 3 }) : arbitraryOf(contract, schema as Schema);
          return fc.record({ media: fc.constant(m), body: fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 }) });
        });
    return fc.record({
      caller,
      systemId: fc.constantFrom<SystemId>('city-housing-reform', 'city-xml'),
      params: fc.record(params, { requiredKeys: required }),
      sent: body,
      pick: fc.nat(),
    }).map(({ sent, ...g }) => ({ ...g, ...(sent ? { media: sent.media, body: sent.body } : {}) }));
  }

  /** Why the answer is not one the document gives for the operation, or undefined when it is. */
  async function undocumented(op: DocumentedOperation, sent: Sent): Promise<string | undefined> {
    const res = await fetch(`${gateway.url}${sent.url}`, { method: sent.method, headers: sent.headers, body: sent.body });
    const text = await res.text();
    figures.requests++;
    figures.byStatus.set(res.status, (figures.byStatus.get(res.status) ?? 0) + 1);
    const mine = figures.byOperation.get(op.operationId) ?? {};
    figures.byOperation.set(op.operationId, { ...mine, [res.status]: (mine[res.status] ?? 0) + 1 });
    if (process.env.OW_PROPERTY_DEBUG && res.status === Number(process.env.OW_PROPERTY_DEBUG)) process.stdout.write(`${op.operationId} ${sent.body?.slice(0, 300)} → ${text.slice(0, 300)}\n`);
    const said = `${res.status} ${res.headers.get('content-type') ?? '(no type)'} ${text.slice(0, 300)}`;
    const status = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((s) => s in op.responses);
    if (!status) return `status ${res.status} is not documented: ${said}`;
    const soapFault = op.operationId === 'pushResultSoap' && res.status === 500;
    if (res.status >= 500 && !soapFault) return `a ${res.status}: ${said}`;
    const content = op.responses[status]!.content;
    if (!content) return text === '' ? undefined : `a body where none is documented: ${said}`;
    const media = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!(media in content)) return `content type ${media} is not documented for ${status} (${Object.keys(content).join(', ')}): ${said}`;
    if (media !== 'application/json') return undefined;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `not JSON: ${said}`;
    }
    harvest(body, op.operationId);
    const why = contract.invalid(`#/paths/${pointerSegment(op.path)}/${op.method.toLowerCase()}/responses/${status}/content/${pointerSegment(media)}/schema`, body);
    return why ? `the body is not the documented one (${why}): ${said}` : undefined;
  }

  it('answers a few thousand generated requests, from every kind of caller, only as documented, and stays up', async () => {
    const failures: string[] = [];
    // Reads first, then writes, so that what a write changes is read afterwards too.
    const operations = [...contract.operations].sort((a, b) => Number(a.method !== 'GET') - Number(b.method !== 'GET'));
    for (const op of operations) {
      figures.operations++;
      const run = await fc.check(
        fc.asyncProperty(generated(op), async (g) => {
          const sent = request(op, g);
          const why = await undocumented(op, sent);
          if (why) throw new Error(`${sent.method} ${sent.url} as ${g.caller}${sent.body ? ` with ${sent.body.slice(0, 200)}` : ''}: ${why}`);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (run.failed) failures.push(`${op.operationId} (seed ${SEED}, path ${run.counterexamplePath}): ${(run.errorInstance as Error)?.message ?? String(run.errorInstance)}`);
    }
    const health = await fetch(`${gateway.url}/healthz`);
    // The figures, for the record: requests, operations, answers by status.
    process.stdout.write(`openapi properties: seed ${SEED}, ${figures.requests} requests, ${figures.operations} operations, statuses ${JSON.stringify(Object.fromEntries(figures.byStatus))}, ${failures.length} failing operations\n`);
    if (process.env.OW_PROPERTY_DEBUG) process.stdout.write(`${JSON.stringify(Object.fromEntries(figures.byOperation))}\n`);
    expect(failures).toEqual([]);
    expect(health.status).toBe(200);
    expect(figures.requests).toBeGreaterThan(1000);
  }, 300_000);
});

void sampleCase;
