/**
 * Unmatched results: pushed (or polled) results no delivery was found for, parked for ops and
 * re-matched when their case or receipt number turns up ("kept for ops, never dropped,
 * within a per-system cap").
 *
 * Every key of one system shares the hash tag `{unmatched:<systemId>}`, so parking and dropping are
 * one script each, also on Redis Cluster:
 *   <prefix>:{unmatched:<systemId>}:items               hash: id -> the parked result as JSON
 *   <prefix>:{unmatched:<systemId>}:order               sorted set: id by its sequence number (paging)
 *   <prefix>:{unmatched:<systemId>}:meta                hash: seq (last sequence number), bytes (of items)
 *   <prefix>:{unmatched:<systemId>}:case:<caseId>       sorted set: ids of results naming this case
 *   <prefix>:{unmatched:<systemId>}:receipt:<receipt>   sorted set: ids of results naming this receipt
 * and, outside any system, <prefix>:unmatched:systems (set: systems that ever parked a result, so that
 * a system since removed from the configuration is still listed).
 *
 * Re-matching a delivery reads the two index sets it names and the few results they point to, in
 * one script: never the whole parked set, however large it is.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';
import { z } from 'zod';
import { resultSchema } from '../cases/model';

/** A pushed or polled result that matched no delivery, kept until ops (or a later case) claim it. */
export const unmatchedResultSchema = z.object({
  id: z.string(),
  systemId: z.string(),
  receivedAt: z.iso.datetime(),
  pushed: z.unknown().describe('What the system sent, as parsed.'),
  result: resultSchema.partial().describe("What the system's `result.map` made of it."),
  reason: z.string(),
  candidates: z.array(z.string()).optional().describe('The cases it may belong to, when it named only a receipt number that several deliveries hold.'),
});
export type UnmatchedResult = z.infer<typeof unmatchedResultSchema>;

/** How much one system may park: the script refuses (and stores nothing) beyond either. */
export interface UnmatchedCap {
  maxPerSystem: number;
  maxBytesPerSystem: number;
}

export type ParkOutcome = { parked: true } | { parked: false; count: number; bytes: number };

/** Where a page of the ops list resumes: after this sequence number of this system. */
export interface UnmatchedCursor {
  systemId: string;
  seq: number;
}

export interface UnmatchedPage {
  items: UnmatchedResult[];
  next?: UnmatchedCursor;
}

const SYSTEM_ID = /^[a-z0-9-]+$/;

/** `1mb`, `512kb`, `16MB`, or a number of bytes, as gateway.yaml writes sizes. */
export function bytesOf(size: number | string): number {
  if (typeof size === 'number') return size;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(size.trim());
  if (!match) throw new Error(`not a size: ${size}`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[match[2]!.toLowerCase() as 'b' | 'kb' | 'mb' | 'gb'];
  return Math.floor(Number(match[1]) * unit);
}

/** An unmatched result's id names its system, so that one look-up finds it: `<systemId>.<uuid>`. */
export function unmatchedId(systemId: string): string {
  return `${systemId}.${crypto.randomUUID()}`;
}

export function systemOfUnmatchedId(id: string): string | undefined {
  const dot = id.indexOf('.');
  const systemId = dot > 0 ? id.slice(0, dot) : '';
  return SYSTEM_ID.test(systemId) ? systemId : undefined;
}

export class UnmatchedStore {
  private readonly scripts: LuaScripts<'park' | 'drop' | 'naming'>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['park', 'drop', 'naming']);
  }

  private keys(systemId: string) {
    const base = `${this.prefix}:{unmatched:${systemId}}`;
    return { items: `${base}:items`, order: `${base}:order`, meta: `${base}:meta`, base };
  }

  private caseKey(systemId: string, caseId: string) {
    return `${this.keys(systemId).base}:case:${caseId}`;
  }

  // A receipt number is whatever the system sent: a long one is hashed so that it cannot make a huge key.
  private receiptKey(systemId: string, receiptNo: string) {
    const part = receiptNo.length <= 128 ? receiptNo : `sha256:${crypto.createHash('sha256').update(receiptNo).digest('hex')}`;
    return `${this.keys(systemId).base}:receipt:${part}`;
  }

  private get systemsKey() {
    return `${this.prefix}:unmatched:systems`;
  }

  private indexKeys(parked: Pick<UnmatchedResult, 'systemId' | 'result'>): string[] {
    const { caseId, receiptNo } = parked.result;
    return [...(caseId ? [this.caseKey(parked.systemId, caseId)] : []), ...(receiptNo ? [this.receiptKey(parked.systemId, receiptNo)] : [])];
  }

  /** Parks a result, or answers how full its system is when the cap leaves no room (nothing stored). */
  async park(parked: UnmatchedResult, cap: UnmatchedCap, force = false): Promise<ParkOutcome> {
    const { items, order, meta } = this.keys(parked.systemId);
    const keys = [items, order, meta, ...this.indexKeys(parked)];
    const [outcome, count, bytes] = (await this.scripts.run('park', keys, [parked.id, JSON.stringify(parked), cap.maxPerSystem, cap.maxBytesPerSystem, force ? '1' : '0'])) as [string, number, number];
    if (outcome !== 'parked') return { parked: false, count, bytes };
    // Outside the script (another slot), and idempotent: only the unfiltered ops list relies on it.
    await this.redis.sadd(this.systemsKey, parked.systemId);
    return { parked: true };
  }

  async drop(parked: UnmatchedResult): Promise<boolean> {
    const { items, order, meta } = this.keys(parked.systemId);
    const keys = [items, order, meta, ...this.indexKeys(parked)];
    return (await this.scripts.run('drop', keys, [parked.id])) === 1;
  }

  /** One parked result, by its id. */
  async get(id: string): Promise<UnmatchedResult | undefined> {
    const systemId = systemOfUnmatchedId(id);
    if (!systemId) return undefined;
    const raw = await this.redis.hget(this.keys(systemId).items, id);
    return raw === null ? undefined : (JSON.parse(raw) as UnmatchedResult);
  }

  /** The parked results of a system that name this case or this receipt number, oldest first. */
  async naming(systemId: string, names: { caseId?: string; receiptNo?: string }): Promise<UnmatchedResult[]> {
    const indexes = this.indexKeys({ systemId, result: names });
    if (!indexes.length) return [];
    const raws = (await this.scripts.run('naming', [this.keys(systemId).items, ...indexes], [])) as string[];
    return raws.map((r) => JSON.parse(r) as UnmatchedResult);
  }

  /** How many results a system has parked, and their size. */
  async usage(systemId: string): Promise<{ count: number; bytes: number }> {
    const { items, meta } = this.keys(systemId);
    const [count, bytes] = await Promise.all([this.redis.hlen(items), this.redis.hget(meta, 'bytes')]);
    return { count, bytes: Number(bytes ?? 0) };
  }

  /** Systems that ever parked a result. */
  async systems(): Promise<string[]> {
    return this.redis.smembers(this.systemsKey);
  }

  /**
   * One page of the parked results of these systems: by system id, then oldest first; at most `limit`
   * results and, past the first, at most `maxBytes` of them. Results parked while an ops reader pages
   * through appear at most once; none present throughout is skipped or repeated.
   */
  async page(systemIds: readonly string[], options: { cursor?: UnmatchedCursor; limit: number; maxBytes: number }): Promise<UnmatchedPage> {
    const { cursor, limit, maxBytes } = options;
    const chosen: { systemId: string; seq: number; id: string }[] = [];
    let bytes = 0;
    let full = false;
    for (const systemId of [...new Set(systemIds)].sort()) {
      if (cursor && systemId < cursor.systemId) continue;
      const after = cursor && systemId === cursor.systemId ? cursor.seq : 0;
      const { items, order } = this.keys(systemId);
      // One more than fits, to know whether there is a next page.
      const flat = await this.redis.zrangebyscore(order, `(${after}`, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1 - chosen.length);
      if (!flat.length) continue;
      const ids = flat.filter((_, i) => i % 2 === 0);
      // Sizes first, so that a page of large results is cut before it is read.
      const sizes = await Promise.all(ids.map((id) => this.redis.hstrlen(items, id)));
      for (let i = 0; i < ids.length; i++) {
        if (chosen.length === limit || (chosen.length > 0 && bytes + sizes[i]! > maxBytes)) {
          full = true;
          break;
        }
        chosen.push({ systemId, seq: Number(flat[2 * i + 1]), id: ids[i]! });
        bytes += sizes[i]!;
      }
      if (full) break;
    }
    const items: UnmatchedResult[] = [];
    for (const systemId of new Set(chosen.map((c) => c.systemId))) {
      const ids = chosen.filter((c) => c.systemId === systemId).map((c) => c.id);
      const raws = await this.redis.hmget(this.keys(systemId).items, ...ids);
      for (const raw of raws) if (raw !== null) items.push(JSON.parse(raw) as UnmatchedResult);
    }
    const last = chosen.at(-1);
    return full && last ? { items, next: { systemId: last.systemId, seq: last.seq } } : { items };
  }

  /**
   * Moves results parked by a gateway before the cap existed (one hash of them all, `<prefix>:unmatched`)
   * into their systems, ids renamed to name their system; none is dropped, whatever the cap. Idempotent,
   * so every process may run it at start.
   */
  async adoptLegacy(): Promise<number> {
    const legacy = `${this.prefix}:unmatched`;
    if ((await this.redis.type(legacy)) !== 'hash') return 0;
    let adopted = 0;
    let cursor = '0';
    do {
      const [nextCursor, flat] = await this.redis.hscan(legacy, cursor, 'COUNT', 100);
      cursor = nextCursor;
      for (let i = 0; i < flat.length; i += 2) {
        const old = JSON.parse(flat[i + 1]!) as UnmatchedResult;
        const id = systemOfUnmatchedId(old.id) === old.systemId ? old.id : `${old.systemId}.${old.id}`;
        await this.park({ ...old, id }, { maxPerSystem: 0, maxBytesPerSystem: 0 }, true);
        await this.redis.hdel(legacy, flat[i]!);
        adopted++;
      }
    } while (cursor !== '0');
    return adopted;
  }
}
