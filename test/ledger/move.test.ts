/**
 * A finished case leaves Redis for the ledger and is still answered, and the stats endpoint reads
 * the ledger: a real gateway, real Redis, real PostgreSQL and real PGlite, the sweep on its BullMQ
 * schedule.
 */
import Redis from 'ioredis';
import type { ArchivedCase } from '../../src/ledger/ledger';
import type { RunningGateway } from '../../src/gateway';
import { OPS_TOKEN, caseView, eventually, legacyServer, pushResult, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';
import { BACKENDS, LEDGER_WAIT_MS } from './backends';
import { startTestPostgres, type TestPostgres } from './postgres';

const RESULT_TOKEN = 'result-token-a';
let pg: TestPostgres;
let legacy: LegacyServer;
let redis: Redis;

beforeAll(async () => {
  pg = await startTestPostgres();
  legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
  redis = new Redis(redisUrl());
}, LEDGER_WAIT_MS);
afterAll(async () => {
  redis?.disconnect();
  await legacy?.close();
  await pg?.destroy();
});

function config(retention: Record<string, string>) {
  return writeConfig(
    [restSystem('city-a', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: RESULT_TOKEN } }), restSystem('prov-b', `${legacy.url}/cases`, { level: 'provincial' })],
    { routes: [{ itemCode: '*', targets: ['city-a'] }] },
    { retention },
  );
}

describe.each(BACKENDS)('moving finished cases to the ledger on $name', (backend) => {
  let gateway: RunningGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    gateway = await startTestGateway(config({ hot: '1s', ledger: '36500d', sweepEvery: '200ms' }), { keyPrefix: prefix, ...(await placeFor()) });
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());
  const placeFor = async () => {
    const place = await backend.place(pg);
    return { ledger: { url: place.url }, dataDir: place.dataDir };
  };

  it('when a case is completed, then after retention.hot it leaves Redis and is answered from the ledger, archived', async () => {
    const c = sampleCase();
    const caseId = String(c.caseId);
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    expect((await pushResult(gateway, 'city-a', { ywh: caseId, jg: '1', yj: '同意' }, RESULT_TOKEN)).status).toBe(200);
    const hot = (await caseView(gateway, caseId)).body;
    expect(hot.status).toBe('completed');
    expect(hot.archived).toBeUndefined();
    const receiptNo = hot.deliveries[0].receiptNo as string;

    await eventually(async () => expect(await redis.exists(`${prefix}:{${caseId}}:case`)).toBe(0), 15_000);
    const cold = await caseView(gateway, caseId);
    expect(cold.status).toBe(200);
    expect(cold.body).toEqual({ ...hot, archived: true });
    // Nothing of it is left in Redis: case keys, receipt index, finished job, the sweep's indexes.
    expect(await redis.keys(`${prefix}:{${caseId}}*`)).toEqual([]);
    expect(await redis.exists(`${prefix}:receipts:city-a:${receiptNo}`, `${prefix}:receipt:city-a:${receiptNo}`)).toBe(0);
    expect(await gateway.queues.queue('city-a').getJob(caseId)).toBeUndefined();
    expect(await redis.zscore(`${prefix}:ledger:finished`, caseId)).toBeNull();
    expect(await redis.zscore(`${prefix}:ledger:archived`, caseId)).toBeNull();
    expect(await gateway.ledger!.query('SELECT 1 FROM ledger_cases WHERE case_id = $1', [caseId])).toHaveLength(1);
  });

  it('when a case is still waiting for its result, then it stays in Redis and is not in the ledger', async () => {
    const c = sampleCase();
    const caseId = String(c.caseId);
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    await new Promise((r) => setTimeout(r, 1500)); // longer than retention.hot, several sweeps
    expect((await caseView(gateway, caseId)).body.archived).toBeUndefined();
    expect(await gateway.ledger!.query('SELECT 1 FROM ledger_cases WHERE case_id = $1', [caseId])).toHaveLength(0);
  });

  it('when asked for stats, then per system and Shanghai day they match the hand-computed fixture, as JSON and CSV', async () => {
    // Accepted 2026-10-08 09:00 and 23:30 Shanghai time (the second is 15:30Z, the same Shanghai day).
    const day1 = '2026-10-08T01:00:00.000Z';
    const day1late = '2026-10-08T15:30:00.000Z';
    const day2 = '2026-10-08T16:30:00.000Z'; // 2026-10-09 00:30 in Shanghai
    const plus = (iso: string, s: number) => new Date(Date.parse(iso) + s * 1000).toISOString();
    const fixture: [string, string, 'completed' | 'rejected' | 'dead', number | null, string][] = [
      // caseId, acceptedAt, status, seconds to the result, system
      ['ST-1', day1, 'completed', 100, 'city-a'],
      ['ST-2', day1, 'completed', 200, 'city-a'],
      ['ST-3', day1late, 'completed', 400, 'city-a'],
      ['ST-4', day1, 'rejected', null, 'city-a'],
      ['ST-5', day1, 'dead', null, 'prov-b'],
      ['ST-6', day2, 'completed', 50, 'city-a'],
    ];
    for (const [caseId, acceptedAt, status, took, systemId] of fixture) {
      const endedAt = plus(acceptedAt, took ?? 30);
      const archived: ArchivedCase = {
        record: { case: sampleCase({ caseId }) as never, hash: 'h', acceptedAt, targets: [systemId] },
        status: status === 'completed' ? 'completed' : 'failed',
        finishedAt: endedAt,
        deliveries: [
          {
            systemId,
            level: systemId === 'city-a' ? 'city' : 'provincial',
            status,
            attempts: 1,
            history: [],
            discarded: status === 'dead',
            endedAt,
            ...(status !== 'dead' ? { deliveredAt: plus(acceptedAt, 1) } : {}),
            ...(status === 'completed' ? { completedAt: endedAt } : {}),
          },
        ],
      };
      await gateway.ledger!.writeCase(archived);
    }
    const res = await fetch(`${gateway.url}/api/v1/admin/stats?from=2026-10-08&to=2026-10-09`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: unknown[] };
    // city-a on 10-08: ST-1, ST-2, ST-3 completed in 100, 200, 400 s → median 200; p90 = 200 + 0.8 × 200 = 360.
    expect(body.items).toEqual([
      { day: '2026-10-08', systemId: 'city-a', level: 'city', accepted: 4, delivered: 4, completed: 3, rejected: 1, dead: 0, medianSeconds: 200, p90Seconds: 360 },
      { day: '2026-10-08', systemId: 'prov-b', level: 'provincial', accepted: 1, delivered: 0, completed: 0, rejected: 0, dead: 1, medianSeconds: null, p90Seconds: null },
      { day: '2026-10-09', systemId: 'city-a', level: 'city', accepted: 1, delivered: 1, completed: 1, rejected: 0, dead: 0, medianSeconds: 50, p90Seconds: 50 },
    ]);
    const filtered = await fetch(`${gateway.url}/api/v1/admin/stats?from=2026-10-08&to=2026-10-08&level=provincial&format=csv`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
    expect(filtered.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await filtered.text()).toBe('day,systemId,level,accepted,delivered,completed,rejected,dead,medianSeconds,p90Seconds\r\n2026-10-08,prov-b,provincial,1,0,0,0,1,,\r\n');
    const csv = await fetch(`${gateway.url}/api/v1/admin/stats?from=2026-10-09&to=2026-10-09`, { headers: { Authorization: `Bearer ${OPS_TOKEN}`, Accept: 'text/csv' } });
    expect((await csv.text()).split('\r\n')[1]).toBe('2026-10-09,city-a,city,1,1,1,0,0,50,50');
    const bad = await fetch(`${gateway.url}/api/v1/admin/stats?from=yesterday`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('when the sweep runs at a given time, then it purges exactly the cases finished before retention.ledger', async () => {
    const keep = 36500 * 86_400_000;
    const now = new Date('2126-01-01T00:00:00.000Z');
    const cutoff = now.getTime() - keep;
    const at = (ms: number) => new Date(ms).toISOString();
    const base = { hash: 'h', targets: ['city-a'] };
    for (const [caseId, finished] of [['PG-old', cutoff - 1], ['PG-edge', cutoff], ['PG-new', cutoff + 1]] as const) {
      await gateway.ledger!.writeCase({ record: { case: sampleCase({ caseId }) as never, acceptedAt: at(finished - 60_000), ...base }, status: 'completed', finishedAt: at(finished), deliveries: [] });
    }
    const report = await gateway.sweep!.sweep(now);
    expect(report.error).toBeUndefined();
    expect(report.purged?.cases).toBeGreaterThanOrEqual(1);
    const left = await gateway.ledger!.query<{ case_id: string }>("SELECT case_id FROM ledger_cases WHERE case_id LIKE 'PG-%' ORDER BY case_id");
    expect(left.map((r) => r.case_id)).toEqual(['PG-edge', 'PG-new']);
  });
});
