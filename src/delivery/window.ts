/**
 * Maintenance windows: the hours a legacy system accepts deliveries, in its own time zone, with
 * dated exceptions (holidays closed all day, make-up working days open).
 */
import { DateTime } from 'luxon';
import type { MaintenanceWindow } from '../config/schema';

/** How far ahead to look for the next opening; a window that never opens is re-checked daily. */
const HORIZON_DAYS = 60;

function ranges(window: MaintenanceWindow, day: DateTime): Array<[DateTime, DateTime]> {
  const exception = window.exceptions.find((e) => e.date === day.toISODate());
  const open = exception ? exception.open : window.days.includes(day.weekday);
  if (!open) return [];
  return window.hours.map((range) => {
    const [from, to] = range.split('-') as [string, string];
    const at = (hhmm: string) => {
      const [h, m] = hhmm.split(':').map(Number) as [number, number];
      return h === 24 ? day.plus({ days: 1 }).startOf('day') : day.set({ hour: h, minute: m, second: 0, millisecond: 0 });
    };
    return [at(from), at(to)];
  });
}

/** 0 while the window is open; otherwise the milliseconds until it next opens. */
export function msUntilOpen(window: MaintenanceWindow, now: Date): number {
  const local = DateTime.fromJSDate(now, { zone: window.timezone });
  for (let offset = 0; offset <= HORIZON_DAYS; offset++) {
    const day = local.plus({ days: offset }).startOf('day');
    const upcoming = ranges(window, day)
      .filter(([, end]) => end > local)
      .map(([start]) => (start <= local ? 0 : start.toMillis() - local.toMillis()));
    if (upcoming.length > 0) return Math.min(...upcoming);
  }
  return 24 * 3600 * 1000;
}

/** Whether the window is open now, and when closed, when it opens (ISO time). No window: always open. */
export function windowView(window: MaintenanceWindow | undefined, now: Date): { open: boolean; opensAt?: string } {
  const wait = window ? msUntilOpen(window, now) : 0;
  return wait > 0 ? { open: false, opensAt: new Date(now.getTime() + wait).toISOString() } : { open: true };
}
