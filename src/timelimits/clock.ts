/**
 * The clock of one case (办件时限): when it is due, how many working days are left, how long it was
 * stopped. Everything here is computed from what is stored (when the case was accepted, the clock's
 * stops and restarts, when it was decided) and the time asked about, so the answer is the same
 * whoever computes it, from Redis or from the ledger, now or later.
 *
 * The rules, all in working days of Asia/Shanghai:
 * - the day of acceptance is not counted (民法典 §201); N working days end at 24:00 of the Nth
 *   counted working day after it;
 * - a stop (补正: the applicant is asked for more; 特别程序: hearing, testing, expert review…,
 *   行政许可法 §45) takes out of the count every working day after the day it began, up to and
 *   including the day it ended (or today, while it lasts): the day a stop begins is one the clock
 *   ran, and the day it ends is, like an acceptance, a new start not counted;
 * - so a due date moves by exactly the working days stopped, and a stop within one day moves nothing.
 */
import { z } from 'zod';
import { dayOf, endOfDay, shanghaiIso, startOfDay, type WorkCalendar } from './calendar';
import type { Item } from './config';

export const stopReasonSchema = z.enum(['need_more', 'special_procedure']);
export type StopReason = z.infer<typeof stopReasonSchema>;

/** One change of the clock, as stored (a list per case, oldest first). */
export interface ClockEntry {
  at: string;
  event: 'stop' | 'resume';
  reason: StopReason;
  /** The system whose result stopped or restarted it (none for a resubmission, which ends every 补正 stop). */
  systemId?: string;
  /** The special procedure's kind, as the system named it. */
  kind?: string;
}

export const clockStopSchema = z.object({
  reason: stopReasonSchema,
  from: z.string(),
  to: z.string().optional(),
  systemId: z.string().optional(),
  kind: z.string().optional(),
});
export type ClockStop = z.infer<typeof clockStopSchema>;

export const timeLimitSchema = z.object({
  type: z.union([z.literal(1), z.literal(2)]).describe('办件类型 (GB/T 39046-2020 A.6): 1 即办件, 2 承诺件.'),
  legalDueAt: z.string().optional().describe('End of the legal limit (法定时限), Asia/Shanghai.'),
  promisedDueAt: z.string().optional().describe('End of the promised limit (承诺时限), Asia/Shanghai.'),
  workingDaysLeft: z.number().int().describe('Working days left after today before the promised (else legal) limit ends; negative: working days past it.'),
  stoppedWorkingDays: z.number().int().describe('Working days the clock did not count: 补正 and special procedures.'),
  state: z.enum(['running', 'stopped', 'done']),
  overdue: z.boolean().describe('Past the promised (else legal) limit, or decided after it.'),
  stops: z.array(clockStopSchema),
  weekendsOnly: z.array(z.number().int()).optional().describe('Years the count touched that have no calendar configured: counted with weekends only.'),
});
export type TimeLimit = z.infer<typeof timeLimitSchema>;

/** The stops of a clock, from its entries: a 补正 stop ends at a resubmission, a special procedure at its end. */
export function stopsOf(entries: readonly ClockEntry[]): ClockStop[] {
  const stops: ClockStop[] = [];
  for (const e of entries) {
    const open = stops.filter((s) => s.to === undefined && s.reason === e.reason);
    if (e.event === 'stop') {
      // One open stop per reason and system: a repeated start is the same stop.
      if (open.some((s) => s.systemId === e.systemId)) continue;
      stops.push({ reason: e.reason, from: e.at, ...(e.systemId ? { systemId: e.systemId } : {}), ...(e.kind ? { kind: e.kind } : {}) });
      continue;
    }
    // A resubmission ends every 补正 stop; a procedure's end ends that system's procedure.
    for (const s of open) if (e.reason === 'need_more' || s.systemId === e.systemId) s.to = e.at;
  }
  return stops;
}

/** The clock's run: 1 until its first restart, then one more at each restart. */
export function runOf(entries: readonly ClockEntry[]): number {
  return 1 + entries.filter((e) => e.event === 'resume').length;
}

export interface ClockInput {
  acceptedAt: string;
  item: Item;
  entries: readonly ClockEntry[];
  /** When the case was decided (every delivery ended); unset while it is open. */
  doneAt?: string;
  now: Date;
  calendar: WorkCalendar;
}

/** The clock as the case view shows it, and what the monitor and the reports need besides. */
export interface Clock {
  view: TimeLimit;
  run: number;
  /** When `case.due_soon` becomes due (the working days left reach warnDays), if the item warns. */
  dueSoonAt?: Date;
  /** When the case becomes overdue: just after the promised (else legal) limit ends. */
  overdueAt?: Date;
  /** Working days counted from acceptance to the decision (or to now, while open). */
  handlingWorkingDays: number;
  /** Whether it was (or will be, if decided now) within each limit; undefined where there is no such limit. */
  withinPromised?: boolean;
  withinLegal?: boolean;
}

const HOUR_MS = 3_600_000;

export function clockOf(input: ClockInput): Clock {
  const { item, calendar } = input;
  const stops = stopsOf(input.entries);
  const at = input.doneAt ? new Date(input.doneAt) : input.now;
  const acceptDay = dayOf(input.acceptedAt);
  const today = dayOf(at);
  // The working days taken out of the count, as a set: stops may overlap (two systems asking at once).
  const stopped = new Set<string>();
  let stoppedMs = 0;
  for (const s of stops) {
    const to = s.to ? new Date(s.to) : at;
    for (const day of calendar.workingDaysIn(dayOf(s.from), dayOf(to))) stopped.add(day);
    stoppedMs += Math.max(0, to.getTime() - Date.parse(s.from));
  }
  const skip = (day: string) => stopped.has(day);
  const dueDay = (days: number) => calendar.addWorkingDays(acceptDay, days, skip);
  const legalDue = item.legalDays === undefined ? undefined : endOfDay(dueDay(item.legalDays));
  const promisedDue =
    item.promisedDays !== undefined
      ? endOfDay(dueDay(item.promisedDays))
      : item.promisedHours !== undefined
        ? new Date(Date.parse(input.acceptedAt) + item.promisedHours * HOUR_MS + stoppedMs)
        : undefined;
  const due = promisedDue ?? legalDue;
  const referenceDays = item.promisedDays ?? (item.promisedHours === undefined ? item.legalDays : undefined);

  const overdue = due !== undefined && at.getTime() > due.getTime();
  let workingDaysLeft = 0;
  if (due) {
    const dueOn = dayOf(due);
    workingDaysLeft = overdue ? -calendar.workingDaysBetween(dueOn, today, skip) : calendar.workingDaysBetween(today, dueOn, skip);
  }
  const open = stops.some((s) => s.to === undefined);
  const state = input.doneAt ? 'done' : open ? 'stopped' : 'running';
  const latest = [due, legalDue].reduce<string>((d, x) => (x && dayOf(x) > d ? dayOf(x) : d), today);
  const weekendsOnly = calendar.missingYears(acceptDay, latest);

  // Left after day t is the number of counted days c1…cN after t: at most w from the start of c(N−w) on.
  const warnDays = item.warnDays;
  const dueSoonAt =
    warnDays === undefined || referenceDays === undefined ? undefined : referenceDays - warnDays <= 0 ? new Date(input.acceptedAt) : startOfDay(dueDay(referenceDays - warnDays));

  return {
    view: {
      type: item.type,
      ...(legalDue ? { legalDueAt: shanghaiIso(legalDue) } : {}),
      ...(promisedDue ? { promisedDueAt: shanghaiIso(promisedDue) } : {}),
      workingDaysLeft,
      stoppedWorkingDays: stopped.size,
      state,
      overdue,
      stops: stops.map((s) => ({ ...s })),
      ...(weekendsOnly.length ? { weekendsOnly } : {}),
    },
    run: runOf(input.entries),
    ...(dueSoonAt ? { dueSoonAt } : {}),
    ...(due ? { overdueAt: new Date(due.getTime() + 1) } : {}),
    handlingWorkingDays: calendar.workingDaysBetween(acceptDay, today, skip),
    ...(promisedDue ? { withinPromised: at.getTime() <= promisedDue.getTime() } : {}),
    ...(legalDue ? { withinLegal: at.getTime() <= legalDue.getTime() } : {}),
  };
}
