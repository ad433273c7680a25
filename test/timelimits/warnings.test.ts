/**
 * case.due_soon and case.overdue: sent once per case and clock run, signed like every callback,
 * whatever the number of checks, of processes, or restarts; checked on a test clock, driven by the
 * job scheduler in Redis or by hand.
 */
import crypto from 'node:crypto';
import type { RunningGateway } from '../../src/gateway';
import { sign } from '../../src/platform/signing';
import { caseView, eventually, pushResult, sampleCase, startTestGateway, submit, uniquePrefix, type Received } from '../support/harness';
import { BY_HAND, clockWorld, RESULT_TOKEN, TestClock, type ClockWorld } from './support';

const SECRET = 'clock-callback-secret';

const warningsOf = (received: Received[], caseId: string) =>
  received.map((r) => r.json as { event: string; caseId: string }).filter((e) => e.caseId === caseId && e.event.startsWith('case.'));

describe('time-limit warnings', () => {
  let world: ClockWorld;
  beforeAll(async () => {
    world = await clockWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('when a case runs into warnDays and then past its promised limit, then due_soon and overdue are sent once each, signed, and not again after a restart', async () => {
    const keyPrefix = uniquePrefix();
    const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
    let gateway: RunningGateway = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options: { timeLimitTickMs: BY_HAND } });
    try {
      const c = sampleCase({ itemCode: '330800-FG-010' });
      const caseId = c.caseId as string;
      expect((await submit(gateway, c)).status).toBe(202);
      await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));

      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      clock.set('2026-12-09T23:59:00+08:00'); // 3 working days left: not yet
      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      clock.set('2026-12-10T00:00:01+08:00'); // 2 left (Fri 11, Mon 14): due soon
      expect((await gateway.timeLimits.check()).sent).toEqual([{ caseId, event: 'case.due_soon' }]);
      clock.set('2026-12-11T12:00:00+08:00');
      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      clock.set('2026-12-15T00:00:01+08:00'); // past the end of Monday 14th
      expect((await gateway.timeLimits.check()).sent).toEqual([{ caseId, event: 'case.overdue' }]);
      expect((await gateway.timeLimits.check()).sent).toEqual([]);

      const warnings = await eventually(async () => {
        const found = world.callbacks.received.filter((r) => (r.json as { caseId: string }).caseId === caseId && (r.json as { event: string }).event.startsWith('case.'));
        expect(found).toHaveLength(2);
        return found;
      });
      expect(warnings.map((w) => w.json)).toEqual([
        { eventId: expect.any(String), event: 'case.due_soon', caseId, itemCode: '330800-FG-010', promisedDueAt: '2026-12-14T23:59:59.999+08:00', legalDueAt: '2027-01-04T23:59:59.999+08:00', at: '2026-12-09T16:00:01.000Z' },
        { eventId: expect.any(String), event: 'case.overdue', caseId, itemCode: '330800-FG-010', promisedDueAt: '2026-12-14T23:59:59.999+08:00', legalDueAt: '2027-01-04T23:59:59.999+08:00', at: '2026-12-14T16:00:01.000Z' },
      ]);
      for (const w of warnings) {
        const timestamp = Number(w.headers['x-ow-timestamp']);
        expect(w.headers['x-ow-signature']).toBe(sign(SECRET, timestamp, w.body));
        expect(w.headers['x-ow-event-id']).toBe((w.json as { eventId: string }).eventId);
      }
      expect((await caseView(gateway, caseId)).body.timeLimit).toMatchObject({ state: 'running', overdue: true, workingDaysLeft: -1 });

      // A restart (a new process on the same Redis) checks again and sends nothing twice.
      await gateway.stop();
      gateway = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options: { timeLimitTickMs: BY_HAND } });
      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      clock.set('2026-12-16T09:00:00+08:00');
      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      expect(warningsOf(world.callbacks.received, caseId)).toHaveLength(2);

      // A new clock run (补正 asked, then done) may warn again, once.
      expect((await pushResult(gateway, 'city-housing-reform', { ywh: caseId, jg: '2', yj: '补充材料' }, RESULT_TOKEN)).status).toBe(200);
      expect((await gateway.timeLimits.check()).sent).toEqual([]); // stopped: nothing to warn of
      clock.set('2026-12-17T09:00:00+08:00');
      expect((await submit(gateway, { ...c, form: { purpose: '补正后' } })).status).toBe(202);
      // The stop began after the due date (Mon 14th), so the due date stays: overdue again in run 2.
      clock.set('2026-12-18T09:00:00+08:00');
      const again = await gateway.timeLimits.check();
      expect(again.sent).toEqual([{ caseId, event: 'case.overdue' }]);
      expect((await gateway.timeLimits.check()).sent).toEqual([]);
      await eventually(async () => expect(warningsOf(world.callbacks.received, caseId).map((e) => e.event)).toEqual(['case.due_soon', 'case.overdue', 'case.overdue']));
    } finally {
      await gateway.stop();
    }
  });

  it('when two processes check the same cases at once, then each warning is sent once', async () => {
    const keyPrefix = uniquePrefix();
    const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
    const a = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options: { timeLimitTickMs: BY_HAND } });
    const b = await startTestGateway(world.dir, { now: clock.now, keyPrefix, options: { timeLimitTickMs: BY_HAND } });
    try {
      const ids = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const c = sampleCase({ itemCode: '330800-FG-020', caseId: `QZ-W-${crypto.randomBytes(4).toString('hex')}` });
          expect((await submit(a, c)).status).toBe(202);
          return c.caseId as string;
        }),
      );
      clock.set('2026-12-15T08:00:00+08:00');
      const [ra, rb] = await Promise.all([a.timeLimits.check(), b.timeLimits.check()]);
      const sent = [...ra.sent, ...rb.sent];
      expect(sent.map((s) => s.caseId).sort()).toEqual([...ids].sort());
      expect(new Set(sent.map((s) => s.event))).toEqual(new Set(['case.overdue']));
      await eventually(async () => {
        for (const id of ids) expect(warningsOf(world.callbacks.received, id)).toHaveLength(1);
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('when the job scheduler ticks, then a due warning is sent without anyone asking', async () => {
    const clock = new TestClock(new Date('2026-12-07T10:00:00+08:00'));
    const gateway = await startTestGateway(world.dir, { now: clock.now, options: { timeLimitTickMs: 200 } });
    try {
      const c = sampleCase({ itemCode: '330800-FG-030' });
      expect((await submit(gateway, c)).status).toBe(202);
      clock.set('2026-12-10T09:00:00+08:00');
      await eventually(async () => expect(warningsOf(world.callbacks.received, c.caseId as string).map((e) => e.event)).toEqual(['case.due_soon']), 20_000);
    } finally {
      await gateway.stop();
    }
  });
});
