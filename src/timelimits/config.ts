/**
 * config/items.yaml (the item catalogue: each item's time limits) and config/calendar/<year>.yaml
 * (each year's holidays and 调休 working days), their schemas and how they are read.
 */
import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { dayOf, isWeekend, WorkCalendar, type CalendarYear } from './calendar';

/** 办件类型 (GB/T 39046-2020 table A.6): 1 即办件 (handled on the spot), 2 承诺件 (handled within a promised limit). */
export const ITEM_TYPES = { 1: '即办件', 2: '承诺件' } as const;

const workingDays = z.number().int().min(0).max(365);

export const itemSchema = z
  .strictObject({
    /** Glob on the case's itemCode (`*` any run of characters, `?` one); the first matching entry decides. */
    itemCode: z.string().min(1).max(100),
    name: z.string().min(1).max(200).optional(),
    type: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (即办件) or 2 (承诺件)' }),
    /** 法定时限, in working days. */
    legalDays: workingDays.optional(),
    /** 承诺时限, in working days (承诺件). */
    promisedDays: workingDays.optional(),
    /** 承诺时限 of a 即办件, in hours of the clock. */
    promisedHours: z.number().positive().max(24 * 30).optional(),
    /** `case.due_soon` is sent when this many working days or fewer are left. */
    warnDays: z.number().int().min(0).max(60).optional(),
  })
  .superRefine((item, ctx) => {
    if (item.type === 2 && item.legalDays === undefined && item.promisedDays === undefined) {
      ctx.addIssue({ code: 'custom', path: ['legalDays'], message: 'a 承诺件 (type 2) needs legalDays or promisedDays' });
    }
    if (item.type === 2 && item.promisedHours !== undefined) ctx.addIssue({ code: 'custom', path: ['promisedHours'], message: 'only a 即办件 (type 1) is promised in hours; use promisedDays' });
    if (item.type === 1 && item.promisedDays !== undefined) ctx.addIssue({ code: 'custom', path: ['promisedDays'], message: 'a 即办件 (type 1) is promised in hours (promisedHours)' });
    // 行政许可法 §42: the promised limit is within the legal one.
    if (item.legalDays !== undefined && item.promisedDays !== undefined && item.promisedDays > item.legalDays) {
      ctx.addIssue({ code: 'custom', path: ['promisedDays'], message: `must not exceed legalDays (${item.legalDays})` });
    }
    const limit = item.promisedDays ?? item.legalDays;
    if (item.warnDays !== undefined && limit !== undefined && item.warnDays >= limit) {
      ctx.addIssue({ code: 'custom', path: ['warnDays'], message: `must be less than the limit it warns of (${limit} working days)` });
    }
  });
export type Item = z.infer<typeof itemSchema>;

export const itemsFileSchema = z.strictObject({ items: z.array(itemSchema).default([]) });
export type ItemsFile = z.infer<typeof itemsFileSchema>;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2026-10-01')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a date of the calendar');

/** One year's calendar; `year` is the file's, for checking that every date lies in it. */
export function calendarYearSchema(year: number) {
  const inYear = isoDate.refine((d) => d.startsWith(`${year}-`), `must lie in ${year} (the file's year)`);
  return z
    .strictObject({
      /** Statutory holidays and the days off around them. */
      holidays: z.array(inYear).default([]),
      /** Weekend days that are working days (调休). */
      workdays: z.array(inYear.refine(isWeekend, 'is not a Saturday or Sunday: only a weekend day can be made a working day')).default([]),
    })
    .superRefine((file, ctx) => {
      const holidays = new Set(file.holidays);
      file.workdays.forEach((d, i) => holidays.has(d) && ctx.addIssue({ code: 'custom', path: ['workdays', i], message: `${d} is also listed among the holidays` }));
      for (const key of ['holidays', 'workdays'] as const) {
        const seen = new Set<string>();
        file[key].forEach((d, i) => (seen.has(d) ? ctx.addIssue({ code: 'custom', path: [key, i], message: `${d} is listed twice` }) : seen.add(d)));
      }
    });
}

export const CALENDAR_DIR = 'calendar';

/** The calendar files of a configuration folder: `calendar/<year>.yaml` and the year of each. */
export function calendarFiles(dir: string): Array<{ file: string; year: number | undefined }> {
  const folder = path.join(dir, CALENDAR_DIR);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ file: `${CALENDAR_DIR}/${f}`, year: /^(\d{4})\.ya?ml$/.test(f) ? Number(f.slice(0, 4)) : undefined }));
}

/** The item catalogue, answering the entry an item code falls under (first match, top to bottom). */
export class ItemCatalogue {
  private readonly matchers: Array<(code: string) => boolean>;

  constructor(readonly items: readonly Item[]) {
    this.matchers = items.map((i) => picomatch(i.itemCode, { nocase: false, dot: true }));
  }

  find(itemCode: string): Item | undefined {
    const index = this.matchers.findIndex((m) => m(itemCode));
    return index >= 0 ? this.items[index] : undefined;
  }
}

/** What the time limits need of the configuration. */
export interface TimeLimitConfig {
  items: ItemCatalogue;
  calendar: WorkCalendar;
}

export function timeLimitConfig(items: ItemsFile, years: ReadonlyMap<number, CalendarYear>): TimeLimitConfig {
  return { items: new ItemCatalogue(items.items), calendar: new WorkCalendar(years) };
}

/**
 * The years a case accepted now may be counted in without a calendar: this year, and from
 * November on the next (a 20-working-day limit reaches into it). Start-up warns of each.
 */
export function missingCalendarYears(config: TimeLimitConfig, now: Date): number[] {
  if (config.items.items.length === 0) return [];
  const day = dayOf(now);
  const year = Number(day.slice(0, 4));
  const years = day.slice(5) >= '11-01' ? [year, year + 1] : [year];
  return years.filter((y) => !config.calendar.has(y));
}
