/**
 * The ledger's PostgreSQL goes away during a small load: intake never notices, finished cases wait
 * in Redis, /readyz says so, and once it is back the sweep catches up with every case.
 */
import Redis from 'ioredis';
import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, legacyServer, pushResult, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';
import { startTestPostgres, type TestPostgres } from './postgres';
import { LEDGER_WAIT_MS } from './backends';

const RESULT_TOKEN = 'result-token-outage';
let pg: TestPostgres;
let legacy: LegacyServer;
let redis: Redis;
let gateway: RunningGateway;
const prefix = uniquePrefix();

beforeAll(async () => {
  pg = await startTestPostgres();
  legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
  redis = new Redis(redisUrl());
  const configDir = writeConfig(
    [restSystem('city-a', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: RESULT_TOKEN } })],
    { routes: [{ itemCode: '*', targets: ['city-a'] }] },
    { retention: { hot: '0s', sweepEvery: '200ms' } },
  );
  gateway = await startTestGateway(configDir, { keyPrefix: prefix, ledger: { url: await pg.database() } });
}, LEDGER_WAIT_MS);
afterAll(async () => {
  await gateway?.stop();
  redis?.disconnect();
  await legacy?.close();
  await pg?.destroy();
});

const ready = async () => (await (await fetch(`${gateway.url}/readyz`)).json()) as { status: string; ledger: { healthy: boolean; lastError?: string } };

it('when PostgreSQL is down during a load, then nothing is lost, intake stays open, and the sweep catches up once it is back', async () => {
  expect((await ready()).ledger.healthy).toBe(true);
  await pg.stop();
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const c = sampleCase();
    ids.push(String(c.caseId));
    expect((await submit(gateway, c)).status).toBe(202);
  }
  await eventually(async () => {
    for (const id of ids) expect((await caseView(gateway, id)).body.deliveries[0].status).toBe('delivered');
  });
  for (const id of ids) expect((await pushResult(gateway, 'city-a', { ywh: id }, RESULT_TOKEN)).status).toBe(200);

  // The sweep tries, fails, and says so; readiness stays 200 and every case is still in Redis.
  await eventually(async () => expect((await ready()).ledger.healthy).toBe(false));
  const during = await ready();
  expect(during.status).toBe('ready');
  expect(during.ledger.lastError).toBeTruthy();
  await new Promise((r) => setTimeout(r, 600));
  for (const id of ids) {
    const view = await caseView(gateway, id);
    expect(view.body.status).toBe('completed');
    expect(view.body.archived).toBeUndefined();
  }

  await pg.start();
  await eventually(async () => {
    for (const id of ids) expect(await redis.exists(`${prefix}:{${id}}:case`)).toBe(0);
  }, 20_000);
  expect((await ready()).ledger.healthy).toBe(true);
  for (const id of ids) expect((await caseView(gateway, id)).body).toMatchObject({ caseId: id, status: 'completed', archived: true });
  const rows = await gateway.ledger!.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_cases');
  expect(rows[0]!.n).toBe(30);
}, LEDGER_WAIT_MS);
