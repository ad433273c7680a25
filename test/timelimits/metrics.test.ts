/**
 * ow_cases_due_soon and ow_cases_overdue: the open cases near or past their limit, per catalogue
 * entry and system they wait on, as /metrics exports them, moving with the monitor's looks on a
 * test clock: a due date reached, a result that ends a delivery or the case, a 补正 stop, a second
 * process looking at the same cases, a case taken out of Redis.
 */
import crypto from 'node:crypto';
import type { RunningGateway } from '../../src/gateway';
import { eventually, pushResult, sampleCase, startTestGateway, submit, uniquePrefix } from '../support/harness';
import { scrape, type Family } from '../observability/prom';
import { BY_HAND, clockWorld, RESULT_TOKEN, TestClock, type ClockWorld } from './support';


/** Every sample of the two gauges, as `<gauge> <itemCode> <systemId> = n`, sorted. */
function gauges(families: Family[]): string[] {
  return families
    .filter((f) => f.name === 'ow_cases_due_soon' || f.name === 'ow_cases_overdue')
    .flatMap((f) => f.metrics.map((m) => `${f.name} ${m.labels!.itemCode} ${m.labels!.systemId} = ${m.value}`))
    .sort();
}

describe('the gauges of cases due soon and overdue', () => {
  let world: ClockWorld;
  beforeAll(async () => {
    world = await clockWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('when cases run into warnDays and past their limit, then they are counted per catalogue entry and waiting system, and leave the counts when stopped or decided', async () => {
    const keyPrefix = uniquePrefix();
    const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
    const options = { timeLimitTickMs: BY_HAND, backlogCacheMs: 0 };
    const gateway: RunningGateway = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options });
    let second: RunningGateway | undefined;
    try {
      const id = (tag: string) => `QZ-M-${tag}-${crypto.randomBytes(3).toString('hex')}`;
      // A and C go to city-housing-reform, B to both systems (route 330800-FG-9*), D is a 即办件 of 2 hours,
      // E has no entry in the catalogue (no clock, never counted).
      const cases = {
        A: sampleCase({ caseId: id('A'), itemCode: '330800-FG-010' }),
        B: sampleCase({ caseId: id('B'), itemCode: '330800-FG-901' }),
        C: sampleCase({ caseId: id('C'), itemCode: '330800-FG-011' }),
        D: sampleCase({ caseId: id('D'), itemCode: '330800-JB-001' }),
        E: sampleCase({ caseId: id('E'), itemCode: '330900-XX-001' }),
      };
      for (const c of Object.values(cases)) expect((await submit(gateway, c)).status).toBe(202);
      const caseId = (k: keyof typeof cases) => cases[k].caseId as string;
      await eventually(async () => {
        for (const k of Object.keys(cases) as Array<keyof typeof cases>) {
          const view = (await gateway.store.view(caseId(k)))!;
          expect(view.deliveries.map((d) => d.status)).toEqual(view.deliveries.map(() => 'delivered'));
        }
      });
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual([]);

      clock.set('2026-12-07T12:30:00+08:00'); // D's 2 hours are up
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual(['ow_cases_overdue 330800-JB-* city-housing-reform = 1']);

      // C asks for more (stopped: the applicant holds it); then 2 working days are left for A, B (and C's clock is stopped).
      expect((await pushResult(gateway, 'city-housing-reform', { ywh: caseId('C'), jg: '2', yj: '补充材料' }, RESULT_TOKEN)).status).toBe(200);
      clock.set('2026-12-10T09:00:00+08:00');
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual([
        'ow_cases_due_soon 330800-FG-* city-housing-reform = 2',
        'ow_cases_due_soon 330800-FG-* prov-housing = 1',
        'ow_cases_overdue 330800-JB-* city-housing-reform = 1',
      ]);

      // A second process looking at the same cases at once changes no count.
      second = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options });
      await Promise.all([gateway.timeLimits.check(), second.timeLimits.check()]);
      expect(gauges(await scrape(gateway.url))).toHaveLength(3);

      // prov-housing decides B: B now waits on city-housing-reform only. D is decided: it leaves the overdue.
      expect((await pushResult(gateway, 'prov-housing', { ywh: caseId('B'), jg: '1', yj: '同意' }, RESULT_TOKEN)).status).toBe(200);
      expect((await pushResult(gateway, 'city-housing-reform', { ywh: caseId('D'), jg: '1', yj: '同意' }, RESULT_TOKEN)).status).toBe(200);
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual(['ow_cases_due_soon 330800-FG-* city-housing-reform = 2']);

      // Past Monday 14th: A and B are overdue; the same cases are no longer due soon.
      clock.set('2026-12-15T09:00:00+08:00');
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual(['ow_cases_overdue 330800-FG-* city-housing-reform = 2']);
      // Neither stopped nor in the catalogue, C and E are in no count; the counts are what the flags say.
      expect((await gateway.store.clockCounts()).reduce((n, c) => n + c.cases, 0)).toBe(2);

      // Decided: A leaves; B taken out of Redis (as the ledger sweep does) takes its count with it.
      expect((await pushResult(gateway, 'city-housing-reform', { ywh: caseId('A'), jg: '0', yj: '不予许可' }, RESULT_TOKEN)).status).toBe(200);
      await gateway.timeLimits.check();
      expect(gauges(await scrape(gateway.url))).toEqual(['ow_cases_overdue 330800-FG-* city-housing-reform = 1']);
      await gateway.store.removeCase((await gateway.store.snapshot(caseId('B')))!);
      expect(gauges(await scrape(gateway.url))).toEqual([]);
    } finally {
      await second?.stop();
      await gateway.stop();
    }
  });
});
