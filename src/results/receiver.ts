/**
 * Results coming home. Whatever the protocol (REST push, SOAP PushResult, XML push, or a poll),
 * a system's answer arrives here as a parsed body, is mapped by the system's `result.map`,
 * correlated to its delivery by caseId or by the system's own receipt number, and recorded.
 * A result no delivery is found for is never dropped: it is parked for ops and re-matched when
 * its case or receipt number appears.
 */
import { z } from 'zod';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import { outcomeSchema, caseIdSchema, procedureSchema, type Result } from '../cases/model';
import { resultJson, type CaseStore } from '../cases/store';
import type { UnmatchedResult } from './unmatched-store';
import { ApiError, issueDetails } from '../platform/errors';
import { jsonShapeProblem } from '../platform/json-body';
import { compileExpression } from '../platform/expressions';
import { maskPersonalData } from '../platform/privacy';
import { safeEqual } from '../platform/signing';
import type { Logger } from '../platform/logger';
import type { RequestOrigin } from '../platform/context';
import type { Metrics } from '../platform/metrics';
import { inSpan, SpanKind } from '../platform/tracing';
import { bytesOf, unmatchedId, type UnmatchedCap, type UnmatchedCursor, type UnmatchedPage } from './unmatched-store';

/** Unmatched results per page of the ops list, unless asked otherwise. */
export const DEFAULT_PAGE = 50;
/** A page of the ops list stops past this many bytes of results (one result always fits). */
const PAGE_BYTES = 4 * 1024 * 1024;

/** What `result.map` must produce: the canonical result, less what the gateway knows itself. */
const mappedResultSchema = z.object({
  caseId: caseIdSchema.optional(),
  receiptNo: z.union([z.string().min(1), z.number()]).transform(String).optional(),
  outcome: outcomeSchema,
  message: z.string().optional(),
  documents: z.array(z.unknown()).optional(),
  decidedAt: z.string().optional(),
  procedure: procedureSchema.optional(),
});
type MappedResult = z.infer<typeof mappedResultSchema>;

export interface ReceiveOutcome {
  caseId: string;
  systemId: string;
  /** The same result was already recorded: nothing changed. */
  duplicate: boolean;
}

export interface ResultReceiverDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  log: Logger;
  now?: () => Date;
  metrics?: Metrics;
}

type ResultSource = 'push' | 'poll';

/** Drops JSONata's undefined-valued keys, so "no message" reads as absent rather than invalid. */
function withoutUndefined(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

export class ResultReceiver {
  constructor(private readonly deps: ResultReceiverDeps) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  /**
   * Whether `presented` is the inbound token of `systemId`. An unknown system, or one without an
   * inbound token (it is polled, or not set up yet), authenticates nobody: a stranger learns
   * nothing about which system ids exist (401 before 404).
   */
  authenticates(systemId: string, presented: string | undefined): boolean {
    const expected = this.knownSystem(systemId)?.result?.inboundToken;
    return safeEqual(presented ?? '', expected ?? '') && Boolean(presented && expected);
  }

  knownSystem(systemId: string): SystemConfig | undefined {
    return this.deps.config().systems.get(systemId);
  }

  system(systemId: string): SystemConfig {
    const system = this.deps.config().systems.get(systemId);
    if (!system) throw new ApiError('unknown_system', `No legacy system "${systemId}" is configured.`);
    return system;
  }

  /**
   * Applies a result map (the system's `result.map` unless told otherwise); a result that does not
   * map is refused with the reasons. `known` fills in what the gateway already knows (polling).
   */
  async map(system: SystemConfig, pushed: unknown, source = system.result?.map, known: { caseId?: string; receiptNo?: string } = {}): Promise<MappedResult> {
    let mapped: unknown;
    try {
      // A system that only answers look-ups has no result map and authenticates no push.
      if (source === undefined) throw new Error(`${system.id} receives no cases, so it has no result.map`);
      const expression = compileExpression(source, expressionBudget(this.deps.config().gateway));
      const evaluated = withoutUndefined(await expression.evaluate(pushed));
      mapped = evaluated && typeof evaluated === 'object' ? { ...known, ...evaluated } : evaluated;
    } catch (err) {
      // The message may quote what was pushed: masked before it is answered or logged.
      throw new ApiError('invalid_result', `result.map of ${system.id} failed on this body: ${maskPersonalData((err as Error).message)}`);
    }
    const parsed = mappedResultSchema.safeParse(mapped);
    if (!parsed.success) {
      throw new ApiError('invalid_result', undefined, issueDetails(parsed.error.issues, '(result)'));
    }
    // A pushed body was checked at the door; a polled reply was not, and the ledger must keep what is recorded.
    const notText = jsonShapeProblem(parsed.data);
    if (notText) throw new ApiError('invalid_result', `The result is refused at ${notText.path}: ${notText.message}.`, [notText]);
    if (parsed.data.procedure && parsed.data.outcome !== 'info') {
      throw new ApiError('invalid_result', 'A special procedure is reported with outcome "info".', [{ path: 'procedure', message: 'only with outcome info' }]);
    }
    if (!parsed.data.caseId && !parsed.data.receiptNo) {
      throw new ApiError('invalid_result', 'The result names neither a caseId nor a receiptNo.', [{ path: 'caseId', message: 'required when there is no receiptNo' }]);
    }
    return parsed.data;
  }

  /**
   * Records a pushed (or polled) result. Throws ApiError unknown_case after parking an unmatched one,
   * or unmatched_full when its system's cap leaves no room to park it (then nothing is stored).
   */
  async receive(systemId: string, pushed: unknown, from: RequestOrigin = {}): Promise<ReceiveOutcome> {
    const system = this.system(systemId);
    return inSpan(`result ${systemId}`, SpanKind.INTERNAL, { 'ow.system_id': systemId, 'ow.result_source': 'push' }, () => this.receivePushed(system, pushed, from));
  }

  private async receivePushed(system: SystemConfig, pushed: unknown, from: RequestOrigin): Promise<ReceiveOutcome> {
    const systemId = system.id;
    const log = from.log ?? this.deps.log;
    const count = (outcome: 'recorded' | 'duplicate' | 'unmatched' | 'refused') => this.deps.metrics?.results.inc({ systemId, source: 'push', outcome });
    let mapped: MappedResult;
    try {
      mapped = await this.map(system, pushed);
    } catch (err) {
      count('refused');
      throw err;
    }
    const match = await this.correlate(systemId, mapped);
    const caseId = 'caseId' in match ? match.caseId : undefined;
    const outcome = caseId ? await this.record({ ...mapped, caseId, systemId }, 'push', from.requestId) : 'missing';
    if (outcome === 'mismatch') {
      count('refused');
      log.warn({ caseId, systemId, receiptNo: mapped.receiptNo }, 'result refused: its caseId and receipt number name different deliveries');
      throw new ApiError('receipt_mismatch', `The delivery of case ${caseId} to ${systemId} holds another receipt number than ${mapped.receiptNo}; nothing was recorded. Push it with the caseId and receipt number of one delivery.`);
    }
    if (outcome === 'missing') {
      const candidates = 'candidates' in match ? match.candidates : undefined;
      const reason = candidates
        ? `receipt number ${mapped.receiptNo} is held by more than one delivery (cases ${candidates.join(', ')})`
        : caseId
          ? `no delivery of case ${caseId} to ${systemId}`
          : `unknown receipt number ${mapped.receiptNo}`;
      const parked: UnmatchedResult = { id: unmatchedId(systemId), systemId, receivedAt: this.now(), pushed, result: mapped, reason, ...(candidates ? { candidates } : {}) };
      const cap = this.cap();
      const kept = await this.deps.store.unmatched.park(parked, cap);
      const names = { systemId, caseId: mapped.caseId, receiptNo: mapped.receiptNo };
      count(kept.parked ? 'unmatched' : 'refused');
      if (!kept.parked) {
        log.warn({ ...names, parked: kept.count, parkedBytes: kept.bytes, ...cap }, 'result for an unknown case refused: unmatched results at their cap');
        throw new ApiError(
          'unmatched_full',
          `No delivery matches this result and it was NOT kept: ${systemId} already has ${kept.count} unmatched results (${kept.bytes} bytes) parked, ` +
            `and may park at most ${cap.maxPerSystem} results or ${cap.maxBytesPerSystem} bytes. Push it again once its case is known or ops have cleared them.`,
        );
      }
      if (candidates) {
        log.warn({ ...names, candidates, unmatchedId: parked.id }, 'result naming a receipt number several open deliveries hold kept as unmatched');
        throw new ApiError('ambiguous_receipt', `Receipt number ${mapped.receiptNo} is held by more than one delivery of ${systemId} (cases ${candidates.join(', ')}); the result is kept for ops as unmatched result ${parked.id}. Push it again with its caseId.`);
      }
      log.warn({ ...names, unmatchedId: parked.id }, 'result for an unknown case kept as unmatched');
      throw new ApiError('unknown_case', `No delivery matches this result; it is kept for ops as unmatched result ${parked.id}.`);
    }
    count(outcome);
    log.info({ caseId, systemId, outcome: mapped.outcome, duplicate: outcome === 'duplicate' }, 'result received');
    return { caseId: caseId!, systemId, duplicate: outcome === 'duplicate' };
  }

  /**
   * The delivery a result belongs to: the one its caseId names, else the one delivery holding its
   * receipt number that it can mean. A receipt number is one system's counter, which may restart
   * and hand a number out twice: the result then goes to the one holder still open, or to the one
   * that already has this very result (a repeated push); with several open holders it is ambiguous.
   */
  private async correlate(systemId: string, mapped: MappedResult): Promise<{ caseId: string } | { candidates: string[] } | { unknown: true }> {
    if (mapped.caseId) return { caseId: mapped.caseId };
    const receiptNo = mapped.receiptNo;
    if (!receiptNo) return { unknown: true };
    const holders = await this.deps.store.receiptHolders(systemId, receiptNo);
    if (holders.length === 1) return { caseId: holders[0]!.caseId };
    const same = holders.find((h) => h.result === resultJson({ ...mapped, caseId: h.caseId, systemId, receiptNo }));
    if (same) return { caseId: same.caseId };
    const open = holders.filter((h) => h.open);
    if (open.length === 1) return { caseId: open[0]!.caseId };
    if (open.length > 1) return { candidates: open.map((h) => h.caseId) };
    return holders.length ? { candidates: holders.map((h) => h.caseId) } : { unknown: true };
  }

  /** How much each system may park (gateway.yaml `unmatched`). */
  private cap(): UnmatchedCap {
    const { maxPerSystem, maxBytesPerSystem } = this.deps.config().gateway.unmatched;
    return { maxPerSystem, maxBytesPerSystem: bytesOf(maxBytesPerSystem) };
  }

  /** Records a result fetched by polling an acknowledged delivery (its case is known). */
  async receivePolled(system: SystemConfig, delivery: { caseId: string; receiptNo: string }, reply: unknown, requestId?: string): Promise<void> {
    let mapped: MappedResult;
    try {
      mapped = await this.map(system, reply, system.result?.poll?.map ?? system.result?.map, delivery);
    } catch (err) {
      this.deps.metrics?.results.inc({ systemId: system.id, source: 'poll', outcome: 'refused' });
      throw err;
    }
    const outcome = await this.record({ ...mapped, caseId: delivery.caseId, systemId: system.id }, 'poll', requestId);
    this.deps.metrics?.results.inc({ systemId: system.id, source: 'poll', outcome: outcome === 'missing' ? 'unmatched' : outcome === 'mismatch' ? 'refused' : outcome });
    if (outcome === 'mismatch') throw new ApiError('receipt_mismatch', `${system.id} answered the poll of receipt number ${delivery.receiptNo} with a result for another receipt number; nothing was recorded.`);
  }

  private async record(result: Result, source?: ResultSource, requestId?: string): Promise<'recorded' | 'duplicate' | 'missing' | 'mismatch'> {
    // A result that leaves out the receipt number still carries the one the delivery was given.
    const receiptNo = result.receiptNo ?? (await this.deps.store.receiptOf(result.caseId, result.systemId));
    const outcome = await this.deps.store.recordResult(receiptNo ? { ...result, receiptNo } : result, this.now(), requestId);
    if (outcome === 'recorded' && source && this.deps.metrics) await this.observeCompletion(result.caseId, result.systemId);
    return outcome;
  }

  /** accept → completed, for the histogram; a case already gone from Redis is simply not measured. */
  private async observeCompletion(caseId: string, systemId: string): Promise<void> {
    const record = await this.deps.store.getCase(caseId).catch(() => undefined);
    if (!record) return;
    const seconds = (Date.parse(this.now()) - Date.parse(record.acceptedAt)) / 1000;
    this.deps.metrics?.acceptToCompleted.observe({ systemId }, Math.max(0, seconds));
  }

  /**
   * A page of the unmatched results, of one system or of all (by system id, then oldest first).
   * A page stops at `limit` results or at about 4 MB of them, whichever comes first.
   */
  async unmatched(query: { systemId?: string; cursor?: UnmatchedCursor; limit?: number } = {}): Promise<UnmatchedPage> {
    const systemIds = query.systemId ? [query.systemId] : [...new Set([...this.deps.config().systems.keys(), ...(await this.deps.store.unmatched.systems())])];
    return this.deps.store.unmatched.page(systemIds, { cursor: query.cursor, limit: query.limit ?? DEFAULT_PAGE, maxBytes: PAGE_BYTES });
  }

  /**
   * Tries again the parked results of a system that name this case or receipt number, now that a
   * delivery carrying them was acknowledged; answers how many matched. One look-up per name: the
   * system's other parked results are not read.
   */
  async rematch(names: { systemId: string; caseId?: string; receiptNo?: string }): Promise<number> {
    let matched = 0;
    for (const parked of await this.deps.store.unmatched.naming(names.systemId, names)) {
      if (await this.retry(parked)) matched++;
    }
    return matched;
  }

  /** Tries one parked result again (ops). Throws not_found when there is no such unmatched result. */
  async rematchOne(id: string): Promise<boolean> {
    const parked = await this.deps.store.unmatched.get(id);
    if (!parked) throw new ApiError('not_found', `No unmatched result ${id}.`);
    return this.retry(parked);
  }

  /** Records a parked result if its delivery is now known, then forgets it; false when still unmatched. */
  private async retry(parked: UnmatchedResult): Promise<boolean> {
    const mapped = mappedResultSchema.safeParse(parked.result);
    if (!mapped.success) return false;
    const match = await this.correlate(parked.systemId, mapped.data);
    if (!('caseId' in match)) return false;
    const { caseId } = match;
    const outcome = await this.record({ ...mapped.data, caseId, systemId: parked.systemId });
    if (outcome === 'missing' || outcome === 'mismatch') return false;
    // Recorded first, dropped second: a crash in between leaves a duplicate, which the next try drops.
    await this.deps.store.unmatched.drop(parked);
    this.deps.log.info({ caseId, systemId: parked.systemId, unmatchedId: parked.id }, 'unmatched result re-matched');
    return true;
  }
}
