/**
 * One request id from intake to every log line of the case, in an api process and a worker process
 * (two gateways on one Redis), and into the callback (its X-Request-Id header). Request lines hold
 * no header and no body.
 */
import { capturingLogger, INTAKE_TOKEN, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, eventually, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RunningGateway } from '../../src/gateway';

let legacy: LegacyServer, intake: LegacyServer;
let api: RunningGateway, worker: RunningGateway;
const apiLog = capturingLogger();
const workerLog = capturingLogger();

beforeAll(async () => {
  legacy = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: 'R-77' } }));
  intake = await legacyServer((_req, _n, res) => replyJson(res, 200, {}));
  const dir = writeConfig([restSystem('l-sys', legacy.url)], { routes: [{ itemCode: '*', targets: ['l-sys'] }], unrouted: 'reject' }, { intake: { callbackUrl: `${intake.url}/cb`, callbackSecret: 'cb-secret' } });
  const keyPrefix = uniquePrefix();
  api = await startTestGateway(dir, { keyPrefix, log: apiLog.log, options: { role: 'api' } });
  worker = await startTestGateway(dir, { keyPrefix, log: workerLog.log, options: { backlogMetrics: false } });
});

afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await legacy?.close();
  await intake?.close();
});

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${api.url}/api/v1/cases`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE_TOKEN}`, ...headers }, body: JSON.stringify(body) });
}

test('a sane X-Request-Id follows the case into every line of both processes, the legacy request and the callback', async () => {
  const requestId = 'intake-2026.11.28:0001';
  const c = sampleCase();
  const res = await post(c, { 'X-Request-Id': requestId });
  expect(res.status).toBe(202);
  expect(res.headers.get('x-request-id')).toBe(requestId);

  await eventually(async () => expect(intake.received.length).toBe(1));
  const callback = intake.received[0]!;
  expect(callback.headers['x-request-id']).toBe(requestId);
  expect(legacy.received[0]!.headers['x-request-id']).toBe(requestId);

  // "callback delivered" is logged once the intake platform's answer is back, just after it received the callback.
  const { apiLines, workerLines } = await eventually(async () => {
    const api = parse(apiLog.lines).filter((l) => l.caseId === c.caseId || l.requestId === requestId);
    const worker = parse(workerLog.lines).filter((l) => l.caseId === c.caseId);
    expect(api.map((l) => l.msg)).toEqual(expect.arrayContaining(['case accepted', 'request answered']));
    expect(worker.map((l) => l.msg)).toEqual(expect.arrayContaining(['delivered', 'callback delivered']));
    return { apiLines: api, workerLines: worker };
  });
  for (const line of [...apiLines, ...workerLines]) expect(line.requestId).toBe(requestId);
  for (const line of workerLines) expect(line.systemId).toBe('l-sys');

  // One line per attempt, with its attempt number, duration and outcome.
  const attempt = workerLines.find((l) => l.msg === 'delivered')!;
  expect(attempt).toMatchObject({ attempt: 1, outcome: 'delivered', caseId: c.caseId, systemId: 'l-sys' });
  expect(typeof attempt.durationMs).toBe('number');

  // The request line: method, path, route, status, time; no header, no body, no personal number.
  const access = apiLines.find((l) => l.msg === 'request answered')!;
  expect(access.req).toEqual({ method: 'POST', path: '/api/v1/cases' });
  expect(access.route).toBe('/api/v1/cases');
  expect(access.res).toEqual({ statusCode: 202 });
  const all = [...apiLog.lines, ...workerLog.lines].join('\n');
  expect(all).not.toContain(INTAKE_TOKEN);
  expect(all).not.toContain('330802199001011234');
  expect(all).not.toContain('13800000000');
  expect(all).not.toContain('张三');
});

test('an insane or missing request id is replaced at the edge, on every answer', async () => {
  const bad = await post(sampleCase(), { 'X-Request-Id': 'has spaces and ünïcode' });
  expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const long = await post(sampleCase(), { 'X-Request-Id': 'a'.repeat(129) });
  expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const ok128 = await post(sampleCase(), { 'X-Request-Id': 'b'.repeat(128) });
  expect(ok128.headers.get('x-request-id')).toBe('b'.repeat(128));
  // Errors too: 401 before anything else, 404 for what does not exist.
  const unauthorized = await fetch(`${api.url}/api/v1/cases`, { method: 'POST', headers: { 'X-Request-Id': 'r-401' } });
  expect(unauthorized.status).toBe(401);
  expect(unauthorized.headers.get('x-request-id')).toBe('r-401');
  const missing = await fetch(`${api.url}/nowhere/330802199001011234`);
  expect(missing.status).toBe(404);
  expect(missing.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  await eventually(async () => {
    const line = parse(apiLog.lines).find((l) => l.requestId === missing.headers.get('x-request-id') && l.msg === 'request answered');
    expect(line?.req).toEqual({ method: 'GET', path: '/nowhere/330*************34' });
    expect(line?.route).toBe('unmatched');
  });
});

test('a caller that hangs up mid-body still leaves its request line, without its query string', async () => {
  // Half a body: the parser waits for the rest, the caller hangs up, and the 400 written then never
  // gets its 'finish' (the socket failed under it): the line must not depend on that event.
  const { port } = new URL(api.url);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST /api/v1/cases?idNumber=330802199001011234 HTTP/1.1\r\nHost: x\r\nX-Request-Id: r-gone\r\nAuthorization: Bearer ${INTAKE_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
      setTimeout(() => socket.destroy(), 200);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await eventually(async () => {
    const lines = parse(apiLog.lines).filter((l) => l.requestId === 'r-gone');
    // Answered (400, written to the kernel before the hang-up was seen) or aborted: a race, but one line either way.
    expect(lines).toHaveLength(1);
    expect(['request answered 400', 'request aborted 200']).toContain(`${String(lines[0]!.msg)} ${(lines[0]!.res as { statusCode: number }).statusCode}`);
    expect(lines[0]!.req).toEqual({ method: 'POST', path: '/api/v1/cases' });
  });
});

test('pino-pretty is the demo terminal\'s only: no module of the gateway imports it, so npm start writes JSON', () => {
  const importsPretty = (file: string) => /from 'pino-pretty'|require\('pino-pretty'\)/.test(fs.readFileSync(file, 'utf8'));
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const root = path.resolve(__dirname, '../..');
  const gateway = [...sources(path.join(root, 'src')), ...sources(path.join(root, 'adapters'))];
  expect(gateway.length).toBeGreaterThan(50);
  expect(gateway.filter(importsPretty)).toEqual([]);
  expect(importsPretty(path.join(root, 'scripts/demo.ts'))).toBe(true);
});
