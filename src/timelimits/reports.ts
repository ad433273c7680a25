/**
 * The reports that prove the service: timeliness per item, system, level or channel, and the
 * GB/T 39046 export. Cases are counted by acceptance in [from, to); each is read from Redis while it
 * is there and from the ledger once it has left, and its figures are computed from what is stored
 * (the same clock functions as the case view), so a case counts the same wherever it is read.
 */
import { z } from 'zod';
import type { GatewayConfig } from '../config/loader';
import type { Case, DeliveryView } from '../cases/model';
import type { CaseRecord, CaseStore } from '../cases/store';
import type { Ledger } from '../ledger/ledger';
import { caseClock, decidedAt } from './case-clock';
import { stopsOf, type ClockEntry } from './clock';
import { CHANNEL_CODE_LIST, CHANNEL_CODES, csvCell, gbtRecord, GBT_COLUMNS, type GbtCaseRecord } from './gbt39046';

/** A case as the reports read it, wherever it is kept. */
export interface ReportedCase {
  record: CaseRecord;
  deliveries: Array<DeliveryView & { level?: string }>;
  clock: readonly ClockEntry[];
}

export interface ReportSources {
  config: () => GatewayConfig;
  store: CaseStore;
  ledger?: Pick<Ledger, 'casesAcceptedBetween'>;
}

/** Every case accepted in [from, to): those in Redis, then those only the ledger still has. */
export async function casesAccepted(sources: ReportSources, from: Date, to: Date): Promise<ReportedCase[]> {
  const { store } = sources;
  const systems = sources.config().systems;
  const found = new Map<string, ReportedCase>();
  for (const caseId of await store.acceptedBetween(from, to)) {
    const [record, view, clock] = await Promise.all([store.getCase(caseId), store.view(caseId), store.clock(caseId)]);
    if (!record || !view) continue; // left for the ledger meanwhile: read there below
    found.set(caseId, { record, deliveries: view.deliveries.map((d) => ({ ...d, level: systems.get(d.systemId)?.level })), clock });
  }
  for (const archived of (await sources.ledger?.casesAcceptedBetween(from, to)) ?? []) {
    const { caseId } = archived.record.case;
    if (!found.has(caseId)) found.set(caseId, { record: archived.record, deliveries: archived.deliveries, clock: archived.record.clock ?? [] });
  }
  return [...found.values()].sort((a, b) => a.record.acceptedAt.localeCompare(b.record.acceptedAt) || a.record.case.caseId.localeCompare(b.record.case.caseId));
}

export const GROUP_BY = ['item', 'system', 'level', 'channel'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const timelinessRowSchema = z.object({
  key: z.string().describe('The item code, system id, level or channel (window, web, mobile, self-service).'),
  cases: z.number().int(),
  completed: z.number().int().describe('Decided: every delivery ended, none waiting on the applicant or a special procedure.'),
  onTimePromised: z.number().int().describe('Completed within the promised limit (cases whose item has one).'),
  onTimeLegal: z.number().int().describe('Completed within the legal limit (cases whose item has one).'),
  medianWorkingDays: z.number().nullable().describe('Working days from acceptance to decision, stops left out: the median of the completed cases with a time limit (nearest rank).'),
  p90WorkingDays: z.number().nullable(),
  overdueOpen: z.number().int().describe('Not completed and past the promised (else legal) limit.'),
  stoppedNeedMore: z.number().int().describe('Cases whose clock was stopped for 补正 at least once.'),
  stoppedSpecial: z.number().int().describe('Cases whose clock was stopped for a special procedure at least once.'),
  channels: z.record(z.enum(CHANNEL_CODE_LIST), z.number().int()).describe('Cases per 申报来源代码 (GB/T 39046 A.5): 1 窗口, 2 电脑端, 3 移动端, 9 其他.'),
  promisedCut: z.number().nullable().describe('1 − Σ promised / Σ legal working days, over the cases whose item has both.'),
});
export type TimelinessRow = z.infer<typeof timelinessRowSchema>;

export const timelinessSchema = z.object({ from: z.string(), to: z.string(), groupBy: z.enum(GROUP_BY), rows: z.array(timelinessRowSchema) });
export type Timeliness = z.infer<typeof timelinessSchema>;

/** The q-quantile by nearest rank (q = 0.5: the median), of numbers sorted ascending. */
function nearestRank(sorted: readonly number[], q: number): number | null {
  return sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! : null;
}

function keysOf(c: ReportedCase, groupBy: GroupBy): string[] {
  switch (groupBy) {
    case 'item':
      return [c.record.case.itemCode];
    case 'channel':
      return [c.record.case.channel];
    case 'system':
      return [...new Set(c.record.targets)];
    case 'level':
      return [...new Set(c.deliveries.map((d) => d.level ?? 'unknown'))];
  }
}

interface Tally {
  cases: number;
  completed: number;
  onTimePromised: number;
  onTimeLegal: number;
  days: number[];
  overdueOpen: number;
  stoppedNeedMore: number;
  stoppedSpecial: number;
  channels: Record<(typeof CHANNEL_CODE_LIST)[number], number>;
  promised: number;
  legal: number;
}

export function timeliness(cases: readonly ReportedCase[], groupBy: GroupBy, config: GatewayConfig['timeLimits'], now: Date): TimelinessRow[] {
  const tallies = new Map<string, Tally>();
  for (const c of cases) {
    const clock = caseClock({ itemCode: c.record.case.itemCode, acceptedAt: c.record.acceptedAt, deliveries: c.deliveries, clock: c.clock }, config, now);
    const item = config.items.find(c.record.case.itemCode);
    const done = decidedAt(c.deliveries) !== undefined;
    const stops = stopsOf(c.clock);
    for (const key of keysOf(c, groupBy)) {
      const t = tallies.get(key) ?? { cases: 0, completed: 0, onTimePromised: 0, onTimeLegal: 0, days: [], overdueOpen: 0, stoppedNeedMore: 0, stoppedSpecial: 0, channels: { 1: 0, 2: 0, 3: 0, 9: 0 }, promised: 0, legal: 0 };
      tallies.set(key, t);
      t.cases++;
      t.channels[CHANNEL_CODES[c.record.case.channel]]++;
      if (stops.some((s) => s.reason === 'need_more')) t.stoppedNeedMore++;
      if (stops.some((s) => s.reason === 'special_procedure')) t.stoppedSpecial++;
      if (item?.promisedDays !== undefined && item.legalDays !== undefined) {
        t.promised += item.promisedDays;
        t.legal += item.legalDays;
      }
      if (done) t.completed++;
      if (!clock) continue;
      if (done) {
        if (clock.withinPromised) t.onTimePromised++;
        if (clock.withinLegal) t.onTimeLegal++;
        t.days.push(clock.handlingWorkingDays);
      } else if (clock.view.overdue) t.overdueOpen++;
    }
  }
  return [...tallies.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, t]) => {
      const days = [...t.days].sort((a, b) => a - b);
      return {
        key,
        cases: t.cases,
        completed: t.completed,
        onTimePromised: t.onTimePromised,
        onTimeLegal: t.onTimeLegal,
        medianWorkingDays: nearestRank(days, 0.5),
        p90WorkingDays: nearestRank(days, 0.9),
        overdueOpen: t.overdueOpen,
        stoppedNeedMore: t.stoppedNeedMore,
        stoppedSpecial: t.stoppedSpecial,
        channels: t.channels,
        promisedCut: t.legal > 0 ? Math.round((1 - t.promised / t.legal) * 10_000) / 10_000 : null,
      };
    });
}

const TIMELINESS_COLUMNS = ['key', 'cases', 'completed', 'onTimePromised', 'onTimeLegal', 'medianWorkingDays', 'p90WorkingDays', 'overdueOpen', 'stoppedNeedMore', 'stoppedSpecial', 'channel1', 'channel2', 'channel3', 'channel9', 'promisedCut'] as const;

export function timelinessCsv(rows: readonly TimelinessRow[]): string {
  const lines = rows.map((r) => {
    const flat: Record<(typeof TIMELINESS_COLUMNS)[number], unknown> = { ...r, channel1: r.channels[1], channel2: r.channels[2], channel3: r.channels[3], channel9: r.channels[9] };
    return TIMELINESS_COLUMNS.map((c) => csvCell(flat[c])).join(',');
  });
  return [TIMELINESS_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}

/** The GB/T 39046 records of the cases, in acceptance order. */
export function gbtRecords(cases: readonly ReportedCase[], config: GatewayConfig['timeLimits'], now: Date): GbtCaseRecord[] {
  return cases.map((c) => {
    const clock = caseClock({ itemCode: c.record.case.itemCode, acceptedAt: c.record.acceptedAt, deliveries: c.deliveries, clock: c.clock }, config, now);
    const decided = decidedAt(c.deliveries);
    const due = clock?.view.promisedDueAt ?? clock?.view.legalDueAt;
    return gbtRecord({ case: c.record.case as Case, acceptedAt: c.record.acceptedAt, deliveries: c.deliveries, ...(clock ? { type: clock.view.type } : {}), ...(due ? { promisedDueAt: due } : {}), ...(decided ? { decidedAt: decided } : {}) });
  });
}

export function gbtCsv(records: readonly GbtCaseRecord[]): string {
  return [GBT_COLUMNS.join(','), ...records.map((r) => GBT_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
}

export function gbtJsonLines(records: readonly GbtCaseRecord[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}
