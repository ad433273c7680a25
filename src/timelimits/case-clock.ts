/**
 * The clock of a stored case: the item's limits from the catalogue, the clock's entries, and when
 * the case was decided, read off its deliveries. The same for a case in Redis and one in the ledger.
 */
import type { DeliveryView } from '../cases/model';
import { clockOf, stopsOf, type Clock, type ClockEntry } from './clock';
import type { TimeLimitConfig } from './config';

/** History events that end a delivery, each with the time it ended. */
const ENDINGS = new Set(['result', 'rejected', 'dead', 'discarded', 'replayed']);

/**
 * When the case was decided: every delivery ended, and none waits for the applicant (need_more) or
 * for a special procedure, nor is a dead letter ops may still replay. Undefined while it is open.
 */
export function decidedAt(deliveries: readonly DeliveryView[]): string | undefined {
  if (deliveries.length === 0) return undefined;
  let latest: string | undefined;
  for (const d of deliveries) {
    if (d.status !== 'completed' && d.status !== 'rejected' && d.status !== 'dead') return undefined;
    if (d.status === 'completed' && (d.result?.outcome === 'need_more' || d.result?.procedure)) return undefined;
    const last = [...d.history].reverse().find((h) => ENDINGS.has(h.event));
    if (d.status === 'dead' && last?.event !== 'discarded') return undefined;
    const at = last?.at;
    if (at && (!latest || Date.parse(at) > Date.parse(latest))) latest = at;
  }
  return latest;
}

export interface StoredCase {
  itemCode: string;
  acceptedAt: string;
  deliveries: readonly DeliveryView[];
  clock: readonly ClockEntry[];
}

/** The case's clock, or undefined when its item has no time limits in the catalogue. */
export function caseClock(stored: StoredCase, config: TimeLimitConfig, now: Date): Clock | undefined {
  const item = config.items.find(stored.itemCode);
  if (!item) return undefined;
  const doneAt = decidedAt(stored.deliveries);
  return clockOf({ acceptedAt: stored.acceptedAt, item, entries: stored.clock, now, calendar: config.calendar, ...(doneAt ? { doneAt } : {}) });
}

/** Whether the clock waits on the applicant or a special procedure: such a case is not final. */
export function clockStopped(entries: readonly ClockEntry[]): boolean {
  return stopsOf(entries).some((s) => s.to === undefined);
}
