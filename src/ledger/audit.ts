/**
 * The audit trail and the shared-data look-ups in the ledger. Every process writes
 * them to a Redis stream (a durable buffer that never waits on the database); the sweep drains the
 * streams here, keyed by the stream entry id, and only then deletes what it drained. A drain that is
 * repeated (a crash between the insert and the XDEL, two ticks racing) inserts nothing twice; a
 * ledger outage leaves the entries in the stream until it answers again.
 */
import type { AuditEntry, LookupAudit } from './audit-entry';
import type { RedisClient } from '../platform/redis';
import { writeOrSetAside } from './quarantine';
import type { Sql, SqlValue } from './sql';

/** A stream entry id, `<ms>-<seq>`, split so the ledger can order and page by it. */
export interface StreamId {
  ms: number;
  seq: number;
}

export function parseStreamId(id: string): StreamId | undefined {
  const m = /^(\d+)-(\d+)$/.exec(id);
  return m ? { ms: Number(m[1]), seq: Number(m[2]) } : undefined;
}

export function streamIdOf(ms: number | string, seq: number | string): string {
  return `${ms}-${seq}`;
}

/** Newest first: the order the audit API and the look-up list answer in. */
export function newerFirst(a: string, b: string): number {
  const x = parseStreamId(a)!;
  const y = parseStreamId(b)!;
  return y.ms - x.ms || y.seq - x.seq;
}

export interface StreamEntry {
  id: string;
  entry: AuditEntry;
}

/** An entry that does not parse is still kept (as what it was), never dropped and never a stuck drain. */
export function parseEntry(id: string, fields: string[]): AuditEntry {
  const raw = fields[fields.indexOf('entry') + 1] ?? '';
  try {
    const entry = JSON.parse(raw) as AuditEntry;
    if (entry && typeof entry.at === 'string' && typeof entry.who === 'string' && typeof entry.action === 'string' && typeof entry.target === 'string') return entry;
  } catch {
    // kept below
  }
  const ms = parseStreamId(id)?.ms ?? Date.now();
  return { at: new Date(ms).toISOString(), who: '(unreadable entry)', action: 'unreadable' as AuditEntry['action'], target: '(unknown)', detail: raw.slice(0, 2000) };
}

// ── writing ──────────────────────────────────────────────────────────────────────────────────────

/** Inserts ops audit entries; an entry already there (same stream id) is left as it is. */
export async function insertAudit(tx: Sql, entries: readonly StreamEntry[]): Promise<number> {
  let inserted = 0;
  for (const { id, entry } of entries) {
    const sid = parseStreamId(id)!;
    const rows = await tx.query(
      `INSERT INTO ledger_audit (at, who, role, action, target, reason, detail, stream_ms, stream_seq)
       VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id`,
      [entry.at, entry.who, entry.role ?? null, entry.action, entry.target, entry.reason ?? null, entry.detail ?? null, sid.ms, sid.seq],
    );
    inserted += rows.length;
  }
  return inserted;
}

/**
 * Inserts shared-data look-ups. Kept: the masked ID number and its keyed hash (to find one
 * person's look-ups), never the number itself, which the stream never had either.
 */
export async function insertLookups(tx: Sql, entries: readonly StreamEntry[]): Promise<number> {
  let inserted = 0;
  for (const { id, entry } of entries) {
    const lookup = entry.lookup;
    const sid = parseStreamId(id)!;
    if (!lookup) {
      // Not a look-up (nothing writes one there today): kept in the ops trail rather than lost.
      inserted += await insertAudit(tx, [{ id, entry }]);
      continue;
    }
    const { personKey, ...shown } = lookup;
    const listing = { at: entry.at, who: entry.who, ...shown };
    const rows = await tx.query(
      `INSERT INTO ledger_lookups (query_id, at, who, case_id, purpose, id_masked, kinds, documents, stream_ms, stream_seq, person_key, listing)
       VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb) ON CONFLICT DO NOTHING RETURNING query_id`,
      [lookup.queryId, entry.at, entry.who, lookup.caseId, lookup.purpose, lookup.person, JSON.stringify(lookup.kinds), JSON.stringify(lookup.statuses), sid.ms, sid.seq, personKey ?? null, JSON.stringify(listing)],
    );
    inserted += rows.length;
  }
  return inserted;
}

/** At most this many entries per XRANGE and transaction, and per stream and tick. */
const DRAIN_BATCH = 500;
const DRAIN_PER_TICK = 20_000;

/**
 * Moves a stream's entries into the ledger, oldest first: insert (idempotent) and commit, then XDEL
 * exactly the ids inserted, or set aside (an entry the ledger refuses is kept by `setAside` first).
 * Answers how many entries left the stream. Throws when the ledger does not answer; what was not
 * committed stays in the stream.
 */
export async function drainStream(
  redis: RedisClient,
  key: string,
  write: (entries: readonly StreamEntry[]) => Promise<unknown>,
  setAside: (entry: StreamEntry, err: unknown) => Promise<void>,
): Promise<number> {
  let drained = 0;
  while (drained < DRAIN_PER_TICK) {
    const batch = await redis.xrange(key, '-', '+', 'COUNT', DRAIN_BATCH);
    if (batch.length === 0) break;
    const entries = batch.map(([id, fields]) => ({ id, entry: parseEntry(id, fields) }));
    await writeOrSetAside(entries, write, setAside);
    await redis.xdel(key, ...entries.map((e) => e.id));
    drained += entries.length;
    if (batch.length < DRAIN_BATCH) break;
  }
  return drained;
}

// ── reading ──────────────────────────────────────────────────────────────────────────────────────

export interface AuditFilter {
  action?: string;
  /** Entries whose `who` contains this. */
  who?: string;
  /** Entries about this case: the target is the case, or a dead letter of it (`<system>.<caseId>`). */
  caseId?: string;
  from?: string;
  to?: string;
  /** Only entries older than this stream id (the `next` of the page before). */
  before?: string;
  limit: number;
}

interface AuditRow {
  at: Date | string;
  who: string;
  role: string | null;
  action: string;
  target: string;
  reason: string | null;
  detail: string | null;
  stream_ms: string | number;
  stream_seq: string | number;
}

const iso = (at: Date | string) => (at instanceof Date ? at : new Date(at)).toISOString();

/** Builds `WHERE …` from parts; parameters numbered in order. */
class Where {
  readonly params: SqlValue[] = [];
  private readonly parts: string[] = [];
  add(sql: (...n: string[]) => string, ...values: SqlValue[]): void {
    const names = values.map((v) => `$${this.params.push(v)}`);
    this.parts.push(sql(...names));
  }
  raw(sql: string): void {
    this.parts.push(sql);
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** (ms, seq) < (before.ms, before.seq), spelled out: row comparison is not everywhere (openGauss). */
function pageBefore(where: Where, before: string | undefined): void {
  const sid = before ? parseStreamId(before) : undefined;
  if (sid) where.add((ms, ms2, seq) => `(stream_ms < ${ms} OR (stream_ms = ${ms2} AND stream_seq < ${seq}))`, sid.ms, sid.ms, sid.seq);
}

export async function readAudit(db: Sql, filter: AuditFilter): Promise<StreamEntry[]> {
  const where = new Where();
  where.raw('stream_ms IS NOT NULL');
  if (filter.action) where.add((n) => `action = ${n}`, filter.action);
  if (filter.who) where.add((n) => `position(${n}::text in who) > 0`, filter.who);
  if (filter.caseId) where.add((a, b, c) => `(target = ${a}::text OR right(target, length(${b}::text) + 1) = '.' || ${c}::text)`, filter.caseId, filter.caseId, filter.caseId);
  if (filter.from) where.add((n) => `at >= ${n}::timestamptz`, filter.from);
  if (filter.to) where.add((n) => `at <= ${n}::timestamptz`, filter.to);
  pageBefore(where, filter.before);
  where.params.push(filter.limit);
  const rows = await db.query<AuditRow>(
    `SELECT at, who, role, action, target, reason, detail, stream_ms, stream_seq FROM ledger_audit ${where} ORDER BY stream_ms DESC, stream_seq DESC LIMIT $${where.params.length}`,
    where.params,
  );
  return rows.map((r) => ({
    id: streamIdOf(r.stream_ms, r.stream_seq),
    entry: {
      at: iso(r.at),
      who: r.who,
      ...(r.role !== null ? { role: r.role as AuditEntry['role'] } : {}),
      action: r.action as AuditEntry['action'],
      target: r.target,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      ...(r.detail !== null ? { detail: r.detail } : {}),
    },
  }));
}

export interface LookupRecordFilter {
  caseId?: string;
  purpose?: string;
  /** The keyed hash of the ID number asked about (never the number). */
  personKey?: string;
  from?: string;
  to?: string;
  limit: number;
}

/** A look-up as ops list it (no hash), with the stream id it was drained from. */
export interface LookupRecord {
  id: string;
  listing: Omit<LookupAudit, 'personKey'> & { at: string; who: string };
}

export async function readLookups(db: Sql, filter: LookupRecordFilter): Promise<LookupRecord[]> {
  const where = new Where();
  where.raw('listing IS NOT NULL');
  if (filter.caseId) where.add((n) => `case_id = ${n}`, filter.caseId);
  if (filter.purpose) where.add((n) => `purpose = ${n}`, filter.purpose);
  if (filter.personKey) where.add((n) => `person_key = ${n}`, filter.personKey);
  if (filter.from) where.add((n) => `at >= ${n}::timestamptz`, filter.from);
  if (filter.to) where.add((n) => `at <= ${n}::timestamptz`, filter.to);
  where.params.push(filter.limit);
  const rows = await db.query<{ listing: LookupRecord['listing']; stream_ms: string | number; stream_seq: string | number }>(
    `SELECT listing, stream_ms, stream_seq FROM ledger_lookups ${where} ORDER BY stream_ms DESC, stream_seq DESC LIMIT $${where.params.length}`,
    where.params,
  );
  return rows.map((r) => ({ id: streamIdOf(r.stream_ms, r.stream_seq), listing: r.listing }));
}

/**
 * Merges what is still in a stream with what the ledger has, newest first, each entry once (the
 * drain may have copied an entry between the two reads: read the stream first, then the ledger,
 * and an entry is always in at least one of them).
 */
export function mergeNewestFirst<T extends { id: string }>(stream: readonly T[], ledger: readonly T[], limit: number): T[] {
  const byId = new Map<string, T>();
  for (const item of [...ledger, ...stream]) if (!byId.has(item.id)) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => newerFirst(a.id, b.id)).slice(0, limit);
}
