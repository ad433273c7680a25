/**
 * The clock of a case through the gateway, on a test clock: it starts at acceptance, a need_more
 * result stops it, the applicant's changed resubmission restarts it and is delivered again, and a
 * special procedure stops and restarts it; the case view shows it all.
 */
import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, pushResult, sampleCase, startTestGateway, submit } from '../support/harness';
import { clockWorld, RESULT_TOKEN, TestClock, type ClockWorld } from './support';

describe('the clock of a case', () => {
  let world: ClockWorld;
  let gateway: RunningGateway;
  const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));

  beforeAll(async () => {
    world = await clockWorld();
    gateway = await startTestGateway(world.dir, { now: clock.now });
  });
  afterAll(async () => {
    await gateway.stop();
    await world.close();
  });

  const sentTo = (caseId: string) => world.legacy.received.filter((r) => (r.json as { bizNo?: string }).bizNo === caseId);
  const delivered = (caseId: string) => eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
  const push = (body: Record<string, unknown>) => pushResult(gateway, 'city-housing-reform', body, RESULT_TOKEN);

  it('when a case waits for 补正 and is resubmitted changed, then the clock stops, restarts, moves the due date by the stopped working days, and the case is sent again', async () => {
    clock.set('2026-12-07T10:00:00+08:00'); // Monday
    const c = sampleCase({ itemCode: '330800-FG-002' });
    const caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    await delivered(caseId);
    let view = (await caseView(gateway, caseId)).body;
    expect(view.timeLimit).toEqual({
      type: 2,
      // Dec 8…31 are 18 working days; 2027 has no calendar here, so Fri Jan 1 counts: Mon Jan 4.
      legalDueAt: '2027-01-04T23:59:59.999+08:00',
      promisedDueAt: '2026-12-14T23:59:59.999+08:00',
      workingDaysLeft: 5,
      stoppedWorkingDays: 0,
      state: 'running',
      overdue: false,
      stops: [],
      weekendsOnly: [2027],
    });

    // Changed content while the clock runs: a conflict, as before.
    expect((await submit(gateway, { ...c, form: { purpose: '补充' } })).status).toBe(409);

    clock.set('2026-12-09T15:00:00+08:00'); // Wednesday: the system asks for more
    expect((await push({ ywh: caseId, jg: '2', yj: '请补充购房合同' })).status).toBe(200);
    clock.set('2026-12-11T09:00:00+08:00'); // Friday, still waiting
    view = (await caseView(gateway, caseId)).body;
    expect(view.timeLimit).toMatchObject({ state: 'stopped', stoppedWorkingDays: 2, workingDaysLeft: 3, promisedDueAt: '2026-12-16T23:59:59.999+08:00' });
    expect(view.timeLimit.stops).toEqual([{ reason: 'need_more', from: '2026-12-09T07:00:00.000Z', systemId: 'city-housing-reform' }]);

    // The same content again is an identical resubmission: nothing moves.
    expect((await submit(gateway, c)).status).toBe(200);
    expect(sentTo(caseId)).toHaveLength(1);

    clock.set('2026-12-14T09:00:00+08:00'); // Monday: the applicant completes the case
    const completed = { ...c, form: { purpose: '购房', contract: '购房合同' } };
    const resubmitted = await submit(gateway, completed);
    expect(resubmitted.status).toBe(202);
    expect(resubmitted.body.deliveries).toEqual([{ systemId: 'city-housing-reform', status: 'queued' }]);
    await eventually(async () => expect(sentTo(caseId)).toHaveLength(2));
    // New content, a key of its own: a system that remembers keys takes it as new, not as the first sending again.
    expect(sentTo(caseId).map((r) => r.headers['idempotency-key'])).toEqual([`${caseId}:city-housing-reform`, `${caseId}:city-housing-reform:2`]);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    view = (await caseView(gateway, caseId)).body;
    // Thu 10, Fri 11, Mon 14 stopped: 5 working days end on Thu 17 instead of Mon 14.
    expect(view.timeLimit).toMatchObject({ state: 'running', stoppedWorkingDays: 3, workingDaysLeft: 3, promisedDueAt: '2026-12-17T23:59:59.999+08:00', overdue: false });
    expect(view.timeLimit.stops).toEqual([{ reason: 'need_more', from: '2026-12-09T07:00:00.000Z', to: '2026-12-14T01:00:00.000Z', systemId: 'city-housing-reform' }]);
    expect(view.deliveries[0].history.map((h: { event: string }) => h.event)).toContain('resubmitted');
    // Resubmitted once: the same changed content again is identical, a third version a conflict.
    expect((await submit(gateway, completed)).status).toBe(200);
    expect((await submit(gateway, { ...c, form: { other: 1 } })).status).toBe(409);

    clock.set('2026-12-16T16:00:00+08:00');
    expect((await push({ ywh: caseId, jg: '1', yj: '准予' })).status).toBe(200);
    clock.set('2026-12-30T16:00:00+08:00');
    view = (await caseView(gateway, caseId)).body;
    expect(view.status).toBe('completed');
    expect(view.timeLimit).toMatchObject({ state: 'done', overdue: false, workingDaysLeft: 1, stoppedWorkingDays: 3 });
  });

  it('when a special procedure starts and ends, then the clock stops between them and the due date moves by the working days in between', async () => {
    clock.set('2026-12-07T10:00:00+08:00');
    const c = sampleCase({ itemCode: '330800-FG-003' });
    const caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    await delivered(caseId);
    clock.set('2026-12-08T11:00:00+08:00'); // Tuesday: expert review starts
    expect((await push({ ywh: caseId, jg: '3', yj: '专家评审', tsjd: 'start', tscx: '专家评审' })).status).toBe(200);
    clock.set('2026-12-10T11:00:00+08:00');
    expect((await caseView(gateway, caseId)).body.timeLimit).toMatchObject({ state: 'stopped', stoppedWorkingDays: 2 });
    clock.set('2026-12-15T17:00:00+08:00'); // the next Tuesday: it ends
    expect((await push({ ywh: caseId, jg: '3', yj: '评审结束', tsjd: 'end', tscx: '专家评审' })).status).toBe(200);
    const view = (await caseView(gateway, caseId)).body;
    // Wed 9 … Tue 15: 5 working days stopped; 5 working days from Mon 7 then end on Mon 21.
    expect(view.timeLimit).toMatchObject({ state: 'running', stoppedWorkingDays: 5, promisedDueAt: '2026-12-21T23:59:59.999+08:00', overdue: false });
    expect(view.timeLimit.stops).toEqual([{ reason: 'special_procedure', from: '2026-12-08T03:00:00.000Z', to: '2026-12-15T09:00:00.000Z', systemId: 'city-housing-reform', kind: '专家评审' }]);
    // A procedure reported with another outcome is refused: nothing recorded.
    expect((await push({ ywh: caseId, jg: '1', tsjd: 'start', tscx: '听证' })).status).toBe(400);
  });

  it('when an item has no time limits, then the case view has no timeLimit', async () => {
    // The catalogue covers 330800-FG-* and 330800-JB-* only.
    const c = sampleCase({ itemCode: '330000-XX-001' });
    expect((await submit(gateway, c)).status).toBe(202);
    expect((await caseView(gateway, c.caseId as string)).body.timeLimit).toBeUndefined();
  });
});
