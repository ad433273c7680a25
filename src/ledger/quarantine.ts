/**
 * Rows the ledger refuses. A case or an audit entry the database will not take (a character it
 * cannot store, a value out of range) would otherwise fail its batch on every tick and stop the
 * sweep for good; instead it is set aside here, in one Redis hash, with the database's reason, and
 * the rest of the batch and of the tick go on. A case set aside stays in Redis (still answered by
 * the status API); an audit entry set aside is kept here whole, since it leaves its stream. Ops
 * list them (`GET /api/v1/admin/ledger/quarantine`), `ow_ledger_quarantined` counts them, and an
 * alert fires while there is one.
 */
import type { AuditEntry } from './audit-entry';
import { jsonShapeProblem } from '../platform/json-body';
import { maskPersonalData } from '../platform/privacy';
import type { RedisClient } from '../platform/redis';

export type QuarantinedKind = 'case' | 'audit' | 'lookup';

export interface QuarantinedRow {
  kind: QuarantinedKind;
  /** The case id, or the audit stream entry id. */
  id: string;
  /** When it was set aside. */
  at: string;
  /** Which sweep step refused a case: its first write (`finished`) or its last before leaving Redis (`archived`). */
  stage?: 'finished' | 'archived';
  /** Where in the row the refused text is, when the gateway can tell (a NUL, a control character). */
  path?: string;
  /** What the database said (SQLSTATE and message), masked. */
  error: string;
  /** An audit entry or look-up, kept here since it left its stream (the look-up's person hash left out). */
  entry?: AuditEntry;
}

/**
 * SQLSTATE classes that refuse the row itself, not the connection: 22 data exception (`invalid byte
 * sequence for encoding "UTF8": 0x00`, an unsupported escape in jsonb), 23 integrity constraint,
 * 54 program limit exceeded (a row too big). The database answered; other rows would go in.
 */
export function isRowRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** The refusal as it is kept and shown: SQLSTATE and message, no personal number. */
export function refusalOf(err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  return maskPersonalData(`${code ?? ''} ${message ?? String(err)}`.trim()).slice(0, 500);
}

/** Where `row` holds text the gateway refuses at its doors (see platform/text), if anywhere. */
export function refusedTextPath(row: unknown): string | undefined {
  return jsonShapeProblem(row, Number.POSITIVE_INFINITY)?.path;
}

/**
 * Writes `items` in one go; when the ledger refuses a row, writes them one at a time and sets aside
 * each one it refuses. Answers the items written. Anything else (an outage) is thrown as before, and
 * the sweep stops where it is.
 */
export async function writeOrSetAside<T>(items: readonly T[], write: (items: readonly T[]) => Promise<unknown>, setAside: (item: T, err: unknown) => Promise<void>): Promise<T[]> {
  try {
    await write(items);
    return [...items];
  } catch (err) {
    if (!isRowRefusal(err) || items.length === 0) throw err;
  }
  const written: T[] = [];
  for (const item of items) {
    try {
      await write([item]);
      written.push(item);
    } catch (err) {
      if (!isRowRefusal(err)) throw err;
      await setAside(item, err);
    }
  }
  return written;
}

/** Listed newest first, at most this many. */
const LIST_LIMIT = 1000;

export class Quarantine {
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    // One key, touched one command at a time (safe on a Cluster).
    this.key = `${keyPrefix}:ledger:quarantine`;
  }

  /** Sets a row aside; the same row again replaces its entry (a repeated tick after a crash). */
  async add(row: QuarantinedRow): Promise<void> {
    await this.redis.hset(this.key, `${row.kind}:${row.id}`, JSON.stringify(row));
  }

  async get(kind: QuarantinedKind, id: string): Promise<QuarantinedRow | undefined> {
    const raw = await this.redis.hget(this.key, `${kind}:${id}`);
    return raw ? (JSON.parse(raw) as QuarantinedRow) : undefined;
  }

  async remove(kind: QuarantinedKind, id: string): Promise<void> {
    await this.redis.hdel(this.key, `${kind}:${id}`);
  }

  async count(): Promise<number> {
    return this.redis.hlen(this.key);
  }

  async list(): Promise<QuarantinedRow[]> {
    const rows = Object.values(await this.redis.hgetall(this.key)).map((raw) => JSON.parse(raw) as QuarantinedRow);
    return rows.sort((a, b) => b.at.localeCompare(a.at) || a.id.localeCompare(b.id)).slice(0, LIST_LIMIT);
  }
}
