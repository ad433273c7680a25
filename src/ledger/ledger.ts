/**
 * The case ledger: where a finished case is kept once Redis lets it go, and what
 * answers for it afterwards. Writes are idempotent upserts, so a move repeated after a crash
 * changes nothing; every call records whether the database answered, for /readyz and the sweep.
 */
import path from 'node:path';
import type { CaseRecord, CaseSnapshot } from '../cases/store';
import type { ClockEntry } from '../timelimits/clock';
import { materialsView } from '../materials/record';
import { caseStatusOf, type CaseStatus, type CaseView, type DeliveryStatus, type DeliveryView, type HistoryEntry, type Result } from '../cases/model';
import type { Logger } from '../platform/logger';
import { migrate } from './migrate';
import { connectPostgres, openPglite, type SqlDatabase } from './sql';
import { insertAudit, insertLookups, readAudit, readLookups, type AuditFilter, type LookupRecord, type LookupRecordFilter, type StreamEntry } from './audit';
import { queryStats, type StatsFilter, type StatsRow } from './stats';
import { isRowRefusal } from './quarantine';

export interface ArchivedDelivery extends DeliveryView {
  level?: string;
  discarded: boolean;
  endedAt: string;
  deliveredAt?: string;
  completedAt?: string;
}

export interface ArchivedCase {
  record: CaseRecord;
  status: CaseStatus;
  finishedAt: string;
  deliveries: ArchivedDelivery[];
}

export interface LedgerState {
  kind: 'postgres' | 'pglite';
  healthy: boolean;
  lastError?: string;
  /** Since when it has been in this state. */
  since: string;
}

export interface PurgeCount {
  cases: number;
  audit: number;
  lookups: number;
}

/** What a case snapshot from Redis becomes in the ledger; `levelOf` adds each system's level. */
export function archiveOf(snapshot: CaseSnapshot, levelOf: (systemId: string) => string | undefined): ArchivedCase {
  const deliveries = snapshot.deliveries.map((d): ArchivedDelivery => {
    const { discarded, endedAt, ...view } = d;
    const deliveredAt = d.history.find((h) => h.event === 'delivered')?.at;
    const completedAt = d.status === 'completed' ? ([...d.history].reverse().find((h) => h.event === 'result')?.at ?? endedAt) : undefined;
    const level = levelOf(d.systemId);
    return { ...view, discarded, endedAt, ...(level ? { level } : {}), ...(deliveredAt ? { deliveredAt } : {}), ...(completedAt ? { completedAt } : {}) };
  });
  const finishedAt = deliveries.map((d) => d.endedAt).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), snapshot.record.acceptedAt);
  // The clock's entries travel in the record: the ledger answers for the clock as Redis did.
  // So do the materials as they were fetched: the fetch record leaves Redis with the case.
  const record = { ...snapshot.record, ...(snapshot.clock.length ? { clock: snapshot.clock } : {}), ...(snapshot.materials ? { materials: snapshot.materials } : {}) };
  return { record, status: caseStatusOf(deliveries.map((d) => d.status)), finishedAt, deliveries };
}

interface DeliveryRow {
  handover?: DeliveryView['handover'] | null;
  system_id: string;
  status: DeliveryStatus;
  attempts: number;
  receipt_no: string | null;
  last_error: string | null;
  result: Result | null;
  history: HistoryEntry[];
}

/** A delivery as its ledger row holds it, in the status API's words (what the row lacks left out). */
function deliveryOfRow(d: DeliveryRow): DeliveryView {
  return {
    systemId: d.system_id,
    status: d.status,
    attempts: d.attempts,
    ...(d.receipt_no !== null ? { receiptNo: d.receipt_no } : {}),
    ...(d.last_error !== null ? { lastError: d.last_error } : {}),
    ...(d.result !== null ? { result: d.result } : {}),
    ...(d.handover ? { handover: d.handover } : {}),
    history: d.history,
  };
}

/** What intake needs of an archived case: was it the same content, and how did its deliveries end. */
export interface ArchivedHash {
  hash: string;
  deliveries: Array<{ systemId: string; status: DeliveryStatus }>;
}

export class Ledger {
  private current: LedgerState;

  constructor(
    private readonly db: SqlDatabase,
    private readonly log: Logger,
  ) {
    this.current = { kind: db.kind, healthy: true, since: new Date().toISOString() };
  }

  get kind(): 'postgres' | 'pglite' {
    return this.db.kind;
  }

  /** False after the database failed to answer, until it answers again. Intake never asks. */
  healthy(): boolean {
    return this.current.healthy;
  }

  state(): LedgerState {
    return { ...this.current };
  }

  /** Every use of the database goes through here, so health follows what actually happened. */
  private async use<T>(work: (db: SqlDatabase) => Promise<T>): Promise<T> {
    try {
      const result = await work(this.db);
      this.answered();
      return result;
    } catch (err) {
      // A row it refuses (see quarantine.ts) is an answer: the ledger is up, the row is set aside.
      if (isRowRefusal(err)) {
        this.answered();
        throw err;
      }
      const message = (err as Error).message;
      if (this.current.healthy) this.log.warn({ ledger: this.db.kind, err: message }, 'the ledger does not answer: finished cases stay in Redis until it does');
      this.current = { kind: this.db.kind, healthy: false, lastError: message, since: this.current.healthy ? new Date().toISOString() : this.current.since };
      throw err;
    }
  }

  private answered(): void {
    if (this.current.healthy) return;
    this.log.info({ ledger: this.db.kind }, 'the ledger answers again');
    this.current = { kind: this.db.kind, healthy: true, since: new Date().toISOString() };
  }

  async ping(): Promise<boolean> {
    return this.use((db) => db.query('SELECT 1')).then(
      () => true,
      () => false,
    );
  }

  /** Writes (or rewrites) a finished case and all its deliveries, in one transaction. */
  async writeCase(archived: ArchivedCase): Promise<void> {
    await this.writeCases([archived]);
  }

  /**
   * Upserts cases with their deliveries, all in one transaction: a sweep's batch costs one commit,
   * not one per case, and is in the ledger whole or not at all. Three statements whatever the batch
   * size, the rows travelling as JSON (on the embedded database each statement costs more than the
   * rows it writes).
   */
  async writeCases(cases: readonly ArchivedCase[]): Promise<void> {
    // One row per case: a statement may not upsert the same key twice. The last one given wins.
    const byId = new Map(cases.map((c) => [c.record.case.caseId, c]));
    if (byId.size === 0) return;
    const unique = [...byId.values()];
    const caseRows = unique.map(({ record, status, finishedAt }) => ({
      case_id: record.case.caseId,
      item_code: record.case.itemCode,
      status,
      accepted_at: record.acceptedAt,
      finished_at: finishedAt,
      record,
    }));
    const deliveryRows = unique.flatMap(({ record, deliveries }) =>
      deliveries.map((d, position) => ({
        case_id: record.case.caseId,
        position,
        system_id: d.systemId,
        level: d.level ?? null,
        status: d.status,
        discarded: d.discarded,
        attempts: d.attempts,
        receipt_no: d.receiptNo ?? null,
        last_error: d.lastError ?? null,
        result: d.result ?? null,
        history: d.history,
        handover: d.handover ?? null,
        accepted_at: record.acceptedAt,
        delivered_at: d.deliveredAt ?? null,
        completed_at: d.completedAt ?? null,
        ended_at: d.endedAt,
      })),
    );
    await this.use((db) =>
      db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ledger_cases (case_id, item_code, status, accepted_at, finished_at, record)
           SELECT case_id, item_code, status, accepted_at, finished_at, record
             FROM jsonb_to_recordset($1::jsonb) AS r(case_id text, item_code text, status text, accepted_at timestamptz, finished_at timestamptz, record jsonb)
           ON CONFLICT (case_id) DO UPDATE SET item_code = EXCLUDED.item_code, status = EXCLUDED.status,
             accepted_at = EXCLUDED.accepted_at, finished_at = EXCLUDED.finished_at, record = EXCLUDED.record, archived_at = now()`,
          [JSON.stringify(caseRows)],
        );
        await tx.query('DELETE FROM ledger_deliveries WHERE case_id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))', [JSON.stringify([...byId.keys()])]);
        if (deliveryRows.length === 0) return;
        await tx.query(
          `INSERT INTO ledger_deliveries (case_id, position, system_id, level, status, discarded, attempts, receipt_no, last_error, result, history, handover,
             accepted_at, delivered_at, completed_at, ended_at)
           SELECT case_id, position, system_id, level, status, discarded, attempts, receipt_no, last_error, result, history, handover,
             accepted_at, delivered_at, completed_at, ended_at
             FROM jsonb_to_recordset($1::jsonb) AS r(case_id text, position integer, system_id text, level text, status text, discarded boolean,
               attempts integer, receipt_no text, last_error text, result jsonb, history jsonb, handover jsonb, accepted_at timestamptz, delivered_at timestamptz,
               completed_at timestamptz, ended_at timestamptz)`,
          [JSON.stringify(deliveryRows)],
        );
      }),
    );
  }

  /** The case as the status API shows it, from the ledger: the same shape, with `archived: true`. */
  async readCase(caseId: string): Promise<CaseView | undefined> {
    return this.use(async (db) => {
      const [row] = await db.query<{ item_code: string; record: CaseRecord }>('SELECT item_code, record FROM ledger_cases WHERE case_id = $1', [caseId]);
      if (!row) return undefined;
      const rows = await db.query<DeliveryRow>(
        'SELECT system_id, status, attempts, receipt_no, last_error, result, history, handover FROM ledger_deliveries WHERE case_id = $1 ORDER BY position',
        [caseId],
      );
      const deliveries = rows.map(deliveryOfRow);
      // Cases archived before materials were recorded show them as the case gave them (never the URI).
      const materials = row.record.materials ?? (row.record.case.materials.length ? materialsView(row.record.case, {}) : undefined);
      return { caseId, itemCode: row.item_code, status: caseStatusOf(deliveries.map((d) => d.status)), acceptedAt: row.record.acceptedAt, archived: true, ...(materials ? { materials } : {}), deliveries };
    });
  }

  /** Every archived case accepted in [from, to), with its deliveries (and their systems' levels), for the reports. */
  async casesAcceptedBetween(from: Date, to: Date): Promise<Array<{ record: CaseRecord; deliveries: ArchivedDelivery[] }>> {
    return this.use(async (db) => {
      const range = [from.toISOString(), to.toISOString()];
      const cases = await db.query<{ case_id: string; record: CaseRecord }>('SELECT case_id, record FROM ledger_cases WHERE accepted_at >= $1::timestamptz AND accepted_at < $2::timestamptz ORDER BY accepted_at, case_id', range);
      const rows = await db.query<DeliveryRow & { case_id: string; level: string | null; discarded: boolean; ended_at: Date | string }>(
        `SELECT d.case_id, d.system_id, d.level, d.status, d.discarded, d.attempts, d.receipt_no, d.last_error, d.result, d.history, d.ended_at
           FROM ledger_deliveries d WHERE d.accepted_at >= $1::timestamptz AND d.accepted_at < $2::timestamptz ORDER BY d.case_id, d.position`,
        range,
      );
      const byCase = new Map<string, ArchivedDelivery[]>();
      for (const d of rows) {
        const list = byCase.get(d.case_id) ?? [];
        list.push({
          ...deliveryOfRow(d),
          ...(d.level !== null ? { level: d.level } : {}),
          discarded: d.discarded,
          endedAt: new Date(d.ended_at).toISOString(),
        });
        byCase.set(d.case_id, list);
      }
      return cases.map((c) => ({ record: c.record, deliveries: byCase.get(c.case_id) ?? [] }));
    });
  }

  /** The clock's entries of an archived case (none for a case without stops, or archived before clocks). */
  async readClock(caseId: string): Promise<ClockEntry[]> {
    return this.use(async (db) => {
      const [row] = await db.query<{ clock: ClockEntry[] | null }>("SELECT record->'clock' AS clock FROM ledger_cases WHERE case_id = $1", [caseId]);
      return row?.clock ?? [];
    });
  }

  /**
   * Deletes cases finished strictly before `casesBefore`, and audit entries and look-ups made
   * strictly before `auditBefore` (the sweep keeps those six months at least, 网络安全法 §21).
   */
  async purge(casesBefore: Date, auditBefore: Date = casesBefore): Promise<PurgeCount> {
    const [cutCases, cutAudit] = [casesBefore.toISOString(), auditBefore.toISOString()];
    return this.use((db) =>
      db.transaction(async (tx) => {
        const cases = await tx.query('DELETE FROM ledger_cases WHERE finished_at < $1::timestamptz RETURNING case_id', [cutCases]);
        const audit = await tx.query('DELETE FROM ledger_audit WHERE at < $1::timestamptz RETURNING id', [cutAudit]);
        const lookups = await tx.query('DELETE FROM ledger_lookups WHERE at < $1::timestamptz RETURNING query_id', [cutAudit]);
        return { cases: cases.length, audit: audit.length, lookups: lookups.length };
      }),
    );
  }

  /** Writes drained ops audit entries (idempotent by stream id); answers how many were new. */
  async writeAudit(entries: readonly StreamEntry[]): Promise<number> {
    return this.use((db) => db.transaction((tx) => insertAudit(tx, entries)));
  }

  /** Writes drained shared-data look-ups (idempotent by stream id and query id); answers how many were new. */
  async writeLookups(entries: readonly StreamEntry[]): Promise<number> {
    return this.use((db) => db.transaction((tx) => insertLookups(tx, entries)));
  }

  /** Drained ops audit entries, newest first. */
  async readAudit(filter: AuditFilter): Promise<StreamEntry[]> {
    return this.use((db) => readAudit(db, filter));
  }

  /** Drained look-ups, newest first, as ops list them. */
  async readLookups(filter: LookupRecordFilter): Promise<LookupRecord[]> {
    return this.use((db) => readLookups(db, filter));
  }

  /**
   * A secret that must outlive Redis (the look-ups' hashing key): the one the ledger holds, or
   * `candidate` when it holds none yet. The first writer wins, so every process agrees.
   */
  async keepSecret(name: string, candidate: string): Promise<string> {
    return this.use(async (db) => {
      await db.query('INSERT INTO ledger_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, candidate]);
      const [row] = await db.query<{ value: string }>('SELECT value FROM ledger_secrets WHERE name = $1', [name]);
      if (!row) throw new Error(`the ledger did not keep the secret ${name}`);
      return row.value;
    });
  }

  /** The content hash and delivery statuses of an archived case, for intake's resubmission check. */
  async archivedHash(caseId: string): Promise<ArchivedHash | undefined> {
    return this.use(async (db) => {
      const [row] = await db.query<{ hash: string | null }>("SELECT record->>'hash' AS hash FROM ledger_cases WHERE case_id = $1", [caseId]);
      if (!row) return undefined;
      const rows = await db.query<{ system_id: string; status: DeliveryStatus }>('SELECT system_id, status FROM ledger_deliveries WHERE case_id = $1 ORDER BY position', [caseId]);
      return { hash: row.hash ?? '', deliveries: rows.map((r) => ({ systemId: r.system_id, status: r.status })) };
    });
  }

  /** Case ids in order, after `after`: for filling the archived-ids filter page by page. */
  async caseIdsAfter(after: string, limit: number): Promise<string[]> {
    return this.use(async (db) => (await db.query<{ case_id: string }>('SELECT case_id FROM ledger_cases WHERE case_id > $1 ORDER BY case_id LIMIT $2', [after, limit])).map((r) => r.case_id));
  }

  async stats(filter: StatsFilter): Promise<StatsRow[]> {
    return this.use((db) => queryStats(db, filter));
  }

  /** Raw access for reports and tests; goes through the same health bookkeeping. */
  async query<R extends object>(text: string, params: readonly (string | number | boolean | null)[] = []): Promise<R[]> {
    return this.use((db) => db.query<R>(text, params));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

export interface LedgerOptions {
  /** PostgreSQL (or openGauss, KingbaseES) connection string; unset: embedded PGlite. */
  url?: string;
  /** The embedded ledger lives in `<dataDir>/ledger` (default $OW_DATA_DIR, else ./data). */
  dataDir?: string;
  log: Logger;
}

/** Connects (or opens the embedded ledger), applies the migrations, and answers the ledger. */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  const { log } = options;
  const db = options.url
    ? connectPostgres(options.url, (err) => log.warn({ err: err.message }, 'ledger connection lost'))
    : await openPglite(path.resolve(options.dataDir ?? process.env.OW_DATA_DIR ?? './data', 'ledger'));
  try {
    const version = await migrate(db);
    log.info({ ledger: db.kind, schema: version }, 'ledger open');
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return new Ledger(db, log);
}
