/**
 * The case ids that have left Redis for the ledger, as a Bloom filter in Redis, so that intake
 * asks the ledger about a new case id only when it may be a resubmission of an archived case.
 * Asking costs a round trip to the ledger, and about 0.3 ms of the gateway's CPU on the embedded
 * one, for every new case; the filter answers "certainly not" for nearly all of them inside Redis.
 *
 * The sweep adds an id when it first writes the finished case to the ledger, `retention.hot`
 * before the case leaves Redis: a crash after the ledger write repeats both, and the filter's write
 * has reached every replica long before the removal (on a Cluster the filter is on one master and
 * the case on another, so a fail-over could otherwise lose the one and keep the other). A case
 * that is in the filter and still in Redis costs intake one ledger question. A filter that is
 * missing (a new Redis, a flushed one, a gateway that archived before the filter existed) has no
 * marker: intake asks the ledger about every case, as without a filter, until the sweep has put
 * every id the ledger holds into it and set the marker. Ids purged from the ledger stay in the
 * filter: a false "maybe" only costs a ledger question.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';
import type { Ledger } from './ledger';

/** 2^26 bits (8 MiB in Redis) and 7 hashes: 1 % false "maybe" at 7 million archived cases, 0.1 % at 4 million. */
const BITS = 2 ** 26;
const HASHES = 7;

/** Seven 26-bit positions from one SHA-256 of the id. */
function positions(caseId: string): number[] {
  const digest = crypto.createHash('sha256').update(caseId).digest();
  return Array.from({ length: HASHES }, (_, i) => digest.readUInt32BE(i * 4) & (BITS - 1));
}

export class ArchivedIds {
  private readonly scripts: LuaScripts<'archived-ids-check'>;
  // One hash tag: the check script reads both keys, so they share a Cluster slot.
  private readonly filterKey: string;
  private readonly completeKey: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['archived-ids-check']);
    this.filterKey = `${prefix}:{ledger-archived}:ids`;
    this.completeKey = `${prefix}:{ledger-archived}:complete`;
  }

  /** false: never archived; true: may have been (or the filter is not complete yet). */
  async mightHold(caseId: string): Promise<boolean> {
    return (await this.scripts.run('archived-ids-check', [this.filterKey, this.completeKey], positions(caseId))) !== 0;
  }

  async add(caseIds: readonly string[]): Promise<void> {
    if (caseIds.length === 0) return;
    // One BITFIELD for the batch (its typings name a single operation, hence call()).
    await this.redis.call('BITFIELD', this.filterKey, ...caseIds.flatMap((id) => positions(id).flatMap((p) => ['SET', 'u1', p, 1])));
  }

  async complete(): Promise<boolean> {
    return (await this.redis.exists(this.completeKey)) === 1;
  }

  async markComplete(): Promise<void> {
    await this.redis.set(this.completeKey, new Date().toISOString());
  }
}

/** The ledger as intake and the status API ask it, with the filter in front of intake's question. */
export function filteredArchive(ledger: Ledger, ids: ArchivedIds): Pick<Ledger, 'healthy' | 'archivedHash' | 'readCase' | 'readClock'> {
  return {
    healthy: () => ledger.healthy(),
    readCase: (caseId) => ledger.readCase(caseId),
    readClock: (caseId) => ledger.readClock(caseId),
    archivedHash: async (caseId) => ((await ids.mightHold(caseId)) ? ledger.archivedHash(caseId) : undefined),
  };
}
