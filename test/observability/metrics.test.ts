/**
 * /metrics after a small mixed load: the counters equal what the test made happen, per system; the
 * backlog gauges follow a paused system, an open circuit and dead letters; no label holds a case id
 * or an ID number.
 */
import { admin, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, eventually, writeConfig, type LegacyServer } from '../support/harness';
import type { RunningGateway } from '../../src/gateway';
import { histogramCount, labelValues, sample, scrape } from './prom';

let ok: LegacyServer, refuse: LegacyServer, down: LegacyServer, flaky: LegacyServer, held: LegacyServer, intake: LegacyServer;
let gateway: RunningGateway;
const caseIds: string[] = [];

beforeAll(async () => {
  let receipt = 0;
  ok = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: `R-${++receipt}` } }));
  refuse = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '1', msg: '材料不全' }));
  down = await legacyServer((_req, _n, res) => replyJson(res, 500, { msg: 'down' }));
  flaky = await legacyServer((_req, _n, res) => replyJson(res, 503, { msg: 'busy' }));
  held = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: 'H-1' } }));
  intake = await legacyServer((_req, _n, res) => replyJson(res, 200, {}));
  const dir = writeConfig(
    [
      restSystem('m-ok', ok.url, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected"}', inboundToken: 'tok-ok' } }),
      restSystem('m-refuse', refuse.url),
      restSystem('m-down', down.url, { retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } }, circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 } }),
      restSystem('m-flaky', flaky.url, { retry: { attempts: 5, backoff: { type: 'fixed', delayMs: 10 } }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } }),
      restSystem('m-held', held.url),
    ],
    { routes: [{ itemCode: '*', targets: ['m-ok'] }], unrouted: 'reject' },
    { intake: { callbackUrl: `${intake.url}/callbacks`, callbackSecret: 'cb-secret' } },
  );
  gateway = await startTestGateway(dir, { options: { backlogCacheMs: 0 } });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([ok, refuse, down, flaky, held, intake].map((s) => s?.close()));
});

async function send(targets: string[]): Promise<string> {
  const c = sampleCase({ targets });
  const answer = await submit(gateway, c);
  expect(answer.status).toBe(202);
  caseIds.push(String(c.caseId));
  return String(c.caseId);
}

test('counters equal the outcomes produced, per system; gauges follow paused, circuit and dead letters', async () => {
  expect((await admin(gateway, 'POST', '/systems/m-held/pause', { reason: 'test' })).status).toBe(200);
  const okCases = [await send(['m-ok']), await send(['m-ok']), await send(['m-ok'])];
  await send(['m-refuse']);
  await send(['m-refuse']);
  await send(['m-down']);
  await send(['m-flaky']);
  await send(['m-held']);
  await send(['m-held']);

  await eventually(async () => {
    const m = await scrape(gateway.url);
    expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-ok', outcome: 'delivered' })).toBe(3);
    expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-refuse', outcome: 'rejected' })).toBe(2);
    expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-down', outcome: 'dead' })).toBe(1);
    expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-flaky', outcome: 'retry' })).toBe(1);
  }, 15_000);

  // Two results pushed home, one twice, and one for a case nobody knows.
  for (const caseId of okCases.slice(0, 2)) expect((await pushResult(gateway, 'm-ok', { ywh: caseId, jg: '1' }, 'tok-ok')).status).toBe(200);
  expect((await pushResult(gateway, 'm-ok', { ywh: okCases[0], jg: '1' }, 'tok-ok')).status).toBe(200);
  expect((await pushResult(gateway, 'm-ok', { ywh: 'QZ-UNKNOWN-1', jg: '1' }, 'tok-ok')).status).toBe(404);

  // 3 delivered + 2 completed (m-ok), 2 rejected, 1 dead: 8 callbacks acknowledged.
  await eventually(async () => expect(intake.received.length).toBe(8), 15_000);

  const m = await eventually(async () => {
    const m = await scrape(gateway.url);
    expect(sample(m, 'ow_callbacks_total', { outcome: 'delivered' })).toBe(8);
    return m;
  });
  // Deliveries, per system and outcome, and nothing else counted.
  expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-ok' })).toBe(3);
  expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-refuse' })).toBe(2);
  expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-down', outcome: 'retry' })).toBe(1);
  expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'm-held' })).toBe(0);
  expect(m.find((f) => f.name === 'ow_delivery_seconds')?.type).toBe('HISTOGRAM');
  const registry = gateway.metrics.registry;
  expect(await histogramCount(registry, 'ow_delivery_seconds', { systemId: 'm-ok', outcome: 'answered' })).toBe(3);
  expect(await histogramCount(registry, 'ow_delivery_seconds', { systemId: 'm-down', outcome: 'failed' })).toBe(2);
  expect(await histogramCount(registry, 'ow_accept_to_delivered_seconds', { systemId: 'm-ok' })).toBe(3);
  expect(await histogramCount(registry, 'ow_accept_to_completed_seconds', { systemId: 'm-ok' })).toBe(2);
  // Results, by source and outcome.
  expect(sample(m, 'ow_results_total', { systemId: 'm-ok', source: 'push', outcome: 'recorded' })).toBe(2);
  expect(sample(m, 'ow_results_total', { systemId: 'm-ok', source: 'push', outcome: 'duplicate' })).toBe(1);
  expect(sample(m, 'ow_results_total', { systemId: 'm-ok', source: 'push', outcome: 'unmatched' })).toBe(1);
  // Callbacks, by the system of the event.
  expect(sample(m, 'ow_callbacks_total', { systemId: 'm-ok', event: 'delivery.delivered', outcome: 'delivered' })).toBe(3);
  expect(sample(m, 'ow_callbacks_total', { systemId: 'm-ok', event: 'delivery.completed', outcome: 'delivered' })).toBe(2);
  expect(sample(m, 'ow_callbacks_total', { systemId: 'm-refuse', event: 'delivery.rejected' })).toBe(2);
  expect(sample(m, 'ow_callbacks_total', { systemId: 'm-down', event: 'delivery.dead' })).toBe(1);
  // HTTP, by route pattern and status.
  expect(sample(m, 'ow_http_requests_total', { method: 'POST', route: '/api/v1/cases', status: '202' })).toBe(9);
  expect(sample(m, 'ow_http_requests_total', { method: 'POST', route: '/api/v1/results/:systemId', status: '200' })).toBe(3);
  expect(sample(m, 'ow_http_requests_total', { method: 'POST', route: '/api/v1/results/:systemId', status: '404' })).toBe(1);
  expect(sample(m, 'ow_cases_total', { answer: 'accepted' })).toBe(9);

  // Gauges: a paused system with its two cases waiting, an open circuit, a dead letter, an unmatched result.
  expect(sample(m, 'ow_system_paused', { systemId: 'm-held' })).toBe(1);
  expect(sample(m, 'ow_system_paused', { systemId: 'm-ok' })).toBe(0);
  expect(sample(m, 'ow_queue_jobs', { systemId: 'm-held', state: 'waiting' })).toBe(2);
  expect(sample(m, 'ow_queue_oldest_waiting_seconds', { systemId: 'm-held' })).toBeGreaterThan(0);
  expect(sample(m, 'ow_queue_oldest_waiting_seconds', { systemId: 'm-ok' })).toBe(0);
  expect(sample(m, 'ow_circuit_state', { systemId: 'm-flaky', state: 'open' })).toBe(1);
  expect(sample(m, 'ow_circuit_state', { systemId: 'm-ok', state: 'closed' })).toBe(1);
  expect(sample(m, 'ow_dead_letters', { systemId: 'm-down' })).toBe(1);
  expect(sample(m, 'ow_queue_jobs', { systemId: 'm-down', state: 'failed' })).toBe(1);
  expect(sample(m, 'ow_dead_letters', { systemId: 'm-ok' })).toBe(0);
  expect(sample(m, 'ow_unmatched_results', { systemId: 'm-ok' })).toBe(1);
  expect(sample(m, 'ow_window_open', { systemId: 'm-ok' })).toBe(1);
  expect(sample(m, 'ow_system_info', { systemId: 'm-ok', level: 'city', protocol: 'rest' })).toBe(1);
  expect(sample(m, 'ow_backlog_up')).toBe(1);

  // Resumed, the paused system's cases go and its gauges follow.
  await admin(gateway, 'POST', '/systems/m-held/resume', { reason: 'test' });
  await eventually(async () => {
    const after = await scrape(gateway.url);
    expect(sample(after, 'ow_system_paused', { systemId: 'm-held' })).toBe(0);
    expect(sample(after, 'ow_queue_jobs', { systemId: 'm-held', state: 'waiting' })).toBe(0);
    expect(sample(after, 'ow_delivery_attempts_total', { systemId: 'm-held', outcome: 'delivered' })).toBe(2);
  });

  // No label value is a case id, holds one, or looks like an ID or phone number.
  const values = labelValues(await scrape(gateway.url));
  expect(values.length).toBeGreaterThan(50);
  for (const value of values) {
    for (const caseId of [...caseIds, 'QZ-UNKNOWN-1']) expect(value).not.toContain(caseId);
    expect(value).not.toMatch(/\d{11,}/);
    expect(value).not.toContain('330802199001011234');
  }
});
