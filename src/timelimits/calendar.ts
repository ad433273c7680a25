/**
 * Working days on China's calendar, counted in Asia/Shanghai. Time limits of administrative
 * licensing are working days with statutory holidays left out (行政许可法 §82), and the calendar
 * of each year is the State Council's notice: holidays, and the weekend days that are worked
 * instead (调休). A year whose calendar is not configured is counted with weekends only, and every
 * answer that touched such a year says so.
 *
 * Days are ISO dates (`YYYY-MM-DD`) of the Shanghai calendar. Shanghai has kept UTC+8 without
 * summer time since 1991, so a day is always 24 hours; the date arithmetic is done on UTC dates.
 */
import { DateTime } from 'luxon';

export const TIME_ZONE = 'Asia/Shanghai';

/** One year's notice: holidays, and the weekend days that are working days (调休). */
export interface CalendarYear {
  holidays: readonly string[];
  workdays: readonly string[];
}

const DAY_MS = 86_400_000;

/** The Shanghai date of an instant. */
export function dayOf(instant: string | Date): string {
  const at = typeof instant === 'string' ? DateTime.fromISO(instant, { setZone: true }) : DateTime.fromJSDate(instant);
  if (!at.isValid) throw new Error(`not a date-time: ${String(instant)}`);
  return at.setZone(TIME_ZONE).toISODate()!;
}

/** The day after (n = 1) or n days after `day`. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** 00:00 of a Shanghai day, as an instant. */
export function startOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00+08:00`));
}

/** The last instant of a Shanghai day (24:00, less a millisecond): when a period ending that day ends. */
export function endOfDay(day: string): Date {
  return new Date(startOfDay(day).getTime() + DAY_MS - 1);
}

/** An instant written in Shanghai time, as the case view shows due dates (e.g. 2026-12-14T23:59:59.999+08:00). */
export function shanghaiIso(at: Date): string {
  return DateTime.fromJSDate(at).setZone(TIME_ZONE).toISO()!;
}

/** ISO weekday of a day, 1 = Monday … 7 = Sunday. */
function weekday(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export function isWeekend(day: string): boolean {
  return weekday(day) >= 6;
}

/** How far any count may look ahead: a limit that needs more than this is a configuration no one meant. */
const MAX_SPAN_DAYS = 20 * 366;

export class WorkCalendar {
  private readonly holidays = new Set<string>();
  private readonly workdays = new Set<string>();
  private readonly known: ReadonlySet<number>;

  constructor(years: ReadonlyMap<number, CalendarYear>) {
    for (const year of years.values()) {
      for (const d of year.holidays) this.holidays.add(d);
      for (const d of year.workdays) this.workdays.add(d);
    }
    this.known = new Set(years.keys());
  }

  /** The years configured, ascending. */
  years(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  has(year: number): boolean {
    return this.known.has(year);
  }

  /** A working day: a weekday that is not a holiday, or a weekend day worked instead (调休). */
  isWorkingDay(day: string): boolean {
    if (this.workdays.has(day)) return true;
    if (this.holidays.has(day)) return false;
    return !isWeekend(day);
  }

  /** The years between two days (both included) that have no calendar: counted with weekends only. */
  missingYears(from: string, to: string): number[] {
    const missing: number[] = [];
    for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) if (!this.known.has(y)) missing.push(y);
    return missing;
  }

  /**
   * The day on which `n` working days from `start` end: `start` itself is not counted (民法典 §201),
   * nor is any day `skip` names (a day the clock was stopped). n = 0 is `start`.
   */
  addWorkingDays(start: string, n: number, skip: (day: string) => boolean = () => false): string {
    if (!Number.isInteger(n) || n < 0) throw new Error(`a number of working days must be a whole number, not ${n}`);
    let day = start;
    for (let counted = 0, i = 0; counted < n; ) {
      day = addDays(day, 1);
      if (++i > MAX_SPAN_DAYS) throw new Error(`${n} working days from ${start} reach past ${day}`);
      if (this.isWorkingDay(day) && !skip(day)) counted++;
    }
    return day;
  }

  /** Working days after `from` up to and including `to` (0 when `to` is not after `from`), less those `skip` names. */
  workingDaysBetween(from: string, to: string, skip: (day: string) => boolean = () => false): number {
    let n = 0;
    for (let day = addDays(from, 1), i = 0; day <= to; day = addDays(day, 1)) {
      if (++i > MAX_SPAN_DAYS) throw new Error(`the span from ${from} to ${to} is too long to count`);
      if (this.isWorkingDay(day) && !skip(day)) n++;
    }
    return n;
  }

  /** The working days after `from` up to and including `to`, as a set of days. */
  workingDaysIn(from: string, to: string): string[] {
    const days: string[] = [];
    for (let day = addDays(from, 1), i = 0; day <= to; day = addDays(day, 1)) {
      if (++i > MAX_SPAN_DAYS) throw new Error(`the span from ${from} to ${to} is too long to count`);
      if (this.isWorkingDay(day)) days.push(day);
    }
    return days;
  }
}
