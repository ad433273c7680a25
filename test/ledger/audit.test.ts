/**
 * The audit trail and the shared-data look-ups outlive Redis: written to a stream, listed at once,
 * drained to the ledger by the sweep (idempotently), still listed after a FLUSHDB and a restart,
 * with the person filter (a keyed hash whose key the ledger keeps too). A resubmission of a case that
 * has left Redis is answered from the ledger. Real Redis (one of this file's own: it is flushed),
 * real PostgreSQL and PGlite, a real stand-in look-up source.
 */
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import YAML from 'yaml';
import type { RunningGateway } from '../../src/gateway';
import { SWEEP_QUEUE } from '../../src/ledger/sweep';
import { drainStream, parseEntry } from '../../src/ledger/audit';
import { INTAKE_TOKEN, VIEWER_TOKEN, admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { BACKENDS, LEDGER_WAIT_MS } from './backends';
import { startTestPostgres, type TestPostgres } from './postgres';

const RESULT_TOKEN = 'result-token-audit';
const PERSON = { idNumber: '330802199001011234', name: '张三' };
const OTHER = { idNumber: '330802198505052345', name: '李四' };
let pg: TestPostgres;
let testRedis: TestRedis;
let redis: Redis;
let legacy: LegacyServer;

beforeAll(async () => {
  pg = await startTestPostgres();
  testRedis = await startTestRedis();
  redis = new Redis(testRedis.url);
  legacy = await legacyServer((req, n, res) => {
    if (req.url.startsWith('/lookup')) return replyJson(res, 200, { code: '0', data: { status: '已婚' } });
    replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
  });
}, LEDGER_WAIT_MS);
afterAll(async () => {
  redis?.disconnect();
  await testRedis?.stop();
  await legacy?.close();
  await pg?.destroy();
});

/** A delivery system and a look-up source, and the sweep fast; retention.ledger short, to show the audit's floor. */
function config(): string {
  const dir = writeConfig(
    [
      restSystem('city-a', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: RESULT_TOKEN } }),
      {
        id: 'city-civil',
        name: '市民政局',
        level: 'city',
        protocol: 'rest',
        endpoint: `${legacy.url}/civil`,
        lookup: {
          kinds: ['marriage'],
          endpoint: `${legacy.url}/lookup`,
          request: '{"sfzh": idNumber, "ywh": caseId}',
          response: { found: 'code = "0"', data: 'data', notFound: 'code = "404"', error: 'msg' },
          timeoutMs: 3000,
        },
      },
    ],
    { routes: [{ itemCode: '*', targets: ['city-a'] }] },
    { retention: { hot: '1s', ledger: '1d', sweepEvery: '200ms' } },
  );
  fs.writeFileSync(
    path.join(dir, 'shared-data.yaml'),
    YAML.stringify({ documents: { marriage: { name: '婚姻登记信息', sources: ['city-civil'], cacheTtl: '0s' } }, purposes: [{ itemCode: '330800-FG-*', name: '房改核查', documents: ['marriage'] }] }),
  );
  return dir;
}

async function lookupQuery(gateway: RunningGateway, body: unknown): Promise<number> {
  const res = await fetch(`${gateway.url}/api/v1/shared-data/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE_TOKEN}`, 'X-OW-Operator': encodeURIComponent('窗口 王五') },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const count = async (gateway: RunningGateway, sql: string, params: string[] = []) => (await gateway.ledger!.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]!.n;

describe.each(BACKENDS)('the audit trail and look-ups in the ledger on $name', (backend) => {
  let gateway: RunningGateway;
  let prefix: string;
  let place: { ledger: { url?: string }; dataDir: string };
  const start = async () => startTestGateway(configDir, { keyPrefix: prefix, redisUrl: testRedis.url, ...place });
  let configDir: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    configDir = config();
    const where = await backend.place(pg);
    place = { ledger: { url: where.url }, dataDir: where.dataDir };
    gateway = await start();
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());

  it('when ops act and look-ups are made, then they are listed at once, drained once, and still listed after a FLUSHDB and a restart', async () => {
    const who = `值班员 ${backend.name}`;
    const headers = { 'X-OW-Operator': encodeURIComponent(who) };
    expect((await admin(gateway, 'POST', '/systems/city-a/pause', { reason: '系统维护' }, headers)).status).toBe(200);
    expect((await admin(gateway, 'POST', '/systems/city-a/resume', {}, headers)).status).toBe(200);
    // Look-ups are for a case the gateway holds.
    const kase = sampleCase();
    const caseId = String(kase.caseId);
    expect((await submit(gateway, kase)).status).toBe(202);
    expect(await lookupQuery(gateway, { caseId, purpose: '330800-FG-001', ...PERSON, documents: ['marriage'] })).toBe(200);
    expect(await lookupQuery(gateway, { caseId, purpose: '330800-RS-001', ...PERSON, documents: ['marriage'] })).toBe(403);

    // Listed at once, whether the sweep has drained them yet or not.
    const audit = async (query = '') => (await admin(gateway, 'GET', `/audit?who=${encodeURIComponent(who)}${query}`)).body;
    const lookups = async (query: Record<string, string>) => (await admin(gateway, 'GET', `/shared-data/lookups?${new URLSearchParams(query)}`)).body.items;
    const first = await audit();
    expect(first.items.map((e: { action: string }) => e.action)).toEqual(['system.resume', 'system.pause']);
    const byCase = await lookups({ caseId });
    expect(byCase.map((l: { outcome: string }) => l.outcome)).toEqual(['refused', 'answered']);

    // Drained: the streams are empty and the ledger holds each entry once.
    await eventually(async () => {
      expect(await redis.xlen(`${prefix}:audit:log`)).toBe(0);
      expect(await redis.xlen(`${prefix}:audit:shared-data`)).toBe(0);
    }, 15_000);
    expect(await count(gateway, 'ledger_audit WHERE who LIKE $1', [`${who}%`])).toBe(2);
    expect(await count(gateway, 'ledger_lookups WHERE case_id = $1', [caseId])).toBe(2);
    expect(await audit()).toEqual(first);
    expect(await lookups({ caseId })).toEqual(byCase);
    // Never the ID number in the ledger: its mask, and a keyed hash.
    const stored = JSON.stringify(await gateway.ledger!.query('SELECT * FROM ledger_lookups WHERE case_id = $1', [caseId]));
    expect(stored).not.toContain(PERSON.idNumber);
    expect(stored).toContain('330*************34');

    // Redis loses everything; a restarted gateway still lists both trails, and finds the person.
    await redis.flushdb();
    // The sweep's schedule went with it: the running gateway puts it back by itself.
    await eventually(async () => expect(await redis.exists(`${prefix}:bull:${SWEEP_QUEUE}:repeat`)).toBe(1), 15_000);
    await gateway.stop();
    gateway = await start();
    expect(await audit()).toEqual(first);
    expect((await audit('&action=system.pause')).items).toEqual([first.items[1]]);
    const paged = await audit('&limit=1');
    expect(paged.items).toEqual([first.items[0]]);
    expect((await audit(`&limit=1&cursor=${paged.next}`)).items).toEqual([first.items[1]]);
    expect(await lookups({ caseId })).toEqual(byCase);
    expect(await lookups({ person: PERSON.idNumber, caseId })).toEqual(byCase);
    expect(await lookups({ person: OTHER.idNumber, caseId })).toEqual([]);
    expect(await lookups({ purpose: '330800-RS-001', caseId })).toEqual([byCase[0]]);

    // A new entry after the flush is listed before the older ones, from the stream, at once.
    expect((await admin(gateway, 'POST', '/systems/city-a/pause', {}, headers)).status).toBe(200);
    expect((await audit()).items.map((e: { action: string }) => e.action)).toEqual(['system.pause', 'system.resume', 'system.pause']);

    // retention.ledger is 1d, but audit entries and look-ups are network logs: kept 180 days at least.
    const day = 86_400_000;
    const month = await gateway.sweep!.sweep(new Date(Date.now() + 30 * day));
    expect(month.purged).toMatchObject({ audit: 0, lookups: 0 });
    expect(await count(gateway, 'ledger_lookups WHERE case_id = $1', [caseId])).toBe(2);
    const later = await gateway.sweep!.sweep(new Date(Date.now() + 181 * day));
    expect(later.purged!.lookups).toBeGreaterThanOrEqual(2);
    expect(await count(gateway, 'ledger_audit WHERE who LIKE $1', [`${who}%`])).toBe(0);
  }, 90_000);

  it('when a drain is repeated (a crash before the XDEL, or run twice), then nothing is written twice', async () => {
    const refuseNothing = (entry: unknown) => Promise.reject(new Error(`nothing here is refused: ${JSON.stringify(entry)}`));
    const key = `${prefix}:test-drain`;
    const who = `drain ${backend.name} ${Date.now()}`;
    for (let i = 0; i < 3; i++) await redis.xadd(key, '*', 'entry', JSON.stringify({ at: new Date().toISOString(), who, action: 'system.pause', target: `city-${i}` }));
    const ledger = gateway.ledger!;
    // Written and committed, then the process "dies" before the stream is trimmed.
    await expect(
      drainStream(redis, key, async (entries) => {
        await ledger.writeAudit(entries);
        throw new Error('died before XDEL');
      }, refuseNothing),
    ).rejects.toThrow('died before XDEL');
    expect(await redis.xlen(key)).toBe(3);
    expect(await drainStream(redis, key, (entries) => ledger.writeAudit(entries), refuseNothing)).toBe(3);
    expect(await redis.xlen(key)).toBe(0);
    expect(await drainStream(redis, key, (entries) => ledger.writeAudit(entries), refuseNothing)).toBe(0);
    // The same entries again (as two racing ticks would see them): nothing new.
    const rows = await ledger.readAudit({ who, limit: 10 });
    expect(rows).toHaveLength(3);
    expect(await ledger.writeAudit(rows)).toBe(0);
    expect(await count(gateway, 'ledger_audit WHERE who = $1', [who])).toBe(3);
    // An entry that does not parse is kept as what it was, not lost and not a stuck drain.
    expect(parseEntry('1700000000000-0', ['entry', '{not json'])).toMatchObject({ action: 'unreadable', detail: '{not json', at: '2023-11-14T22:13:20.000Z' });
  });

  it('when a case that has left Redis is sent again, then identical is 200 from the ledger and changed is 409, and Redis stays empty of it', async () => {
    await admin(gateway, 'POST', '/systems/city-a/resume', {}); // the test before left it paused
    const c = sampleCase();
    const caseId = String(c.caseId);
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    expect((await pushResult(gateway, 'city-a', { ywh: caseId }, RESULT_TOKEN)).status).toBe(200);
    await eventually(async () => expect(await redis.exists(`${prefix}:{${caseId}}:case`)).toBe(0), 15_000);
    const sent = legacy.received.length;

    const again = await submit(gateway, c);
    expect(again).toEqual({ status: 200, body: { caseId, status: 'accepted', deliveries: [{ systemId: 'city-a', status: 'completed' }] } });
    const changed = await submit(gateway, { ...c, itemName: '另一个事项' });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('case_conflict');
    expect(await redis.keys(`${prefix}:{${caseId}}*`)).toEqual([]);
    expect((await caseView(gateway, caseId)).body).toMatchObject({ caseId, archived: true, status: 'completed' });
    await new Promise((r) => setTimeout(r, 300));
    expect(legacy.received.length).toBe(sent); // nothing delivered again
    // The gateway still holds it, in the ledger: its records may still be looked up, for its own item only.
    expect(await lookupQuery(gateway, { caseId, purpose: String(c.itemCode), ...PERSON, documents: ['marriage'] })).toBe(200);
    expect(await lookupQuery(gateway, { caseId, purpose: '330800-FG-002', ...PERSON, documents: ['marriage'] })).toBe(403);
  }, LEDGER_WAIT_MS);
});

describe('the stats without a ledger, and for a viewer', () => {
  it('when a viewer asks, then the stats answer as JSON and CSV; a gateway without a ledger says so with 503', async () => {
    const withLedger = await startTestGateway(config(), { keyPrefix: uniquePrefix(), redisUrl: testRedis.url, ledger: { url: await pg.database() } });
    const without = await startTestGateway(config(), { keyPrefix: uniquePrefix(), redisUrl: testRedis.url });
    try {
      const get = (g: RunningGateway, query: string, accept = 'application/json') => fetch(`${g.url}/api/v1/admin/stats${query}`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}`, Accept: accept } });
      const json = await get(withLedger, '?from=2026-10-08&to=2026-10-09');
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual({ from: '2026-10-07T16:00:00.000Z', to: '2026-10-09T16:00:00.000Z', items: [] });
      const csv = await get(withLedger, '?from=2026-10-08', 'text/csv');
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect((await csv.text()).split('\r\n')[0]).toBe('day,systemId,level,accepted,delivered,completed,rejected,dead,medianSeconds,p90Seconds');
      const none = await get(without, '');
      expect(none.status).toBe(503);
      expect(((await none.json()) as { error: { message: string } }).error.message).toContain('OW_LEDGER=off');
    } finally {
      await withLedger.stop();
      await without.stop();
    }
  }, LEDGER_WAIT_MS);
});

describe('the audit trail during a PostgreSQL outage', () => {
  let gateway: RunningGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    gateway = await startTestGateway(config(), { keyPrefix: prefix, redisUrl: testRedis.url, ledger: { url: await pg.database() } });
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());

  it('when PostgreSQL is down while ops act, then the entries wait in Redis, the listing says it cannot answer, and once it is back every entry is drained once', async () => {
    const who = `outage ${Date.now()}`;
    const headers = { 'X-OW-Operator': encodeURIComponent(who) };
    await pg.stop();
    try {
      for (let i = 0; i < 5; i++) {
        expect((await admin(gateway, 'POST', '/systems/city-a/pause', {}, headers)).status).toBe(200);
        expect((await admin(gateway, 'POST', '/systems/city-a/resume', {}, headers)).status).toBe(200);
      }
      await eventually(async () => expect(gateway.ledger!.healthy()).toBe(false), 15_000);
      expect(await redis.xlen(`${prefix}:audit:log`)).toBe(10);
      const during = await admin(gateway, 'GET', `/audit?who=${encodeURIComponent(who)}`);
      expect(during.status).toBe(503);
      expect(during.body.error.code).toBe('unavailable');
      // Intake does not wait for the ledger it knows is down.
      expect((await submit(gateway, sampleCase())).status).toBe(202);
    } finally {
      await pg.start();
    }
    await eventually(async () => expect(await redis.xlen(`${prefix}:audit:log`)).toBe(0), 20_000);
    expect(await count(gateway, 'ledger_audit WHERE who LIKE $1', [`${who}%`])).toBe(10);
    const listed = (await admin(gateway, 'GET', `/audit?who=${encodeURIComponent(who)}`)).body.items;
    expect(listed).toHaveLength(10);
    expect(listed.map((e: { action: string }) => e.action)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'system.resume' : 'system.pause')));
  }, 90_000);
});
