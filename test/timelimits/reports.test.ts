/**
 * The timeliness report and the GB/T 39046 export on a fixture of 25 cases whose every figure is
 * worked out by hand below: read while all are in Redis, and again once the finished ones have moved
 * to the ledger, the same figures either way; on each ledger a deployment may have (a real
 * PostgreSQL cluster of the test's own, and PGlite).
 */
import type { RunningGateway } from '../../src/gateway';
import { BACKENDS } from '../ledger/backends';
import { startTestPostgres, type TestPostgres } from '../ledger/postgres';
import { caseView, eventually, OPS_TOKEN, pushResult, sampleCase, startTestGateway, submit, VIEWER_TOKEN } from '../support/harness';
import { clockWorld, RESULT_TOKEN, TestClock, type ClockWorld } from './support';
import { LEDGER_WAIT_MS } from '../ledger/backends';

jest.setTimeout(120_000);

const FG = '330800-FG-101'; // 承诺件: promised 5, legal 20 working days
const JB = '330800-JB-001'; // 即办件: promised in 2 hours
const XX = '330000-XX-001'; // not in the catalogue

/** The fixture: name → item, channel. */
const FIXTURE: Record<string, { item: string; channel: string }> = {
  // A1–A6 approved Wed 12-09 (2 working days); A1–3 window, A4–6 web.
  ...Object.fromEntries([1, 2, 3].map((i) => [`A${i}`, { item: FG, channel: 'window' }])),
  ...Object.fromEntries([4, 5, 6].map((i) => [`A${i}`, { item: FG, channel: 'web' }])),
  // A7–A10 approved Tue 12-15 (6 working days: late for the promise, within the law); mobile.
  ...Object.fromEntries([7, 8, 9, 10].map((i) => [`A${i}`, { item: FG, channel: 'mobile' }])),
  // A11–A12: need_more Tue 12-08, resubmitted Mon 12-14 (Wed 9 … Mon 14 stopped: 4), approved Wed 12-16: 3 working days; window.
  A11: { item: FG, channel: 'window' },
  A12: { item: FG, channel: 'window' },
  // A13–A14 still open on 12-16: past the promised Mon 12-14; self-service.
  A13: { item: FG, channel: 'self-service' },
  A14: { item: FG, channel: 'self-service' },
  // A15–A16 rejected Tue 12-08 (1 working day); web.
  A15: { item: FG, channel: 'web' },
  A16: { item: FG, channel: 'web' },
  // A17: expert review Tue 12-08 … Thu 12-10 (Wed 9, Thu 10 stopped), approved Fri 12-11: 2 working days; web.
  A17: { item: FG, channel: 'web' },
  // B1, B2 approved at 11:00 (within 2 hours), B3 at 13:00 (late), B4 open; all mobile.
  ...Object.fromEntries([1, 2, 3, 4].map((i) => [`B${i}`, { item: JB, channel: 'mobile' }])),
  // C1, C2 approved, C3, C4 open: no time limit; window.
  ...Object.fromEntries([1, 2, 3, 4].map((i) => [`C${i}`, { item: XX, channel: 'window' }])),
};

/** By item, worked out by hand from the fixture (now: Wed 2026-12-16 12:00). */
const BY_ITEM = [
  { key: XX, cases: 4, completed: 2, onTimePromised: 0, onTimeLegal: 0, medianWorkingDays: null, p90WorkingDays: null, overdueOpen: 0, stoppedNeedMore: 0, stoppedSpecial: 0, channels: { 1: 4, 2: 0, 3: 0, 9: 0 }, promisedCut: null },
  // Handling days of the 15 completed: 2×6 (A1–6), 6×4 (A7–10), 3×2 (A11–12), 1×2 (A15–16), 2 (A17)
  // → 1 1 2 2 2 2 2 2 2 3 3 6 6 6 6: median (rank 8) 2, p90 (rank 14) 6. Cut: 1 − 5/20.
  { key: FG, cases: 17, completed: 15, onTimePromised: 11, onTimeLegal: 15, medianWorkingDays: 2, p90WorkingDays: 6, overdueOpen: 2, stoppedNeedMore: 2, stoppedSpecial: 1, channels: { 1: 5, 2: 6, 3: 4, 9: 2 }, promisedCut: 0.75 },
  { key: JB, cases: 4, completed: 3, onTimePromised: 2, onTimeLegal: 0, medianWorkingDays: 0, p90WorkingDays: 0, overdueOpen: 1, stoppedNeedMore: 0, stoppedSpecial: 0, channels: { 1: 0, 2: 0, 3: 4, 9: 0 }, promisedCut: null },
];

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startTestPostgres();
});
afterAll(async () => {
  await pg?.destroy();
});

describe.each(BACKENDS)('reports with the ledger on $name', (backend) => {
  let world: ClockWorld;
  let gateway: RunningGateway;
  const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
  const ids: Record<string, string> = {};

  const get = async (pathAndQuery: string, token = OPS_TOKEN, accept = 'application/json') => {
    const res = await fetch(`${gateway.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}`, Accept: accept } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const push = async (name: string, body: Record<string, unknown>) => expect((await pushResult(gateway, 'city-housing-reform', { ywh: ids[name], ...body }, RESULT_TOKEN)).status).toBe(200);
  const delivered = (names: string[]) => eventually(async () => {
    for (const n of names) expect((await caseView(gateway, ids[n]!)).body.deliveries[0].status).toBe('delivered');
  }, 30_000);

  beforeAll(async () => {
    world = await clockWorld({ retention: { hot: '1h', ledger: '36500d', sweepEvery: '1h' } });
    const place = await backend.place(pg);
    gateway = await startTestGateway(world.dir, { now: clock.now, dataDir: place.dataDir, ledger: place.url ? { url: place.url } : {}, options: { timeLimitTickMs: 3_600_000 } });
    for (const [name, { item, channel }] of Object.entries(FIXTURE)) {
      const c = sampleCase({ itemCode: item, channel, caseId: `QZ-R-${name}-${Date.now().toString(36)}` });
      ids[name] = c.caseId as string;
      expect((await submit(gateway, c)).status).toBe(202);
    }
    await delivered(Object.keys(FIXTURE));
    clock.set('2026-12-07T11:00:00+08:00');
    for (const n of ['B1', 'B2', 'C1', 'C2']) await push(n, { jg: '1', yj: '准予' });
    clock.set('2026-12-07T13:00:00+08:00');
    await push('B3', { jg: '1', yj: '准予' });
    clock.set('2026-12-08T10:00:00+08:00');
    for (const n of ['A11', 'A12']) await push(n, { jg: '2', yj: '补充材料' });
    for (const n of ['A15', 'A16']) await push(n, { jg: '0', yj: '不予许可' });
    await push('A17', { jg: '3', yj: '专家评审', tsjd: 'start', tscx: '专家评审' });
    clock.set('2026-12-09T10:00:00+08:00');
    for (const n of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6']) await push(n, { jg: '1', yj: '准予' });
    clock.set('2026-12-10T10:00:00+08:00');
    await push('A17', { jg: '3', yj: '评审结束', tsjd: 'end', tscx: '专家评审' });
    clock.set('2026-12-11T10:00:00+08:00');
    await push('A17', { jg: '1', yj: '准予' });
    clock.set('2026-12-14T10:00:00+08:00');
    for (const n of ['A11', 'A12']) {
      const again = sampleCase({ itemCode: FG, channel: 'window', caseId: ids[n], form: { purpose: '购房', contract: '已补正' } });
      expect((await submit(gateway, again)).status).toBe(202);
    }
    await delivered(['A11', 'A12']);
    clock.set('2026-12-15T10:00:00+08:00');
    for (const n of ['A7', 'A8', 'A9', 'A10']) await push(n, { jg: '1', yj: '准予' });
    clock.set('2026-12-16T10:00:00+08:00');
    for (const n of ['A11', 'A12']) await push(n, { jg: '1', yj: '准予' });
    clock.set('2026-12-16T12:00:00+08:00');
  });
  afterAll(async () => {
    await gateway?.stop();
    await world.close();
  });

  const RANGE = 'from=2026-12-07&to=2026-12-07';

  async function expectFigures(): Promise<void> {
    const byItem = await get(`/api/v1/reports/timeliness?${RANGE}&groupBy=item`, VIEWER_TOKEN);
    expect(byItem.status).toBe(200);
    expect(JSON.parse(byItem.text)).toEqual({ from: '2026-12-06T16:00:00.000Z', to: '2026-12-07T16:00:00.000Z', groupBy: 'item', rows: BY_ITEM });
    const byChannel = JSON.parse((await get(`/api/v1/reports/timeliness?${RANGE}&groupBy=channel`)).text) as { rows: Array<{ key: string; cases: number; completed: number }> };
    expect(byChannel.rows.map((r) => [r.key, r.cases, r.completed])).toEqual([
      ['mobile', 8, 7],
      ['self-service', 2, 0],
      ['web', 6, 6],
      ['window', 9, 7],
    ]);
    const bySystem = JSON.parse((await get(`/api/v1/reports/timeliness?${RANGE}&groupBy=system`)).text) as { rows: Array<{ key: string; cases: number }> };
    expect(bySystem.rows.map((r) => [r.key, r.cases])).toEqual([['city-housing-reform', 25]]);
    const byLevel = JSON.parse((await get(`/api/v1/reports/timeliness?${RANGE}&groupBy=level`)).text) as { rows: Array<{ key: string; cases: number }> };
    expect(byLevel.rows.map((r) => [r.key, r.cases])).toEqual([['city', 25]]);
    // Nothing accepted the day after.
    expect(JSON.parse((await get('/api/v1/reports/timeliness?from=2026-12-08&to=2026-12-31')).text).rows).toEqual([]);
  }

  it('when every case is in Redis, then every figure is the hand-computed one', async () => {
    await expectFigures();
  });

  it('answers CSV when asked, the same figures', async () => {
    const csv = await get(`/api/v1/reports/timeliness?${RANGE}&groupBy=item`, OPS_TOKEN, 'text/csv');
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')).toEqual([
      'key,cases,completed,onTimePromised,onTimeLegal,medianWorkingDays,p90WorkingDays,overdueOpen,stoppedNeedMore,stoppedSpecial,channel1,channel2,channel3,channel9,promisedCut',
      `${XX},4,2,0,0,,,0,0,0,4,0,0,0,`,
      `${FG},17,15,11,15,2,6,2,2,1,5,6,4,2,0.75`,
      `${JB},4,3,2,0,0,0,1,0,0,0,0,4,0,`,
      '',
    ]);
  });

  it('exports a case with the names and codes of GB/T 39046, the ID number masked below admin', async () => {
    const lines = (await get(`/api/v1/reports/cases.gbt39046?${RANGE}`)).text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(25);
    const a1 = lines.find((l) => l['办件编号'] === ids.A1);
    expect(a1).toEqual({
      办件编号: ids.A1,
      实施编码: FG,
      事项名称: '出具房改核查证明',
      办件类型代码: '2',
      申报来源代码: '1',
      申请者名称: '张三',
      申请者证件类型代码: '111',
      申请者证件号码: '330802199001011234',
      申请时间: '20261128093000',
      受理时间: '20261207100000',
      承诺办结时间: '20261214235959',
      办理: [{ 环节名称: 'city-housing-reform', 环节开始时间: '20261207100000', 环节结束时间: '20261209100000', 业务动作: '通过' }],
      办结时间: '20261209100000',
      办件结果描述: 'city-housing-reform：准予',
    });
    const b4 = lines.find((l) => l['办件编号'] === ids.B4)!;
    expect([b4['办件类型代码'], b4['申报来源代码'], b4['承诺办结时间'], b4['办结时间']]).toEqual(['1', '3', '20261207120000', '']);
    expect(lines.find((l) => l['办件编号'] === ids.C1)!['办件类型代码']).toBe('9');
    expect(lines.find((l) => l['办件编号'] === ids.A15)!['办理']).toEqual([expect.objectContaining({ 业务动作: '退回' })]);

    const viewer = (await get(`/api/v1/reports/cases.gbt39046?${RANGE}`, VIEWER_TOKEN)).text;
    expect(viewer).not.toContain('330802199001011234');
    expect(viewer).toContain('330*************34');
    const csv = await get(`/api/v1/reports/cases.gbt39046?${RANGE}&format=csv`, VIEWER_TOKEN);
    expect(csv.text.split('\r\n')[0]).toBe('办件编号,实施编码,事项名称,办件类型代码,申报来源代码,申请者名称,申请者证件类型代码,申请者证件号码,申请时间,受理时间,承诺办结时间,办理,办结时间,办件结果描述');
    expect(csv.text.split('\r\n')).toHaveLength(27);
  });

  it('refuses a bad range and a bad grouping with the reasons', async () => {
    const bad = await get('/api/v1/reports/timeliness?from=yesterday&groupBy=colour');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.details.map((d: { path: string }) => d.path).sort()).toEqual(['from', 'groupBy']);
    expect((await fetch(`${gateway.url}/api/v1/reports/timeliness`)).status).toBe(401);
  });

  it('when the finished cases have moved to the ledger, then the figures and the export are the same', async () => {
    const exported = async () => (await get(`/api/v1/reports/cases.gbt39046?${RANGE}`)).text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const fromRedis = await exported();
    const finished = ['A1', 'A7', 'A11', 'A15', 'A17', 'B1', 'C1'];
    await eventually(async () => {
      await gateway.sweep!.sweep();
      for (const n of finished) expect(await gateway.store.getCase(ids[n]!)).toBeUndefined();
    }, LEDGER_WAIT_MS);
    // The open ones are still in Redis; the finished ones are answered by the ledger.
    for (const n of ['A13', 'B4', 'C3']) expect(await gateway.store.getCase(ids[n]!)).toBeDefined();
    const archived = await caseView(gateway, ids.A11!);
    expect(archived.body).toMatchObject({ archived: true, timeLimit: { state: 'done', stoppedWorkingDays: 4, promisedDueAt: '2026-12-18T23:59:59.999+08:00' } });
    await expectFigures();
    // Record by record, field by field, in the same order (by acceptance), read from the ledger or Redis.
    const fromBoth = await exported();
    expect(fromBoth).toEqual(fromRedis);
    expect(fromBoth.find((l) => l['办件编号'] === ids.A11)).toMatchObject({ 承诺办结时间: '20261218235959', 办结时间: '20261216100000' });
  });
});
