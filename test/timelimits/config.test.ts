/**
 * config/items.yaml and config/calendar/<year>.yaml are checked at start-up like every other file:
 * every problem listed with its file and key, nothing started; a year without a calendar is a
 * warning, not an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/loader';
import { missingCalendarYears } from '../../src/timelimits/config';
import { restSystem, writeConfig } from '../support/harness';

function folder(items: unknown, calendars: Record<string, unknown> = {}): string {
  const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/a')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
  if (items !== undefined) fs.writeFileSync(path.join(dir, 'items.yaml'), YAML.stringify(items));
  if (Object.keys(calendars).length) fs.mkdirSync(path.join(dir, 'calendar'));
  for (const [name, content] of Object.entries(calendars)) fs.writeFileSync(path.join(dir, 'calendar', name), typeof content === 'string' ? content : YAML.stringify(content));
  return dir;
}

function issuesOf(dir: string) {
  try {
    loadConfig(dir, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.file} at ${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('items.yaml and the calendar', () => {
  it('when both are valid, then the first matching item decides and the calendar counts its holidays', () => {
    const dir = folder(
      { items: [{ itemCode: '330800-FG-001', type: 1, promisedHours: 2 }, { itemCode: '330800-*', name: '市级事项', type: 2, legalDays: 20, promisedDays: 5, warnDays: 2 }] },
      { '2026.yaml': { holidays: ['2026-10-01'], workdays: ['2026-10-10'] } },
    );
    const { timeLimits } = loadConfig(dir, {});
    expect(timeLimits.items.find('330800-FG-001')).toMatchObject({ type: 1, promisedHours: 2 });
    expect(timeLimits.items.find('330800-FG-002')).toMatchObject({ type: 2, promisedDays: 5 });
    expect(timeLimits.items.find('330000-SCJG-1')).toBeUndefined();
    expect(timeLimits.calendar.isWorkingDay('2026-10-01')).toBe(false);
    expect(timeLimits.calendar.isWorkingDay('2026-10-10')).toBe(true);
  });

  it('when neither file is there, then no item has a limit and nothing is refused', () => {
    const { timeLimits } = loadConfig(folder(undefined), {});
    expect(timeLimits.items.items).toEqual([]);
    expect(timeLimits.calendar.years()).toEqual([]);
    expect(missingCalendarYears(timeLimits, new Date('2026-12-01T00:00:00Z'))).toEqual([]);
  });

  it('when items and calendars are wrong in many ways, then every problem is listed with its file and key', () => {
    const dir = folder(
      {
        items: [
          { itemCode: 'a-*', type: 2 },
          { itemCode: 'b-*', type: 2, legalDays: 10, promisedDays: 12 },
          { itemCode: 'c-*', type: 1, promisedDays: 1 },
          { itemCode: 'd-*', type: 3, legalDays: 1 },
          { itemCode: 'e-*', type: 2, legalDays: 5, warnDays: 5, colour: 'red' },
        ],
      },
      {
        '2026.yaml': { holidays: ['2026-10-01', '2026-10-01', '2027-01-01', '2026-02-30'], workdays: ['2026-10-09', '2026-10-10'] },
        'next.yaml': { holidays: [] },
        '2027.yaml': 'holidays: [2027-01-01\n',
      },
    );
    const issues = issuesOf(dir);
    expect(issues).toEqual(
      expect.arrayContaining([
        'items.yaml at items[0].legalDays: a 承诺件 (type 2) needs legalDays or promisedDays',
        'items.yaml at items[1].promisedDays: must not exceed legalDays (10)',
        'items.yaml at items[2].promisedDays: a 即办件 (type 1) is promised in hours (promisedHours)',
        "items.yaml at items[3].type: must be 1 (即办件) or 2 (承诺件)",
        expect.stringMatching(/^items\.yaml at items\[4\]: Unrecognized key: "colour"/),
        'calendar/2026.yaml at holidays[1]: 2026-10-01 is listed twice',
        "calendar/2026.yaml at holidays[2]: must lie in 2026 (the file's year)",
        'calendar/2026.yaml at holidays[3]: not a date of the calendar',
        'calendar/2026.yaml at workdays[0]: is not a Saturday or Sunday: only a weekend day can be made a working day',
        'calendar/next.yaml at : a calendar file is named after its year, e.g. calendar/2026.yaml',
        expect.stringMatching(/^calendar\/2027\.yaml at line \d: /),
      ]),
    );
  });

  it('when warnDays is not below the limit it warns of, then it is refused', () => {
    expect(issuesOf(folder({ items: [{ itemCode: '*', type: 2, legalDays: 5, warnDays: 5 }] }))).toEqual(['items.yaml at items[0].warnDays: must be less than the limit it warns of (5 working days)']);
  });

  it('when this year (or, from November, next year) has no calendar, then start-up is told which', () => {
    const { timeLimits } = loadConfig(folder({ items: [{ itemCode: '*', type: 2, legalDays: 20 }] }, { '2026.yaml': { holidays: [] } }), {});
    expect(missingCalendarYears(timeLimits, new Date('2026-06-01T00:00:00+08:00'))).toEqual([]);
    expect(missingCalendarYears(timeLimits, new Date('2026-11-01T00:00:00+08:00'))).toEqual([2027]);
    expect(missingCalendarYears(timeLimits, new Date('2027-03-01T00:00:00+08:00'))).toEqual([2027]);
  });
});
