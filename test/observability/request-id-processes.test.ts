/**
 * One request id across the OS: the built gateway (`node dist/src/main.js`) as two processes, an
 * OW_ROLE=api one that takes the case and an OW_ROLE=worker one that delivers it and sends the
 * callback, on one real Redis of their own (each its own data folder: the embedded ledger serves
 * one process). The intake platform's X-Request-Id is in every JSON line either process writes
 * about the case, in the legacy request and in the callback the intake platform receives.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, INTAKE_TOKEN, legacyServer, OPS_TOKEN, replyJson, restSystem, sampleCase, writeConfig, type LegacyServer } from '../support/harness';
import { READY_WAIT_MS, spawnGateway, stopGateway, untilReady, type GatewayProcess } from '../support/gateway-process';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { sample, scrape } from './prom';

let redis: TestRedis, legacy: LegacyServer, intake: LegacyServer;
let api: GatewayProcess, worker: GatewayProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  legacy = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: 'SL-RID-1' } }));
  intake = await legacyServer((_req, _n, res) => replyJson(res, 200, {}));
  const configDir = writeConfig([restSystem('city-rid', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-rid'] }], unrouted: 'reject' });
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-request-id-'));
  const env = {
    OW_CONFIG_DIR: configDir,
    REDIS_URL: redis.url,
    OW_INTAKE_TOKEN: INTAKE_TOKEN,
    OW_OPS_TOKEN: OPS_TOKEN,
    OW_CALLBACK_URL: `${intake.url}/callbacks`,
    OW_CALLBACK_SECRET: 'rid-callback-secret',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    OW_SHUTDOWN_GRACE_MS: '1000',
    // Request ids have nothing to do with the ledger, and two embedded ones starting at once take
    // minutes on a loaded two-core machine (PGlite's initdb and WebAssembly compile in each process).
    OW_LEDGER: 'off',
  };
  [api, worker] = await Promise.all([spawnGateway('api', { ...env, OW_ROLE: 'api' }, logs), spawnGateway('worker', { ...env, OW_ROLE: 'worker' }, logs)]);
  await Promise.all([untilReady(api), untilReady(worker)]);
}, READY_WAIT_MS + 30_000);

afterAll(async () => {
  await Promise.all([stopGateway(api), stopGateway(worker)]);
  await legacy?.close();
  await intake?.close();
  await redis?.stop();
});

type Line = Record<string, unknown>;

/** The JSON lines of a process's output. */
function lines(p: GatewayProcess): Line[] {
  return fs
    .readFileSync(p.log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

test('the intake X-Request-Id is on every line of the case in the api and the worker process, the legacy request and the callback', async () => {
  const requestId = 'intake-os-2026.12.02:0042';
  const c = sampleCase({ caseId: `QZ-RID-${Date.now()}` });
  const res = await fetch(`${api.url}/api/v1/cases`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE_TOKEN}`, 'X-Request-Id': requestId },
    body: JSON.stringify(c),
  });
  expect(res.status).toBe(202);
  expect(res.headers.get('x-request-id')).toBe(requestId);

  // The callback reaches the intake platform with the id, from the worker process.
  await eventually(async () => expect(intake.received.length).toBe(1), 30_000);
  const callback = intake.received[0]!;
  expect(callback.json).toMatchObject({ event: 'delivery.delivered', caseId: c.caseId, systemId: 'city-rid' });
  expect(callback.headers['x-request-id']).toBe(requestId);
  expect(legacy.received).toHaveLength(1);
  expect(legacy.received[0]!.headers['x-request-id']).toBe(requestId);

  // "callback delivered" is written once the intake platform's answer is back.
  const { apiLines, workerLines } = await eventually(async () => {
    const apiLines = lines(api).filter((l) => l.caseId === c.caseId || l.requestId === requestId);
    const workerLines = lines(worker).filter((l) => l.caseId === c.caseId || l.requestId === requestId);
    expect(apiLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['case accepted', 'request answered']));
    expect(workerLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['delivered', 'callback delivered']));
    return { apiLines, workerLines };
  }, 15_000);

  // Two processes, told apart by the pid each line carries.
  const pids = (ls: Line[]) => [...new Set(ls.map((l) => l.pid))];
  expect(pids(apiLines)).toEqual([api.pid]);
  expect(pids(workerLines)).toEqual([worker.pid]);
  // Every line of the case, in either process, carries the id; the worker's name the system too.
  for (const line of [...apiLines, ...workerLines]) expect({ msg: line.msg, requestId: line.requestId }).toEqual({ msg: line.msg, requestId });
  for (const line of workerLines) expect({ msg: line.msg, systemId: line.systemId, caseId: line.caseId }).toEqual({ msg: line.msg, systemId: 'city-rid', caseId: c.caseId });
  // The attempt's one line: its number, duration and outcome; the callback's line: the event.
  expect(workerLines.find((l) => l.msg === 'delivered')).toMatchObject({ attempt: 1, outcome: 'delivered', durationMs: expect.any(Number) });
  expect(workerLines.find((l) => l.msg === 'callback delivered')).toMatchObject({ requestId, caseId: c.caseId });
  // The api sent nothing: no delivery line of its own.
  expect(apiLines.some((l) => l.msg === 'delivered')).toBe(false);

  // Each process counts what it did; the backlog gauges (the same Redis seen by both) only the api exports.
  const [apiMetrics, workerMetrics] = await Promise.all([scrape(api.url), scrape(worker.url)]);
  expect(sample(apiMetrics, 'ow_cases_total', { answer: 'accepted' })).toBe(1);
  expect(sample(workerMetrics, 'ow_cases_total')).toBe(0);
  expect(sample(workerMetrics, 'ow_delivery_attempts_total', { systemId: 'city-rid', outcome: 'delivered' })).toBe(1);
  expect(sample(apiMetrics, 'ow_delivery_attempts_total')).toBe(0);
  expect(sample(workerMetrics, 'ow_callbacks_total', { systemId: 'city-rid', event: 'delivery.delivered', outcome: 'delivered' })).toBe(1);
  expect(apiMetrics.map((f) => f.name)).toEqual(expect.arrayContaining(['ow_queue_jobs', 'ow_circuit_state', 'ow_callback_backlog']));
  expect(workerMetrics.map((f) => f.name).filter((n) => ['ow_queue_jobs', 'ow_circuit_state', 'ow_callback_backlog', 'ow_backlog_up'].includes(n))).toEqual([]);
  expect(sample(apiMetrics, 'ow_system_info', { systemId: 'city-rid' })).toBe(1);
}, 60_000);
