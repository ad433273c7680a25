/**
 * Per system and day: how many deliveries were accepted, delivered, completed, rejected and dead,
 * and how long accept → completed took (median, p90). The base of the time-limit reports. Days are
 * Asia/Shanghai calendar days of acceptance; only finished cases are in the ledger.
 */
import { DateTime } from 'luxon';
import type { Sql, SqlValue } from './sql';

export interface StatsFilter {
  /** Inclusive, ISO instant. */
  from: string;
  /** Exclusive, ISO instant. */
  to: string;
  level?: string;
  systemId?: string;
  itemCode?: string;
}

export interface StatsRow {
  day: string;
  systemId: string;
  level: string | null;
  accepted: number;
  delivered: number;
  completed: number;
  rejected: number;
  dead: number;
  /** Seconds from acceptance to the result, over completed deliveries; null when none completed. */
  medianSeconds: number | null;
  p90Seconds: number | null;
}

export const STATS_ZONE = 'Asia/Shanghai';

/**
 * The query's time range from `from`/`to` as given: a date (YYYY-MM-DD) is a whole Shanghai day,
 * `to` included; an instant is taken as it is. Undefined when either does not parse.
 */
export function statsRange(from: string | undefined, to: string | undefined, now: Date): { from: string; to: string } | undefined {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const parse = (s: string, end: boolean) => {
    const t = day.test(s) ? DateTime.fromISO(s, { zone: STATS_ZONE }).plus({ days: end ? 1 : 0 }) : DateTime.fromISO(s, { setZone: true });
    return t.isValid ? t.toUTC().toISO() : null;
  };
  const start = from === undefined ? DateTime.fromJSDate(now).minus({ days: 30 }).toUTC().toISO() : parse(from, false);
  const end = to === undefined ? DateTime.fromJSDate(now).toUTC().toISO() : parse(to, true);
  return start && end ? { from: start, to: end } : undefined;
}

interface Row {
  day: string;
  system_id: string;
  level: string | null;
  accepted: number;
  delivered: number;
  completed: number;
  rejected: number;
  dead: number;
  median_s: number | null;
  p90_s: number | null;
}

export async function queryStats(db: Sql, filter: StatsFilter): Promise<StatsRow[]> {
  const params: SqlValue[] = [filter.from, filter.to];
  const where = ['d.accepted_at >= $1::timestamptz', 'd.accepted_at < $2::timestamptz'];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  };
  add('d.level', filter.level);
  add('d.system_id', filter.systemId);
  add('c.item_code', filter.itemCode);
  // CASE instead of FILTER (...): openGauss and KingbaseES read it too.
  const took = `CASE WHEN d.status = 'completed' AND d.completed_at IS NOT NULL THEN extract(epoch FROM d.completed_at - d.accepted_at)::float8 END`;
  const rows = await db.query<Row>(
    `SELECT to_char(d.accepted_at AT TIME ZONE '${STATS_ZONE}', 'YYYY-MM-DD') AS day, d.system_id, max(d.level) AS level,
       count(*)::int AS accepted,
       count(d.delivered_at)::int AS delivered,
       count(CASE WHEN d.status = 'completed' THEN 1 END)::int AS completed,
       count(CASE WHEN d.status = 'rejected' THEN 1 END)::int AS rejected,
       count(CASE WHEN d.status = 'dead' THEN 1 END)::int AS dead,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ${took}) AS median_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ${took}) AS p90_s
     FROM ledger_deliveries d JOIN ledger_cases c ON c.case_id = d.case_id
     WHERE ${where.join(' AND ')}
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  return rows.map((r) => ({
    day: r.day,
    systemId: r.system_id,
    level: r.level,
    accepted: r.accepted,
    delivered: r.delivered,
    completed: r.completed,
    rejected: r.rejected,
    dead: r.dead,
    medianSeconds: r.median_s === null ? null : Number(r.median_s),
    p90Seconds: r.p90_s === null ? null : Number(r.p90_s),
  }));
}

const COLUMNS: (keyof StatsRow)[] = ['day', 'systemId', 'level', 'accepted', 'delivered', 'completed', 'rejected', 'dead', 'medianSeconds', 'p90Seconds'];

/** RFC 4180 CSV with a header line; every value is a plain token (ids, dates, numbers). */
export function statsCsv(rows: StatsRow[]): string {
  const cell = (v: StatsRow[keyof StatsRow]) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
