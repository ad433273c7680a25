/**
 * Working-day arithmetic on the shipped 2026 calendar (the State Council's notice) and the clock
 * built on it: fixed examples across the Spring Festival and National Day with their 调休 working
 * weekends, and properties that hold for any acceptance, limit and stop.
 */
import path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/loader';
import { addDays, dayOf, WorkCalendar } from '../../src/timelimits/calendar';
import { clockOf, type ClockEntry } from '../../src/timelimits/clock';
import type { Item } from '../../src/timelimits/config';
import { demoEnv } from '../../sim/samples';

const calendar = loadConfig(path.join(__dirname, '..', '..', 'config'), demoEnv()).timeLimits.calendar;
const item = (over: Partial<Item> = {}): Item => ({ itemCode: '*', type: 2, legalDays: 20, promisedDays: 5, warnDays: 2, ...over });
const clock = (acceptedAt: string, entries: ClockEntry[] = [], now = acceptedAt, over: Partial<Item> = {}, doneAt?: string) =>
  clockOf({ acceptedAt, item: item(over), entries, now: new Date(now), calendar, ...(doneAt ? { doneAt } : {}) });

describe('working days on the 2026 calendar', () => {
  it('when 5 working days run from Monday 2026-12-07, then they end at the end of Monday 2026-12-14', () => {
    expect(calendar.addWorkingDays('2026-12-07', 5)).toBe('2026-12-14');
    const c = clock('2026-12-07T10:00:00+08:00');
    expect(c.view.promisedDueAt).toBe('2026-12-14T23:59:59.999+08:00');
    expect(c.view.workingDaysLeft).toBe(5);
  });

  it('when a case is accepted before the Spring Festival, then the holiday is skipped and the working Saturdays count', () => {
    // Fri 02-13 accepted; Sat 02-14 is worked (调休); 02-15…02-23 holidays; Tue 02-24 on.
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true);
    expect(calendar.isWorkingDay('2026-02-23')).toBe(false);
    expect(calendar.addWorkingDays('2026-02-13', 1)).toBe('2026-02-14');
    expect(calendar.addWorkingDays('2026-02-13', 2)).toBe('2026-02-24');
    // 02-14, 02-24, 25, 26, 27, Sat 02-28 (调休), Mon 03-02.
    expect(calendar.addWorkingDays('2026-02-13', 7)).toBe('2026-03-02');
    expect(calendar.workingDaysBetween('2026-02-13', '2026-03-02')).toBe(7);
  });

  it('when a case is accepted before National Day, then the working Sunday before and Saturday after count and the holiday does not', () => {
    // Fri 09-18 accepted; Sun 09-20 worked; 09-25…27 Mid-Autumn; 10-01…07 National Day; Sat 10-10 worked.
    expect(calendar.addWorkingDays('2026-09-18', 1)).toBe('2026-09-20');
    const days = Array.from({ length: 10 }, (_, i) => calendar.addWorkingDays('2026-09-18', i + 1));
    expect(days).toEqual(['2026-09-20', '2026-09-21', '2026-09-22', '2026-09-23', '2026-09-24', '2026-09-28', '2026-09-29', '2026-09-30', '2026-10-08', '2026-10-09']);
    expect(calendar.addWorkingDays('2026-09-18', 11)).toBe('2026-10-10');
    expect(clock('2026-09-18T16:00:00+08:00', [], '2026-09-18T16:00:00+08:00', { promisedDays: 11 }).view.promisedDueAt).toBe('2026-10-10T23:59:59.999+08:00');
  });

  it('when acceptance is late in the evening in Shanghai, then the Shanghai date is the day of acceptance, not the UTC one', () => {
    // 2026-12-06T17:00Z is 01:00 on Monday 12-07 in Shanghai.
    expect(dayOf('2026-12-06T17:00:00Z')).toBe('2026-12-07');
    expect(clock('2026-12-06T17:00:00Z').view.promisedDueAt).toBe('2026-12-14T23:59:59.999+08:00');
  });

  it('when a 补正 stop lasts from Wednesday to the next Monday, then the due date moves by exactly the 3 working days stopped', () => {
    const stops: ClockEntry[] = [
      { at: '2026-12-09T10:00:00+08:00', event: 'stop', reason: 'need_more', systemId: 'city-a' },
      { at: '2026-12-14T09:00:00+08:00', event: 'resume', reason: 'need_more' },
    ];
    const c = clock('2026-12-07T10:00:00+08:00', stops, '2026-12-14T09:00:00+08:00');
    // Thu 10, Fri 11, Mon 14 were stopped: due Mon 14 → Thu 17.
    expect(c.view.stoppedWorkingDays).toBe(3);
    expect(c.view.promisedDueAt).toBe('2026-12-17T23:59:59.999+08:00');
    expect(c.view.legalDueAt).toBe(`${calendar.addWorkingDays('2026-12-07', 23)}T23:59:59.999+08:00`);
    expect(c.view.state).toBe('running');
    expect(c.view.stops).toEqual([{ reason: 'need_more', from: stops[0]!.at, to: stops[1]!.at, systemId: 'city-a' }]);
    expect(c.run).toBe(2);
  });

  it('when a special procedure is still under way, then the clock is stopped and the working days left do not fall', () => {
    const entries: ClockEntry[] = [{ at: '2026-12-09T10:00:00+08:00', event: 'stop', reason: 'special_procedure', systemId: 'city-a', kind: '专家评审' }];
    const onWednesday = clock('2026-12-07T10:00:00+08:00', entries, '2026-12-09T11:00:00+08:00');
    const onFriday = clock('2026-12-07T10:00:00+08:00', entries, '2026-12-11T11:00:00+08:00');
    expect(onFriday.view.state).toBe('stopped');
    expect(onFriday.view.workingDaysLeft).toBe(onWednesday.view.workingDaysLeft);
    expect(onFriday.view.stoppedWorkingDays).toBe(2);
  });

  it('when the case is decided after the promised limit, then it is done and overdue, and within the legal one', () => {
    const c = clock('2026-12-07T10:00:00+08:00', [], '2026-12-31T00:00:00+08:00', {}, '2026-12-15T09:00:00+08:00');
    expect(c.view).toMatchObject({ state: 'done', overdue: true, workingDaysLeft: -1 });
    expect(c.withinPromised).toBe(false);
    expect(c.withinLegal).toBe(true);
    expect(c.handlingWorkingDays).toBe(6);
  });

  it('when a 即办件 is promised in hours, then its promised due time is that many hours after acceptance', () => {
    const c = clock('2026-12-07T10:00:00+08:00', [], '2026-12-07T11:00:00+08:00', { type: 1, promisedDays: undefined, promisedHours: 2, legalDays: undefined, warnDays: undefined });
    expect(c.view.promisedDueAt).toBe('2026-12-07T12:00:00.000+08:00');
    expect(c.view.overdue).toBe(false);
    expect(c.view.legalDueAt).toBeUndefined();
  });

  it('when the count reaches a year without a calendar, then weekends alone are skipped and the view says which year', () => {
    const c = clock('2026-12-28T10:00:00+08:00', [], '2026-12-28T10:00:00+08:00', { legalDays: 20 });
    expect(c.view.weekendsOnly).toEqual([2027]);
    // Tue 29, Wed 30, Thu 31, Fri 2027-01-01 (a working day without the 2027 notice), Mon 01-04.
    expect(c.view.promisedDueAt).toBe('2027-01-04T23:59:59.999+08:00');
    expect(clock('2026-12-07T10:00:00+08:00', [], '2026-12-07T10:00:00+08:00', { legalDays: 15 }).view.weekendsOnly).toBeUndefined();
  });

  it('when warnDays is 2, then due_soon becomes due at the start of the third-last counted day', () => {
    const c = clock('2026-12-07T10:00:00+08:00');
    // Counted: 08, 09, 10, 11, 14. Left after 10 is 2 (11, 14): due soon from 00:00 on 10.
    expect(c.dueSoonAt?.toISOString()).toBe(new Date('2026-12-10T00:00:00+08:00').toISOString());
    expect(clock('2026-12-07T10:00:00+08:00', [], '2026-12-10T00:00:00+08:00').view.workingDaysLeft).toBe(2);
    expect(clock('2026-12-07T10:00:00+08:00', [], '2026-12-09T23:59:59+08:00').view.workingDaysLeft).toBe(3);
    expect(c.overdueAt?.toISOString()).toBe(new Date('2026-12-15T00:00:00+08:00').toISOString());
  });
});

// ---- properties ----
const DAYS_2026 = 365;
const acceptance = fc.integer({ min: 0, max: DAYS_2026 - 60 }).chain((d) => fc.integer({ min: 0, max: 86_399 }).map((s) => new Date(Date.parse(`${addDays('2026-01-01', d)}T00:00:00+08:00`) + s * 1000).toISOString()));

describe('working-day properties', () => {
  it('adding working days is monotonic, lands on a working day, and counts back to itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: DAYS_2026 - 1 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (d, a, b) => {
        const start = addDays('2026-01-01', d);
        const [m, n] = a <= b ? [a, b] : [b, a];
        const dm = calendar.addWorkingDays(start, m);
        const dn = calendar.addWorkingDays(start, n);
        expect(dm <= dn).toBe(true);
        if (n > 0) expect(calendar.isWorkingDay(dn)).toBe(true);
        expect(calendar.workingDaysBetween(start, dn)).toBe(n);
        // Composition: m then n − m is n.
        expect(calendar.addWorkingDays(dm, n - m)).toBe(dn);
      }),
    );
  });

  it('a closed stop moves the due dates by exactly the working days it stopped, and never earlier', () => {
    fc.assert(
      fc.property(acceptance, fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 30 * 86_400 }), fc.integer({ min: 1, max: 20 }), (acceptedAt, offsetDays, lengthS, promisedDays) => {
        const from = new Date(Date.parse(acceptedAt) + offsetDays * 86_400_000);
        const to = new Date(from.getTime() + lengthS * 1000);
        const entries: ClockEntry[] = [
          { at: from.toISOString(), event: 'stop', reason: 'need_more', systemId: 's' },
          { at: to.toISOString(), event: 'resume', reason: 'need_more' },
        ];
        const over = { promisedDays, legalDays: promisedDays + 10, warnDays: undefined };
        const plain = clock(acceptedAt, [], to.toISOString(), over);
        const stopped = clock(acceptedAt, entries, to.toISOString(), over);
        const n = stopped.view.stoppedWorkingDays;
        expect(n).toBe(calendar.workingDaysBetween(dayOf(from), dayOf(to)));
        const promisedDay = plain.view.promisedDueAt!.slice(0, 10);
        // A stop that began before the due day: the due day moves by exactly n working days.
        if (dayOf(from) < promisedDay) expect(stopped.view.promisedDueAt!.slice(0, 10)).toBe(calendar.addWorkingDays(promisedDay, n));
        expect(stopped.view.promisedDueAt! >= plain.view.promisedDueAt!).toBe(true);
        expect(stopped.view.legalDueAt! >= plain.view.legalDueAt!).toBe(true);
      }),
    );
  });

  it('the working days left never rise while the clock runs, and fall to overdue after the due date', () => {
    fc.assert(
      fc.property(acceptance, fc.integer({ min: 0, max: 20 * 86_400 }), fc.integer({ min: 0, max: 20 * 86_400 }), (acceptedAt, a, b) => {
        const [early, late] = a <= b ? [a, b] : [b, a];
        const at = (s: number) => new Date(Date.parse(acceptedAt) + s * 1000).toISOString();
        const x = clock(acceptedAt, [], at(early));
        const y = clock(acceptedAt, [], at(late));
        expect(y.view.workingDaysLeft <= x.view.workingDaysLeft).toBe(true);
        expect(y.view.overdue).toBe(Date.parse(at(late)) > Date.parse(y.view.promisedDueAt!));
        if (x.view.overdue) expect(y.view.overdue).toBe(true);
        // due_soon's moment is exactly when the working days left first reach warnDays.
        expect(x.view.workingDaysLeft <= 2).toBe(Date.parse(at(early)) >= x.dueSoonAt!.getTime());
      }),
    );
  });
});

describe('the shipped 2026 calendar', () => {
  it('agrees with the chinese-days package on every day of 2026', () => {
    // An independent source of the State Council's notice (chinese-days 1.5.7 covers 2004–2026).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const chineseDays = require('chinese-days') as { isWorkday(d: string): boolean };
    const differ: string[] = [];
    for (let d = '2026-01-01'; d <= '2026-12-31'; d = addDays(d, 1)) if (chineseDays.isWorkday(d) !== calendar.isWorkingDay(d)) differ.push(d);
    expect(differ).toEqual([]);
    expect(calendar.years()).toContain(2026);
  });

  it('has the holidays and 调休 days of the notice of 2025-11-04', () => {
    const notice = new WorkCalendar(
      new Map([
        [
          2026,
          {
            holidays: [
              ...['01-01', '01-02', '01-03'],
              ...['02-15', '02-16', '02-17', '02-18', '02-19', '02-20', '02-21', '02-22', '02-23'],
              ...['04-04', '04-05', '04-06'],
              ...['05-01', '05-02', '05-03', '05-04', '05-05'],
              ...['06-19', '06-20', '06-21'],
              ...['09-25', '09-26', '09-27'],
              ...['10-01', '10-02', '10-03', '10-04', '10-05', '10-06', '10-07'],
            ].map((d) => `2026-${d}`),
            workdays: ['01-04', '02-14', '02-28', '05-09', '09-20', '10-10'].map((d) => `2026-${d}`),
          },
        ],
      ]),
    );
    for (let d = '2026-01-01'; d <= '2026-12-31'; d = addDays(d, 1)) expect([d, calendar.isWorkingDay(d)]).toEqual([d, notice.isWorkingDay(d)]);
  });
});
