/**
 * A row the ledger refuses is set aside, and the sweep goes on: a case and an audit entry holding a
 * NUL (written straight into Redis, past the gateway's doors, which refuse one) on PostgreSQL and
 * PGlite. Once, such a row failed every tick for good and nothing was archived again.
 */
import Redis from 'ioredis';
import type { RunningGateway } from '../../src/gateway';
import { auditStreamKey } from '../../src/admin/operations';
import type { Case } from '../../src/cases/model';
import {
  OPS_TOKEN, VIEWER_TOKEN, admin, caseView, eventually, legacyServer, pushResult, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';
import { BACKENDS, LEDGER_WAIT_MS } from './backends';
import { startTestPostgres, type TestPostgres } from './postgres';

const RESULT_TOKEN = 'result-token-quarantine';
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

/** A gateway on `backend`'s ledger with one system whose results are pushed; `retention` as the test needs it. */
async function startLedgerGateway(backend: (typeof BACKENDS)[number], prefix: string, retention: Record<string, string>): Promise<RunningGateway> {
  const place = await backend.place(pg);
  const config = writeConfig(
    [restSystem('city-a', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: RESULT_TOKEN } })],
    { routes: [{ itemCode: '*', targets: ['city-a'] }] },
    { retention },
  );
  return startTestGateway(config, { keyPrefix: prefix, ledger: { url: place.url }, dataDir: place.dataDir });
}

describe.each(BACKENDS)('a row the ledger refuses, on $name', (backend) => {
  let gateway: RunningGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    gateway = await startLedgerGateway(backend, prefix, { hot: '1s', ledger: '36500d', sweepEvery: '200ms' });
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());

  it('when a finished case and an audit entry hold a NUL, then they are set aside, listed, counted and alerted on, and every other case and entry is archived', async () => {
    const cases = [sampleCase(), sampleCase(), sampleCase()];
    const ids = cases.map((c) => String(c.caseId));
    for (const c of cases) expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => {
      for (const id of ids) expect((await caseView(gateway, id)).body.deliveries[0].status).toBe('delivered');
    });
    // Past the doors: the stored case and an audit entry get a NUL, as before the doors refused one.
    const poisoned = ids[1]!;
    const stored = (await gateway.store.getCase(poisoned))!.case;
    expect(await gateway.store.replaceCase(poisoned, { ...stored, applicant: { ...stored.applicant, name: '张\u0000三' } } as Case)).toBe(true);
    const streamId = await redis.xadd(auditStreamKey(prefix, 'ops'), '*', 'entry', JSON.stringify({ at: new Date().toISOString(), who: 'ops', action: 'system.pause', target: 'city-a', reason: 'night\u0000work' }));
    expect((await admin(gateway, 'POST', '/systems/city-a/pause', { reason: '夜间维护' })).status).toBe(200);
    expect((await admin(gateway, 'POST', '/systems/city-a/resume', { reason: '维护结束' })).status).toBe(200);
    for (const id of ids) expect((await pushResult(gateway, 'city-a', { ywh: id }, RESULT_TOKEN)).status).toBe(200);

    // The others leave Redis for the ledger, tick after tick, and the audit stream drains.
    for (const id of [ids[0]!, ids[2]!]) {
      await eventually(async () => expect((await caseView(gateway, id)).body).toMatchObject({ caseId: id, status: 'completed', archived: true }), 20_000);
    }
    await eventually(async () => expect(await redis.xlen(auditStreamKey(prefix, 'ops'))).toBe(0));
    const reasons = await gateway.ledger!.query<{ reason: string }>("SELECT reason FROM ledger_audit WHERE action IN ('system.pause', 'system.resume') ORDER BY id");
    expect(reasons.map((r) => r.reason)).toEqual(['夜间维护', '维护结束']);

    // The refused case stays in Redis, still answered; the refused entry is kept whole in the quarantine.
    const hot = await caseView(gateway, poisoned);
    expect(hot.body).toMatchObject({ caseId: poisoned, status: 'completed' });
    expect(hot.body.archived).toBeUndefined();
    expect(await gateway.ledger!.query('SELECT 1 FROM ledger_cases WHERE case_id = $1', [poisoned])).toHaveLength(0);
    const listed = await fetch(`${gateway.url}/api/v1/admin/ledger/quarantine`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}` } });
    expect(listed.status).toBe(200);
    const items = ((await listed.json()) as { items: Array<Record<string, unknown>> }).items;
    expect(items).toHaveLength(2);
    expect(items).toEqual(
      expect.arrayContaining([
        { kind: 'case', id: poisoned, at: expect.any(String), stage: 'finished', path: 'record.case.applicant.name', error: expect.stringMatching(/^22P05 unsupported Unicode escape sequence/) },
        { kind: 'audit', id: streamId, at: expect.any(String), path: 'reason', error: expect.stringMatching(/^22021 invalid byte sequence for encoding "UTF8": 0x00/), entry: expect.objectContaining({ reason: 'night\u0000work' }) },
      ]),
    );
    // Set aside once: later ticks leave it be, and the ledger is healthy all along.
    await new Promise((r) => setTimeout(r, 600));
    expect(await redis.zscore(`${prefix}:ledger:finished`, poisoned)).toBeNull();
    expect(await redis.hlen(`${prefix}:ledger:quarantine`)).toBe(2);
    const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as { ledger: { healthy: boolean } };
    expect(ready.ledger.healthy).toBe(true);
    expect(await (await fetch(`${gateway.url}/metrics`)).text()).toMatch(/^ow_ledger_quarantined 2$/m);
  }, LEDGER_WAIT_MS);
});

describe.each(BACKENDS)('a case the ledger refuses before it leaves Redis, on $name', (backend) => {
  let gateway: RunningGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    // Ticks driven by hand: the schedule's own come once an hour.
    gateway = await startLedgerGateway(backend, prefix, { hot: '1h', ledger: '36500d', sweepEvery: '1h' });
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());

  it('when a late history entry holds a NUL, then the case stays in Redis, set aside at the archived stage, and the others leave', async () => {
    const cases = [sampleCase(), sampleCase()];
    const ids = cases.map((c) => String(c.caseId));
    for (const c of cases) expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => {
      for (const id of ids) expect((await caseView(gateway, id)).body.deliveries[0].status).toBe('delivered');
    });
    for (const id of ids) expect((await pushResult(gateway, 'city-a', { ywh: id }, RESULT_TOKEN)).status).toBe(200);
    const first = await gateway.sweep!.sweep(new Date(Date.now() + 1000));
    expect(first).toMatchObject({ written: 2, quarantined: 0 });

    // After its first write, a history entry with a NUL reaches Redis past the store's cleaning.
    const [poisoned, clean] = ids as [string, string];
    await redis.rpush(`${prefix}:{${poisoned}}:h:city-a`, JSON.stringify({ at: new Date().toISOString(), event: 'note', detail: 'late\u0000note' }));
    const later = await gateway.sweep!.sweep(new Date(Date.now() + 2 * 3600_000));
    expect(later).toMatchObject({ removed: 1, quarantined: 1 });
    expect(later.error).toBeUndefined();

    expect((await caseView(gateway, clean)).body.archived).toBe(true);
    expect((await caseView(gateway, poisoned)).body.archived).toBeUndefined();
    expect(await redis.exists(`${prefix}:{${poisoned}}:case`)).toBe(1);
    expect(await redis.zscore(`${prefix}:ledger:archived`, poisoned)).toBeNull();
    const row = JSON.parse((await redis.hget(`${prefix}:ledger:quarantine`, `case:${poisoned}`))!) as Record<string, unknown>;
    expect(row).toMatchObject({ kind: 'case', id: poisoned, stage: 'archived', path: expect.stringMatching(/^deliveries\[0\]\.history\[\d+\]\.detail$/), error: expect.stringMatching(/^22P05 /) });
    // Its first write is still in the ledger, as it was.
    expect(await gateway.ledger!.query('SELECT 1 FROM ledger_cases WHERE case_id = $1', [poisoned])).toHaveLength(1);
  }, LEDGER_WAIT_MS);
});

describe.each(BACKENDS)('a row refused by a rule of the database, then mended, on $name', (backend) => {
  let gateway: RunningGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    // The test ticks the sweep itself.
    gateway = await startLedgerGateway(backend, prefix, { hot: '1h', ledger: '36500d', sweepEvery: '1h' });
  }, LEDGER_WAIT_MS);
  afterAll(() => gateway?.stop());

  const retry = (kind: string, id: string, token?: string) =>
    fetch(`${gateway.url}/api/v1/admin/ledger/quarantine/${kind}/${encodeURIComponent(id)}/retry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token ?? OPS_TOKEN}`, 'X-OW-Operator': 'wang wu (night shift)' },
    });

  it('when ops retry it before and after the mend, then it is refused again, then written, each retry audited', async () => {
    const ledger = gateway.ledger!;
    const c = sampleCase();
    const caseId = String(c.caseId);
    // A rule the ledger holds today and ops will drop: it refuses this case and this reason (SQLSTATE 23514).
    await ledger.query(`ALTER TABLE ledger_cases ADD CONSTRAINT ow_test_refuse CHECK (case_id <> '${caseId}')`);
    await ledger.query("ALTER TABLE ledger_audit ADD CONSTRAINT ow_test_refuse CHECK (reason IS NULL OR reason <> '夜间维护（约束）')");
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    expect((await pushResult(gateway, 'city-a', { ywh: caseId }, RESULT_TOKEN)).status).toBe(200);
    expect((await admin(gateway, 'POST', '/systems/city-a/pause', { reason: '夜间维护（约束）' })).status).toBe(200);
    expect(await gateway.sweep!.sweep(new Date(Date.now() + 1000))).toMatchObject({ quarantined: 2 });
    const setAside = await redis.hkeys(`${prefix}:ledger:quarantine`);
    expect(setAside.sort()).toEqual([expect.stringMatching(/^audit:/), `case:${caseId}`]);
    const auditId = setAside.find((k) => k.startsWith('audit:'))!.slice('audit:'.length);

    // Not mended yet: the entry is refused again and stays; the case goes back and is set aside again.
    expect((await retry('audit', auditId, VIEWER_TOKEN)).status).toBe(403);
    expect((await retry('audit', 'no-such-entry')).status).toBe(404);
    const early = await retry('audit', auditId);
    expect(early.status).toBe(200);
    expect(await early.json()).toEqual({ kind: 'audit', id: auditId, outcome: 'refused', error: expect.stringMatching(/^23514 /) });
    expect(await (await retry('case', caseId)).json()).toEqual({ kind: 'case', id: caseId, outcome: 'queued' });
    expect(await redis.hlen(`${prefix}:ledger:quarantine`)).toBe(1);
    expect(await gateway.sweep!.sweep(new Date(Date.now() + 1000))).toMatchObject({ quarantined: 1 });
    expect(await redis.hlen(`${prefix}:ledger:quarantine`)).toBe(2);

    // Mended: the entry is written at once, the case at the next tick; the quarantine is empty.
    await ledger.query('ALTER TABLE ledger_cases DROP CONSTRAINT ow_test_refuse');
    await ledger.query('ALTER TABLE ledger_audit DROP CONSTRAINT ow_test_refuse');
    expect(await (await retry('audit', auditId)).json()).toEqual({ kind: 'audit', id: auditId, outcome: 'written' });
    expect(await (await retry('case', caseId)).json()).toEqual({ kind: 'case', id: caseId, outcome: 'queued' });
    expect(await gateway.sweep!.sweep(new Date(Date.now() + 1000))).toMatchObject({ quarantined: 0 });
    expect(await redis.hlen(`${prefix}:ledger:quarantine`)).toBe(0);
    expect(await ledger.query('SELECT 1 FROM ledger_cases WHERE case_id = $1', [caseId])).toHaveLength(1);
    expect((await ledger.query<{ reason: string }>("SELECT reason FROM ledger_audit WHERE action = 'system.pause'")).map((r) => r.reason)).toEqual(['夜间维护（约束）']);
    const retries = await ledger.query<{ target: string; detail: string }>("SELECT target, detail FROM ledger_audit WHERE action = 'ledger.retry' ORDER BY id");
    expect(retries.map((r) => r.target)).toEqual([`audit:${auditId}`, `case:${caseId}`, `audit:${auditId}`, `case:${caseId}`]);
    expect(retries.map((r) => r.detail)).toEqual([expect.stringMatching(/^refused again: 23514 /), 'queued', 'written', 'queued']);
  }, LEDGER_WAIT_MS);
});
