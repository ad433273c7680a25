/**
 * The case store: the truth about every accepted case and each of its deliveries, in Redis.
 *
 * Keys share the case's hash tag, so a case and its deliveries live in one Cluster slot and change
 * together in one script or transaction:
 *   <prefix>:{caseId}:case           JSON: the canonical case, its content hash, acceptedAt, targets
 *   <prefix>:{caseId}:d:<systemId>   hash: status, attempts, receiptNo, lastError, result, updatedAt
 *   <prefix>:{caseId}:h:<systemId>   list: history entries, oldest first
 */
import type { RedisClient } from '../platform/redis';
import {
  caseStatusOf,
  type Case,
  type CaseView,
  type DeliveryStatus,
  type DeliveryView,
  type HistoryEntry,
  type Result,
} from './model';

export interface CaseRecord {
  case: Case;
  /** sha256 of the case's canonical JSON: tells an identical resubmission from a conflicting one. */
  hash: string;
  acceptedAt: string;
  targets: string[];
}

export type AcceptOutcome = { created: true; record: CaseRecord } | { created: false; record: CaseRecord };

export interface DeliveryChange {
  status: DeliveryStatus;
  receiptNo?: string;
  lastError?: string;
  result?: Result;
}

// Creates the case and its deliveries at once, or returns the case already stored under this id.
const ACCEPT_SCRIPT = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
local n = (#KEYS - 1) / 2
for i = 1, n do
  redis.call('HSET', KEYS[1 + i], 'status', 'queued', 'attempts', '0', 'updatedAt', ARGV[2])
  redis.call('RPUSH', KEYS[1 + n + i], ARGV[3])
end
return false
`;

// Starts an attempt unless the delivery has already moved past sending (a job redelivered after a
// crash, or replayed by mistake): then it answers the current status and changes nothing.
const BEGIN_ATTEMPT_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', '0'} end
if status == 'delivered' or status == 'completed' or status == 'rejected' then
  return {status, redis.call('HGET', KEYS[1], 'attempts')}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'delivering', 'updatedAt', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
return {'delivering', tostring(attempts)}
`;

export class CaseStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'ow',
  ) {}

  private caseKey(caseId: string) {
    return `${this.prefix}:{${caseId}}:case`;
  }
  private deliveryKey(caseId: string, systemId: string) {
    return `${this.prefix}:{${caseId}}:d:${systemId}`;
  }
  private historyKey(caseId: string, systemId: string) {
    return `${this.prefix}:{${caseId}}:h:${systemId}`;
  }

  /** Stores a new case with one `queued` delivery per target, or returns the one stored before. */
  async accept(record: CaseRecord): Promise<AcceptOutcome> {
    const { caseId } = record.case;
    const keys = [
      this.caseKey(caseId),
      ...record.targets.map((t) => this.deliveryKey(caseId, t)),
      ...record.targets.map((t) => this.historyKey(caseId, t)),
    ];
    const entry: HistoryEntry = { at: record.acceptedAt, event: 'accepted' };
    const existing = (await this.redis.eval(ACCEPT_SCRIPT, keys.length, ...keys, JSON.stringify(record), record.acceptedAt, JSON.stringify(entry))) as
      | string
      | null;
    return existing === null ? { created: true, record } : { created: false, record: JSON.parse(existing) as CaseRecord };
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    const raw = await this.redis.get(this.caseKey(caseId));
    return raw === null ? undefined : (JSON.parse(raw) as CaseRecord);
  }

  async deliveryStatus(caseId: string, systemId: string): Promise<DeliveryStatus | undefined> {
    const status = await this.redis.hget(this.deliveryKey(caseId, systemId), 'status');
    return (status ?? undefined) as DeliveryStatus | undefined;
  }

  /**
   * Marks the start of an attempt. Answers `send: false` when the delivery is already past sending,
   * so that a redelivered job never sends a case twice after a successful attempt.
   */
  async beginAttempt(caseId: string, systemId: string, at: string): Promise<{ send: boolean; status: string; attempts: number }> {
    const [status, attempts] = (await this.redis.eval(
      BEGIN_ATTEMPT_SCRIPT,
      2,
      this.deliveryKey(caseId, systemId),
      this.historyKey(caseId, systemId),
      at,
      JSON.stringify({ at, event: 'attempt' } satisfies HistoryEntry),
    )) as [string, string];
    return { send: status === 'delivering', status, attempts: Number(attempts) };
  }

  /** Moves a delivery to a new status and appends the history entry, in one transaction. */
  async record(caseId: string, systemId: string, change: DeliveryChange, entry: HistoryEntry): Promise<void> {
    const fields: Record<string, string> = { status: change.status, updatedAt: entry.at };
    if (change.receiptNo !== undefined) fields.receiptNo = change.receiptNo;
    if (change.lastError !== undefined) fields.lastError = change.lastError;
    if (change.result !== undefined) fields.result = JSON.stringify(change.result);
    await this.redis
      .multi()
      .hset(this.deliveryKey(caseId, systemId), fields)
      .rpush(this.historyKey(caseId, systemId), JSON.stringify(entry))
      .exec();
  }

  async delivery(caseId: string, systemId: string): Promise<DeliveryView | undefined> {
    const [fields, history] = await Promise.all([
      this.redis.hgetall(this.deliveryKey(caseId, systemId)),
      this.redis.lrange(this.historyKey(caseId, systemId), 0, -1),
    ]);
    if (!fields.status) return undefined;
    return {
      systemId,
      status: fields.status as DeliveryStatus,
      attempts: Number(fields.attempts ?? 0),
      ...(fields.receiptNo ? { receiptNo: fields.receiptNo } : {}),
      ...(fields.lastError ? { lastError: fields.lastError } : {}),
      ...(fields.result ? { result: JSON.parse(fields.result) as Result } : {}),
      history: history.map((h) => JSON.parse(h) as HistoryEntry),
    };
  }

  /** The case as the status API shows it (CONTRACT §6). */
  async view(caseId: string): Promise<CaseView | undefined> {
    const record = await this.getCase(caseId);
    if (!record) return undefined;
    const deliveries = (await Promise.all(record.targets.map((t) => this.delivery(caseId, t)))).filter((d): d is DeliveryView => d !== undefined);
    return {
      caseId,
      itemCode: record.case.itemCode,
      status: caseStatusOf(deliveries.map((d) => d.status)),
      acceptedAt: record.acceptedAt,
      deliveries,
    };
  }
}

