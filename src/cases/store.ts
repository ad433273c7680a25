/**
 * The case store: the truth about every accepted case and each of its deliveries, in Redis.
 *
 * Keys share the case's hash tag, so a case and its deliveries live in one Cluster slot and change
 * together in one script or transaction:
 *   <prefix>:{caseId}:case           JSON: the canonical case, its content hash, acceptedAt, targets
 *   <prefix>:{caseId}:d:<systemId>   hash: status, attempts, receiptNo, lastError, result, updatedAt
 *   <prefix>:{caseId}:h:<systemId>   list: history entries, oldest first
 *   <prefix>:{caseId}:outbox         list: case events not yet acknowledged by the intake platform
 *   <prefix>:{caseId}:clock          list: the clock's stops and restarts (补正, special procedures), oldest first
 * and, outside any case:
 *   <prefix>:receipts:<systemId>:<receiptNo>  set: every case whose delivery to the system holds this
 *                                             receipt number, for results that carry only the number (a
 *                                             system whose counter restarted hands one number out twice)
 *   <prefix>:ledger:finished                  sorted set: cases that may be final, by when to look
 *   <prefix>:ledger:archived                  sorted set: cases written to the ledger, by finish time
 *   <prefix>:clock:watch                      sorted set: cases whose clock is watched, by when to look next
 *   <prefix>:{clock-flags}:cases              hash: open cases due soon or overdue, and what each is counted as
 *   <prefix>:{clock-flags}:counts             hash: how many per state, catalogue entry and system (the gauges)
 *   <prefix>:cases:accepted                   sorted set: every case in Redis, by acceptance (for the reports)
 * The two ledger indexes are what the ledger sweep reads (src/ledger/sweep.ts), so it never scans keys.
 * Results no case was found for are kept per system by `unmatched` (src/results/unmatched-store.ts).
 *
 * A status change and the event that tells the intake platform about it are written in one script,
 * so the platform hears of every change, in order, even if the process dies right after.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import stringify from 'safe-stable-stringify';
import { LuaScripts } from '../platform/lua';
import { maskPersonalData } from '../platform/privacy';
import { storableText } from '../platform/text';
import type { CaseChanges } from './changes';
import type { RedisClient } from '../platform/redis';
import { UnmatchedStore } from '../results/unmatched-store';
import type { ClockEntry } from '../timelimits/clock';
import { materialsView } from '../materials/record';
import {
  caseStatusOf,
  type Case,
  type CaseEvent,
  type CaseEventType,
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
  /** X-Request-Id of the intake request that created it: the case's lines carry it, whatever queued them. */
  requestId?: string;
  /** The clock's entries, in the ledger's copy only (in Redis they have their own list). */
  clock?: ClockEntry[];
  /** The case view's materials (as fetched, where they were), in the ledger's copy only (in Redis, worked out from the fetch record). */
  materials?: CaseView['materials'];
}

/**
 * What an open case whose clock runs is counted as (the gauges ow_cases_due_soon and ow_cases_overdue):
 * the catalogue entry its item falls under (the entry as written, so a label has as many values as
 * the catalogue has entries) and the systems it waits on.
 */
export interface ClockFlag {
  state: 'due_soon' | 'overdue';
  item: string;
  systems: string[];
}

export interface ClockCount {
  state: ClockFlag['state'];
  item: string;
  systemId: string;
  cases: number;
}

/** What a resubmission with changed content came to (see `resubmit`). */
export type Resubmission = { resubmitted: true; systems: string[] } | { resubmitted: false; reason: 'not_waiting' | 'changed' };

/**
 * A new case, or the one stored before with the status of each of its deliveries (read in the same
 * script, so a resubmission costs no read per target; absent for a delivery not yet stored).
 */
export type AcceptOutcome = { created: true; record: CaseRecord } | { created: false; record: CaseRecord; statuses: Array<DeliveryStatus | undefined> };

/** What `beginAttempt` found; `record` is the stored case when the attempt may send. */
export interface AttemptStart {
  send: boolean;
  status: string;
  attempts: number;
  /** 0 for the first sending, n for the n-th resubmission after 补正 (see deliverySending). */
  sending: number;
  record?: CaseRecord;
}

export interface DeliveryChange {
  status: DeliveryStatus;
  receiptNo?: string;
  lastError?: string;
  /** Set only to give back a throttled try (n - 1) or to start a replay afresh (0). */
  attempts?: number;
  /** How the materials went with the delivery the system acknowledged. */
  handover?: NonNullable<DeliveryView['handover']>;
  /** Not stored: told to the change's listeners (the callback carries it as X-Request-Id). */
  requestId?: string;
}

const EVENT_OF: Partial<Record<DeliveryStatus, CaseEventType>> = {
  delivered: 'delivery.delivered',
  rejected: 'delivery.rejected',
  dead: 'delivery.dead',
};


export interface CaseStoreOptions {
  /** Namespace of every key. */
  prefix?: string;
  /** Write case events to each case's outbox (only when there is an intake callback URL). */
  events?: boolean;
  /** Told of every change the intake platform hears about, once it is written. */
  changes?: CaseChanges;
  /** Keep the index of cases that may be final, for the ledger sweep (only when there is a ledger). */
  finishIndex?: boolean;
}

/** One delivery as the ledger sweep reads it: everything the status API shows, and when it ended. */
export interface DeliverySnapshot extends DeliveryView {
  discarded: boolean;
  /** When it last changed status (or was discarded). */
  endedAt: string;
}

/** A case as it stands in Redis, for the ledger: read in one transaction, so it is consistent. */
export interface CaseSnapshot {
  record: CaseRecord;
  /** In the order of `record.targets`; a missing delivery hash makes the snapshot unusable. */
  deliveries: DeliverySnapshot[];
  complete: boolean;
  outboxLength: number;
  /** The clock's entries, oldest first. */
  clock: ClockEntry[];
  /** The case view's materials, when it has any (the fetch record read after the transaction: it only ever grows). */
  materials?: CaseView['materials'];
}

/** A delivery holding a receipt number, as correlating a result by that number needs it. */
export interface ReceiptHolder {
  caseId: string;
  status: DeliveryStatus;
  /** Still waiting for its result: neither completed nor rejected, nor dead and discarded. */
  open: boolean;
  /** The result recorded, as stored (compare with `resultJson`). */
  result?: string;
}

/** A result as the store keeps it: the same result is the same string. */
export function resultJson(result: Result): string {
  return stringify(result) ?? '{}';
}

/** A delivery as its hash and history list hold it. */
function deliveryView(systemId: string, fields: Record<string, string>, history: string[]): DeliveryView {
  return {
    systemId,
    status: fields.status as DeliveryStatus,
    attempts: Number(fields.attempts ?? 0),
    ...(fields.receiptNo ? { receiptNo: fields.receiptNo } : {}),
    ...(fields.lastError ? { lastError: fields.lastError } : {}),
    ...(fields.result ? { result: JSON.parse(fields.result) as Result } : {}),
    ...(fields.handover ? { handover: JSON.parse(fields.handover) as NonNullable<DeliveryView['handover']> } : {}),
    history: history.map((h) => JSON.parse(h) as HistoryEntry),
  };
}

/** What a result does to its case's clock: a 补正 request stops it, a special procedure stops and restarts it. */
export function clockEntryOf(result: Result, at: string): ClockEntry | undefined {
  if (result.outcome === 'need_more') return { at, event: 'stop', reason: 'need_more', systemId: result.systemId };
  if (result.outcome !== 'info' || !result.procedure) return undefined;
  return { at, event: result.procedure.phase === 'start' ? 'stop' : 'resume', reason: 'special_procedure', systemId: result.systemId, kind: result.procedure.kind };
}

/** A history entry as stored: its detail masked (a result's message may quote the applicant). */
function historyJson(entry: HistoryEntry): string {
  return JSON.stringify(entry.detail === undefined ? entry : { ...entry, detail: storableText(maskPersonalData(entry.detail)) });
}

export class CaseStore {
  private readonly prefix: string;
  private readonly events: boolean;
  private readonly changes?: CaseChanges;
  /** Results no delivery was found for, parked per system. */
  readonly unmatched: UnmatchedStore;
  private readonly scripts: LuaScripts<'accept' | 'begin-attempt' | 'record' | 'index-receipt' | 'record-result' | 'resubmit' | 'clock-flag'>;
  private readonly finishIndex: boolean;

  constructor(
    private readonly redis: RedisClient,
    options: CaseStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'ow';
    this.events = options.events ?? false;
    this.changes = options.changes;
    this.unmatched = new UnmatchedStore(redis, this.prefix);
    this.scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['accept', 'begin-attempt', 'record', 'index-receipt', 'record-result', 'resubmit', 'clock-flag']);
    this.finishIndex = options.finishIndex ?? false;
  }

  private caseKey(caseId: string) {
    return `${this.prefix}:{${caseId}}:case`;
  }
  private deliveryKey(caseId: string, systemId: string) {
    return `${this.prefix}:{${caseId}}:d:${systemId}`;
  }
  private historyKey(caseId: string, systemId: string) {
    return `${this.prefix}:{${caseId}}:h:${systemId}`;
  }
  outboxKey(caseId: string) {
    return `${this.prefix}:{${caseId}}:outbox`;
  }
  clockKey(caseId: string) {
    return `${this.prefix}:{${caseId}}:clock`;
  }
  /** Which warnings of which clock run were sent (the time-limit monitor's, in the case's slot). */
  warnedKey(caseId: string) {
    return `${this.prefix}:{${caseId}}:clock:warned`;
  }
  private receiptKey(systemId: string, receiptNo: string) {
    return `${this.prefix}:receipts:${systemId}:${receiptNo}`;
  }
  /** Where a gateway before the receipt sets kept the last case to get a receipt number (a string). */
  private legacyReceiptKey(systemId: string, receiptNo: string) {
    return `${this.prefix}:receipt:${systemId}:${receiptNo}`;
  }
  /** Outside every case's slot on purpose: one index for the whole gateway (fine in Cluster). */
  get finishedKey() {
    return `${this.prefix}:ledger:finished`;
  }
  get archivedKey() {
    return `${this.prefix}:ledger:archived`;
  }
  /** The time-limit monitor's index (src/timelimits/monitor.ts), outside every case's slot like the ledger's. */
  get watchKey() {
    return `${this.prefix}:clock:watch`;
  }

  /** Open cases due soon or overdue (the monitor flags them), and their counts: one slot for the two. */
  get clockFlagsKey() {
    return `${this.prefix}:{clock-flags}:cases`;
  }
  get clockCountsKey() {
    return `${this.prefix}:{clock-flags}:counts`;
  }

  get acceptedKey() {
    return `${this.prefix}:cases:accepted`;
  }

  /** Lists a case among those accepted at `at` (indexed before it is stored, as the others are). */
  async indexAccepted(caseId: string, at: string): Promise<void> {
    await this.redis.zadd(this.acceptedKey, 'NX', Date.parse(at), caseId);
  }

  /** The cases in Redis accepted in [from, to). */
  async acceptedBetween(from: Date, to: Date): Promise<string[]> {
    return this.redis.zrangebyscore(this.acceptedKey, from.getTime(), `(${to.getTime()}`);
  }

  /** Asks the time-limit monitor to look at a case's clock from `at` on (now, when its clock changed). */
  async watch(caseId: string, at: string): Promise<void> {
    await this.redis.zadd(this.watchKey, Date.parse(at), caseId);
  }

  /**
   * Says what an open case is counted as among those due soon or overdue (undefined: neither), and
   * moves the counts with it in the same step.
   */
  async flagClock(caseId: string, flag: ClockFlag | undefined): Promise<void> {
    await this.scripts.run('clock-flag', [this.clockFlagsKey, this.clockCountsKey], [caseId, flag ? JSON.stringify(flag) : '']);
  }

  /** How many open cases are due soon or overdue, per state, catalogue entry and system: one read, whatever the number of cases. */
  async clockCounts(): Promise<ClockCount[]> {
    const counts = await this.redis.hgetall(this.clockCountsKey);
    return Object.entries(counts).map(([field, n]) => {
      const [state, item, systemId] = JSON.parse(field) as [ClockFlag['state'], string, string];
      return { state, item, systemId, cases: Number(n) };
    });
  }

  /**
   * Tells the ledger sweep to look at a case that may have become final. Called before the status
   * change (so a crash right after it cannot leave a final case unindexed) and after it (so a sweep
   * that looked in between, too early, looks again now). LT pulls a later re-check back to `at`.
   */
  private async mayBeFinal(caseId: string, at: string): Promise<void> {
    if (!this.finishIndex) return;
    await this.redis.zadd(this.finishedKey, 'LT', Date.parse(at), caseId);
  }

  private event(type: CaseEventType, caseId: string, systemId: string, status: DeliveryStatus, at: string, extra: Partial<CaseEvent>): string {
    if (!this.events) return '';
    const event: CaseEvent = { eventId: crypto.randomUUID(), event: type, caseId, systemId, status, ...extra, at };
    return JSON.stringify(event);
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
    const answer = (await this.scripts.run('accept', keys, [JSON.stringify(record), record.acceptedAt, JSON.stringify(entry)])) as [string, ...Array<string | null>] | null;
    if (answer === null) return { created: true, record };
    const stored = JSON.parse(answer[0]) as CaseRecord;
    // The script read the deliveries this request routed to; the stored case may name others
    // (routes changed since), and then each of its deliveries is read by itself.
    const same = stored.targets.length === record.targets.length && stored.targets.every((t, i) => t === record.targets[i]);
    const statuses = same
      ? answer.slice(1).map((s) => (s ?? undefined) as DeliveryStatus | undefined)
      : await Promise.all(stored.targets.map((t) => this.deliveryStatus(caseId, t)));
    return { created: false, record: stored, statuses };
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    const raw = await this.redis.get(this.caseKey(caseId));
    return raw === null ? undefined : (JSON.parse(raw) as CaseRecord);
  }

  /**
   * Replaces a stored case with ops' correction (a dead letter's replay). The content hash is kept:
   * the intake platform still holds the case as it sent it, and sending that again is a
   * resubmission, not a conflict.
   */
  async replaceCase(caseId: string, corrected: Case): Promise<boolean> {
    const record = await this.getCase(caseId);
    if (!record) return false;
    await this.redis.set(this.caseKey(caseId), JSON.stringify({ ...record, case: corrected } satisfies CaseRecord), 'KEEPTTL');
    return true;
  }

  /**
   * A delivery's status and its sending: 0 for the first, one more for each resubmission after 补正
   * that sent it again. Polls are per sending, so that a finished or stale poll of an earlier one
   * never stands in the way of the next.
   */
  async deliverySending(caseId: string, systemId: string): Promise<{ status: DeliveryStatus | undefined; sending: number }> {
    const [status, sending] = await this.redis.hmget(this.deliveryKey(caseId, systemId), 'status', 'sending');
    return { status: (status ?? undefined) as DeliveryStatus | undefined, sending: Number(sending ?? 0) };
  }

  async deliveryStatus(caseId: string, systemId: string): Promise<DeliveryStatus | undefined> {
    const status = await this.redis.hget(this.deliveryKey(caseId, systemId), 'status');
    return (status ?? undefined) as DeliveryStatus | undefined;
  }

  /**
   * Marks the start of an attempt. Answers `send: false` when the delivery is already past sending,
   * so that a redelivered job never sends a case twice after a successful attempt; when it may
   * send, answers the stored case too (read in the same script: one round trip, not two).
   */
  async beginAttempt(caseId: string, systemId: string, at: string): Promise<AttemptStart> {
    const [status, attempts, raw, sending] = (await this.scripts.run(
      'begin-attempt',
      [this.deliveryKey(caseId, systemId), this.historyKey(caseId, systemId), this.caseKey(caseId)],
      [at, JSON.stringify({ at, event: 'attempt' } satisfies HistoryEntry), crypto.randomUUID()],
    )) as [string, string, string | null, string];
    const send = status === 'delivering';
    return { send, status, attempts: Number(attempts), sending: Number(sending ?? 0), ...(send && raw ? { record: JSON.parse(raw) as CaseRecord } : {}) };
  }

  /**
   * Moves a delivery to a new status, appends its history entries (the last one's time is the
   * change's) and queues the case event, in one script. Answers the status the delivery is in
   * afterwards ('completed' when a result was in first).
   */
  async record(caseId: string, systemId: string, change: DeliveryChange, ...history: [HistoryEntry, ...HistoryEntry[]]): Promise<DeliveryStatus | 'missing'> {
    const at = history[history.length - 1]!.at;
    const fields: Record<string, string> = {};
    if (change.receiptNo !== undefined) fields.receiptNo = change.receiptNo;
    // The last line of defence: whatever wrote it, no full ID or phone number is stored in an error or
    // a history entry, nor a control character a legacy system sent (the ledger could not keep it).
    const lastError = change.lastError === undefined ? undefined : storableText(maskPersonalData(change.lastError));
    if (lastError !== undefined) fields.lastError = lastError;
    if (change.attempts !== undefined) fields.attempts = String(change.attempts);
    if (change.handover !== undefined) fields.handover = JSON.stringify(change.handover);
    const type = EVENT_OF[change.status];
    const event = type ? this.event(type, caseId, systemId, change.status, at, { receiptNo: change.receiptNo, error: lastError }) : '';
    // Indexed before the change, so that a crash right after it never leaves a receipt unfindable.
    const holders = change.receiptNo === undefined ? 0 : Number(await this.scripts.run('index-receipt', [this.receiptKey(systemId, change.receiptNo)], [caseId]));
    const ending = change.status === 'completed' || change.status === 'rejected';
    if (ending) await this.mayBeFinal(caseId, at);
    const [outcome, before] = (await this.scripts.run(
      'record',
      [this.deliveryKey(caseId, systemId), this.historyKey(caseId, systemId), this.outboxKey(caseId)],
      [change.status, JSON.stringify(fields), event, at, ...history.map(historyJson), crypto.randomUUID()],
    )) as [DeliveryStatus | 'missing', string];
    // A replay's new receipt number: the old one no longer leads here (until this runs, a result
    // naming it finds this delivery holding another number, and is not matched to it).
    if (change.receiptNo !== undefined && before !== '' && before !== change.receiptNo) await this.redis.srem(this.receiptKey(systemId, before), caseId);
    if (ending) await this.mayBeFinal(caseId, at);
    if (ending && outcome === change.status) await this.watch(caseId, at);
    // Only an open delivery competes for a result that names nothing but the receipt number.
    const open = outcome !== 'missing' && outcome !== 'completed' && outcome !== 'rejected';
    if (change.receiptNo !== undefined && open && holders > 1) await this.noteSharedReceipt(caseId, systemId, change.receiptNo, at);
    if (outcome === change.status && type) this.changes?.emit({ caseId, systemId, status: outcome, receiptNo: change.receiptNo, ...(change.requestId ? { requestId: change.requestId } : {}) });
    return outcome;
  }

  /**
   * A receipt number another open delivery to the same system already holds: noted in both
   * histories, so ops see why a result naming only that number is parked rather than recorded.
   */
  private async noteSharedReceipt(caseId: string, systemId: string, receiptNo: string, at: string): Promise<void> {
    const others = (await this.receiptHolders(systemId, receiptNo)).filter((h) => h.open && h.caseId !== caseId);
    const shared = (holder: string): HistoryEntry => ({ at, event: 'receipt_shared', detail: `receipt number ${receiptNo} is also held by the open delivery of case ${holder}: a result naming only this number is parked as ambiguous` });
    for (const other of others) {
      await this.note(caseId, systemId, shared(other.caseId));
      await this.note(other.caseId, systemId, shared(caseId));
    }
  }

  /**
   * Every delivery to a system that holds this receipt number now. A case whose delivery has since
   * been given another number (a replay) is left out.
   */
  async receiptHolders(systemId: string, receiptNo: string): Promise<ReceiptHolder[]> {
    const [members, legacy] = await Promise.all([this.redis.smembers(this.receiptKey(systemId, receiptNo)), this.redis.get(this.legacyReceiptKey(systemId, receiptNo))]);
    const caseIds = [...new Set(legacy ? [...members, legacy] : members)].sort();
    const holders = await Promise.all(
      caseIds.map(async (caseId): Promise<ReceiptHolder | undefined> => {
        const [status, held, result, discarded] = await this.redis.hmget(this.deliveryKey(caseId, systemId), 'status', 'receiptNo', 'result', 'discarded');
        if (!status || held !== receiptNo) return undefined;
        const open = status !== 'completed' && status !== 'rejected' && !(status === 'dead' && discarded === '1');
        return { caseId, status: status as DeliveryStatus, open, ...(result ? { result } : {}) };
      }),
    );
    return holders.filter((h): h is ReceiptHolder => h !== undefined);
  }

  /** Gives up on a dead delivery for good: it stays `dead`, and its case may now be final. */
  async discard(caseId: string, systemId: string, entry: HistoryEntry): Promise<void> {
    await this.mayBeFinal(caseId, entry.at);
    await this.redis
      .multi()
      .hset(this.deliveryKey(caseId, systemId), 'discarded', '1', 'discardedAt', entry.at)
      .rpush(this.historyKey(caseId, systemId), historyJson(entry))
      .exec();
    await this.mayBeFinal(caseId, entry.at);
    await this.watch(caseId, entry.at);
  }

  /** Where the materials fetched for a case are recorded (the material cache writes it; it goes with the case). */
  materialsKey(caseId: string): string {
    return `${this.prefix}:{${caseId}}:materials`;
  }

  /** Adds a history entry that changes no status (a wait, an ops action). */
  async note(caseId: string, systemId: string, entry: HistoryEntry): Promise<void> {
    await this.redis.rpush(this.historyKey(caseId, systemId), historyJson(entry));
  }

  /**
   * Records a legacy system's decision; the delivery is then `completed`. A result naming another
   * receipt number than the delivery holds changes nothing ('mismatch').
   */
  async recordResult(result: Result, at: string, requestId?: string): Promise<'recorded' | 'duplicate' | 'missing' | 'mismatch'> {
    const { caseId, systemId } = result;
    const json = resultJson(result);
    const detail = `${result.outcome}${result.message ? `: ${result.message}` : ''} ${json}`;
    const event = this.event('delivery.completed', caseId, systemId, 'completed', at, { receiptNo: result.receiptNo, result });
    await this.mayBeFinal(caseId, at);
    const clock = clockEntryOf(result, at);
    const outcome = (await this.scripts.run(
      'record-result',
      [this.deliveryKey(caseId, systemId), this.historyKey(caseId, systemId), this.outboxKey(caseId), this.clockKey(caseId)],
      [json, historyJson({ at, event: 'result', detail }), event, at, result.receiptNo ?? '', clock ? JSON.stringify(clock) : '', crypto.randomUUID()],
    )) as 'recorded' | 'duplicate' | 'missing' | 'mismatch';
    await this.mayBeFinal(caseId, at);
    // A stop ends the current warnings, a restart starts a new run, a decision may end the case (and
    // its place among the overdue): the monitor looks again.
    if (outcome === 'recorded') await this.watch(caseId, at);
    if (outcome === 'recorded') this.changes?.emit({ caseId, systemId, status: 'completed', receiptNo: result.receiptNo, ...(requestId ? { requestId } : {}) });
    return outcome;
  }

  /**
   * Takes changed content for a case waiting on its applicant (its clock stopped for need_more):
   * stores it over `stored` (the record as the caller read it), restarts the clock, and puts the
   * deliveries that asked for more back to `queued`. Anything else is refused, changing nothing.
   */
  async resubmit(stored: CaseRecord, next: Pick<CaseRecord, 'case' | 'hash'>, at: string): Promise<Resubmission> {
    const { caseId } = stored.case;
    const updated: CaseRecord = { ...stored, case: next.case, hash: next.hash };
    const entry: ClockEntry = { at, event: 'resume', reason: 'need_more' };
    const answer = (await this.scripts.run(
      'resubmit',
      [this.caseKey(caseId), this.clockKey(caseId), ...stored.targets.map((t) => this.deliveryKey(caseId, t)), ...stored.targets.map((t) => this.historyKey(caseId, t))],
      [JSON.stringify(stored), JSON.stringify(updated), JSON.stringify(entry), historyJson({ at, event: 'resubmitted', detail: 'the applicant sent the completed case (补正); sent again' }), at],
    )) as [string, ...number[]];
    const [state, ...positions] = answer;
    if (state === 'resubmitted' || state === 'done') await this.watch(caseId, at);
    if (state === 'done') return { resubmitted: true, systems: [] };
    if (state !== 'resubmitted') return { resubmitted: false, reason: state as 'not_waiting' | 'changed' };
    return { resubmitted: true, systems: positions.map((i) => stored.targets[i - 1]!) };
  }

  /** The clock's entries of a case in Redis, oldest first. */
  async clock(caseId: string): Promise<ClockEntry[]> {
    return (await this.redis.lrange(this.clockKey(caseId), 0, -1)).map((e) => JSON.parse(e) as ClockEntry);
  }

  async receiptOf(caseId: string, systemId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.deliveryKey(caseId, systemId), 'receiptNo')) ?? undefined;
  }

  /** Case events waiting in a case's outbox, oldest first. */
  async outbox(caseId: string): Promise<CaseEvent[]> {
    return (await this.redis.lrange(this.outboxKey(caseId), 0, -1)).map((e) => JSON.parse(e) as CaseEvent);
  }

  async delivery(caseId: string, systemId: string): Promise<DeliveryView | undefined> {
    // Read together so that status, result and history agree with each other.
    const replies = await this.redis.multi().hgetall(this.deliveryKey(caseId, systemId)).lrange(this.historyKey(caseId, systemId), 0, -1).exec();
    const fields = (replies?.[0]?.[1] ?? {}) as Record<string, string>;
    const history = (replies?.[1]?.[1] ?? []) as string[];
    if (!fields.status) return undefined;
    return deliveryView(systemId, fields, history);
  }

  /** The case as the status API shows it. */
  async view(caseId: string): Promise<CaseView | undefined> {
    const record = await this.getCase(caseId);
    if (!record) return undefined;
    const deliveries = (await Promise.all(record.targets.map((t) => this.delivery(caseId, t)))).filter((d): d is DeliveryView => d !== undefined);
    const materials = record.case.materials.length > 0 ? await this.materialsOf(caseId, record.case) : undefined;
    return {
      caseId,
      itemCode: record.case.itemCode,
      status: caseStatusOf(deliveries.map((d) => d.status)),
      acceptedAt: record.acceptedAt,
      ...(materials ? { materials } : {}),
      deliveries,
    };
  }

  /** Each material as the case gave it, or as fetched: kind, name, size, digest; never its URI or bytes. */
  async materialsOf(caseId: string, c: Case): Promise<NonNullable<CaseView['materials']>> {
    return materialsView(c, await this.redis.hgetall(this.materialsKey(caseId)));
  }


  /** The case and all its deliveries as one consistent read (they share a slot), for the ledger. */
  async snapshot(caseId: string): Promise<CaseSnapshot | undefined> {
    const record = await this.getCase(caseId);
    if (!record) return undefined;
    const tx = this.redis.multi().get(this.caseKey(caseId));
    for (const t of record.targets) tx.hgetall(this.deliveryKey(caseId, t)).lrange(this.historyKey(caseId, t), 0, -1);
    tx.llen(this.outboxKey(caseId));
    tx.lrange(this.clockKey(caseId), 0, -1);
    const replies = (await tx.exec()) ?? [];
    const errored = replies.find(([err]) => err);
    if (errored) throw errored[0];
    if (replies[0]?.[1] === null) return undefined; // removed meanwhile
    const deliveries: DeliverySnapshot[] = [];
    let complete = true;
    record.targets.forEach((systemId, i) => {
      const fields = replies[1 + 2 * i]![1] as Record<string, string>;
      if (!fields.status) {
        complete = false;
        return;
      }
      deliveries.push({
        ...deliveryView(systemId, fields, replies[2 + 2 * i]![1] as string[]),
        discarded: fields.discarded === '1',
        endedAt: fields.discardedAt ?? fields.updatedAt ?? record.acceptedAt,
      });
    });
    const clock = (replies[replies.length - 1]![1] as string[]).map((e) => JSON.parse(e) as ClockEntry);
    const materials = record.case.materials.length > 0 ? await this.materialsOf(caseId, record.case) : undefined;
    return { record, deliveries, complete, outboxLength: Number(replies[replies.length - 2]![1]), clock, ...(materials ? { materials } : {}) };
  }

  /**
   * Removes a case from Redis once the ledger holds it: its receipt index entries, then all its
   * keys in one DEL (one slot), so a crash never leaves half a case behind for the next sweep.
   */
  async removeCase(snapshot: CaseSnapshot): Promise<void> {
    const { caseId } = snapshot.record.case;
    for (const d of snapshot.deliveries) {
      if (!d.receiptNo) continue;
      await this.redis.srem(this.receiptKey(d.systemId, d.receiptNo), caseId);
      const legacy = this.legacyReceiptKey(d.systemId, d.receiptNo);
      if ((await this.redis.get(legacy)) === caseId) await this.redis.del(legacy);
    }
    const targets = snapshot.record.targets;
    await this.redis.zrem(this.watchKey, caseId);
    await this.flagClock(caseId, undefined);
    await this.redis.zrem(this.acceptedKey, caseId);
    await this.redis.del(
      this.caseKey(caseId),
      ...targets.map((t) => this.deliveryKey(caseId, t)),
      ...targets.map((t) => this.historyKey(caseId, t)),
      this.outboxKey(caseId),
      this.clockKey(caseId),
      this.warnedKey(caseId),
      this.materialsKey(caseId),
    );
  }
}
