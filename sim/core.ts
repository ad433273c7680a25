/**
 * The protocol-neutral core of the simulators: one state per configured system, whatever protocol
 * it speaks. It decides every submission (faults, credentials, markers, idempotency, receipt
 * numbers), counts and logs it, and later decides each accepted case and sends the result home:
 * pushed through the system's protocol simulator, or kept for the gateway to poll.
 *
 * Markers in a submitted body give tests a deterministic answer whatever the knobs say:
 *   SIM-REJECT            refused for good          SIM-RETRY             refused as "busy, retry later"
 *   SIM-OUTCOME-REJECTED  accepted, then rejected   SIM-OUTCOME-NEED-MORE accepted, then asks for more
 */
import { compileExpression } from '../src/platform/expressions';
import { z } from 'zod';
import type { GatewayConfig } from '../src/config/loader';
import type { SystemConfig } from '../src/config/schema';
import { MESSAGES } from './dialects';
import { PushError, type LookupRequest, type LookupVerdict, type PolledResult, type ProtocolSimulator, type SimContext, type Submission, type Verdict } from './protocol';
import { SAMPLE_PEOPLE } from './samples';
import { ResultBodyBuilder, type IntendedResult, type ResultOutcome } from './results';
import type { ReceivedMaterial } from './received-materials';

/**
 * A system's counters. Every submission that is not a recognised redelivery counts once in
 * `received` and once in exactly one of `accepted`, `rejected` (a business refusal or an unreadable
 * body) or `failed` (back-end error, outage, wrong credentials, or a "busy, retry later" refusal); a
 * redelivery of an accepted case counts only in `duplicates`. Each accepted case is later `decided`
 * once; a push system then counts the result as `pushed` (the gateway took it) or `pushFailed`
 * (given up after retries, refused by the gateway, or no body could be built from `result.map`).
 */
export interface SystemStats {
  received: number;
  duplicates: number;
  accepted: number;
  rejected: number;
  failed: number;
  decided: number;
  pushed: number;
  pushFailed: number;
}

/** Shares (0–1, at most 1 together) of decided cases that end rejected or asking for more. */
export interface OutcomeMix {
  rejected: number;
  need_more: number;
}

/** A system's knobs: how it misbehaves, and how it decides what it accepted. */
export interface Faults {
  /** Share of submissions (0–1) answered as a back-end failure (HTTP 500, SOAP Server fault). */
  failureRate: number;
  /** Share of submissions (0–1) refused as a business refusal (e.g. code "1", 材料不齐全). */
  rejectRate: number;
  /** Delay before every answer. */
  latencyMs: number;
  /** The system is unreachable: the connection is dropped without an answer. */
  down: boolean;
  /** How long after accepting a case the system decides it (0–600000 ms). */
  decisionDelayMs: number;
  /** The outcomes of decided cases that carry no SIM-OUTCOME-* marker; the rest are approved. */
  outcomeMix: OutcomeMix;
}

/** A change of knobs: any subset, `outcomeMix` merged key by key. */
export type FaultsPatch = Partial<Omit<Faults, 'outcomeMix'>> & { outcomeMix?: Partial<OutcomeMix> };

export const DEFAULT_FAULTS: Faults = {
  failureRate: 0,
  rejectRate: 0,
  latencyMs: 0,
  down: false,
  decisionDelayMs: 500,
  outcomeMix: { rejected: 0, need_more: 0 },
};

export const faultsSchema = z
  .strictObject({
    failureRate: z.number().min(0).max(1),
    rejectRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(600_000),
    down: z.boolean(),
    decisionDelayMs: z.number().int().min(0).max(600_000),
    outcomeMix: z.strictObject({ rejected: z.number().min(0).max(1), need_more: z.number().min(0).max(1) }).partial(),
  })
  .partial();

export type Outcome = 'accepted' | 'rejected' | 'failed' | 'duplicate';

/** What one simulated system saw: for tests that check what the gateway actually sent. */
export interface SimRequest {
  at: string;
  idempotencyKey?: string;
  /** The submission's headers, credentials (Authorization) left out. */
  headers: Record<string, string>;
  body: unknown;
  /** The materials it carried, as checked (kind, name, size, sha256, how they came). */
  materials?: ReceivedMaterial[];
  outcome: Outcome;
  receiptNo?: string;
}

/** A case a system accepted, and what it decided about it. */
export interface SimResult {
  systemId: string;
  /** From the Idempotency-Key (`caseId:systemId`), else read back from the body with `result.map`. */
  caseId?: string;
  receiptNo: string;
  outcome: ResultOutcome;
  message: string;
  acceptedAt: string;
  state: 'pending' | 'decided';
  decidedAt?: string;
  /** Push systems: what became of the push (none while no gateway URL is known). */
  push?: 'pushing' | 'pushed' | 'failed' | 'skipped';
  /** The body pushed, or the reply a poll gets once decided. */
  body?: Record<string, unknown>;
}

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Bounds what a long demo keeps in memory per system. */
const REQUEST_LOG_SIZE = 1000;
const RESULTS_KEPT = 10_000;

/** Waits before the 2nd, 3rd… try of a push the gateway did not take. */
export const PUSH_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];

/** The words a system decides with. */
export const DECISION_MESSAGES: Record<ResultOutcome, string> = {
  approved: '准予许可',
  rejected: '不予许可：不符合办理条件',
  need_more: '请补正材料后重新提交',
  info: '已告知办理结果',
};

/** A poll before the decision, and the envelope of the answer after it (REST dialect A style). */
export const POLL_PENDING: Record<string, unknown> = { code: '0', msg: '办理中', data: { status: 'PENDING' } };
export const POLL_DONE: Record<string, unknown> = { code: '0', msg: '成功', data: { status: 'DONE' } };

/**
 * Receipt numbers look like the real ones: a level prefix (GJ national, ZJ Zhejiang, QZ Quzhou),
 * the initials of the system id, the day in Beijing time and a daily sequence,
 * e.g. city-housing-reform → QZHR2026112800001.
 */
function receiptPrefix(system: SystemConfig): string {
  const level = { national: 'GJ', provincial: 'ZJ', city: 'QZ' }[system.level];
  const words = system.id.split('-').slice(1);
  const initials = words.length === 1 ? words[0]!.slice(0, 2) : words.map((w) => w[0]).join('');
  return (level + initials.slice(0, 4)).toUpperCase();
}

const beijingDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Every string value anywhere in a parsed body (object keys excluded). */
export function containsMarker(value: unknown, marker: string): boolean {
  if (typeof value === 'string') return value.includes(marker);
  if (Array.isArray(value)) return value.some((v) => containsMarker(v, marker));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => containsMarker(v, marker));
  return false;
}

/** Whether some string value anywhere in a parsed body is exactly `wanted`. */
function containsValue(value: unknown, wanted: string): boolean {
  if (typeof value === 'string') return value === wanted;
  if (Array.isArray(value)) return value.some((v) => containsValue(v, wanted));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => containsValue(v, wanted));
  return false;
}

/** The field a system's look-up request puts the applicant's name in (`"xm": name`), when it sends one. */
function nameField(system: SystemConfig): string | undefined {
  return /"([^"]+)"\s*:\s*name\b/.exec(system.lookup?.request ?? '')?.[1];
}

/** The name a look-up asks with, if any: a registry compares it with the ID number's holder. */
function askedName(system: SystemConfig, body: unknown): string | undefined {
  const field = nameField(system);
  const value = field && body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface SimSystem {
  config: SystemConfig;
  receiptPrefix: string;
  faults: Faults;
  stats: SystemStats;
  /** Idempotency-Key → receipt number, for the cases this system accepted. */
  receipts: Map<string, string>;
  sequence: { day: string; next: number };
  log: SimRequest[];
  /** Receipt number → the accepted case and its decision, oldest first. */
  results: Map<string, SimResult>;
  /** What was submitted for a case not decided yet (to read its caseId back when no key came). */
  submitted: Map<string, unknown>;
  /** The latest look-ups it was asked (bodies as parsed), oldest first. */
  lookups: SimLookup[];
  lookupCount: number;
}

/** A look-up a simulated system was asked, and what it answered. */
export interface SimLookup {
  at: string;
  body: unknown;
  answer: LookupVerdict['kind'];
}

export interface CoreOptions {
  /** Where decided results are pushed; none (nothing pushed) until set. */
  gatewayUrl?: string;
  /** Knobs every system starts with (validated like a PUT /sim/_control). */
  defaults?: FaultsPatch;
  /** Where the simulators say what went wrong with a result; console.warn by default. */
  log?: (line: string) => void;
}

export class SimCore {
  private readonly systems = new Map<string, SimSystem>();
  private readonly builders = new Map<string, ResultBodyBuilder>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly warned = new Set<string>();
  private readonly log: (line: string) => void;
  private gatewayUrl?: string;
  private closed = false;

  constructor(
    readonly config: GatewayConfig,
    private readonly protocols: ReadonlyMap<string, ProtocolSimulator>,
    options: CoreOptions = {},
  ) {
    this.log = options.log ?? ((line) => console.warn(line));
    this.setGatewayUrl(options.gatewayUrl);
    const faults = options.defaults ? mergeFaults(DEFAULT_FAULTS, options.defaults) : DEFAULT_FAULTS;
    for (const system of config.systems.values()) {
      this.systems.set(system.id, {
        config: system,
        receiptPrefix: receiptPrefix(system),
        faults: { ...faults, outcomeMix: { ...faults.outcomeMix } },
        stats: { received: 0, duplicates: 0, accepted: 0, rejected: 0, failed: 0, decided: 0, pushed: 0, pushFailed: 0 },
        receipts: new Map(),
        sequence: { day: '', next: 1 },
        log: [],
        results: new Map(),
        submitted: new Map(),
        lookups: [],
        lookupCount: 0,
      });
    }
  }

  /** The context a protocol simulator is mounted with: its systems, and the core's decisions. */
  context(protocol: SystemConfig['protocol']): SimContext {
    return {
      systems: [...this.config.systems.values()].filter((s) => s.protocol === protocol),
      configDir: this.config.dir,
      submit: (submission) => this.submit(submission),
      pollResult: (systemId, receiptNo) => this.pollResult(systemId, receiptNo),
      lookup: (request) => this.lookup(request),
    };
  }

  /** The look-ups a system was asked (the latest 1000) and how many in all. */
  lookups(systemId: string): { count: number; latest: SimLookup[] } {
    const sim = this.find(systemId);
    return { count: sim.lookupCount, latest: sim.lookups.map((l) => ({ ...l })) };
  }

  /**
   * A shared-data look-up: the same knobs as submissions (down, failureRate, latencyMs), then the
   * sample person whose ID number the body carries, and the record of the asked kind (the system's
   * only kind, or the kind named somewhere in the body).
   */
  async lookup(request: LookupRequest): Promise<LookupVerdict> {
    const sim = this.find(request.systemId);
    sim.lookupCount++;
    const verdict = await this.lookupVerdict(sim, request);
    sim.lookups.push({ at: new Date().toISOString(), body: request.body, answer: verdict.kind });
    if (sim.lookups.length > REQUEST_LOG_SIZE) sim.lookups.shift();
    return verdict;
  }

  private async lookupVerdict(sim: SimSystem, request: LookupRequest): Promise<LookupVerdict> {
    const { faults } = sim;
    if (faults.down) return { kind: 'down' };
    if (Math.random() < faults.failureRate) return { kind: 'broken', message: MESSAGES.broken };
    if (!request.authorized) return { kind: 'unauthorized', message: MESSAGES.unauthorized };
    if (request.body === undefined) return { kind: 'invalid', message: MESSAGES.invalidBody };
    const person = SAMPLE_PEOPLE.find((p) => containsValue(request.body, p.idNumber));
    const kinds = sim.config.lookup?.kinds ?? [];
    const kind = kinds.length === 1 ? kinds[0] : kinds.find((k) => containsValue(request.body, k));
    const wait = faults.latencyMs + (person?.slowMs ?? 0);
    // Unref'd: a look-up still "thinking" when the simulators close must not hold the process open.
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
    // As a registry does (人证比对): an ID number asked with someone else's name finds nothing.
    const asked = askedName(sim.config, request.body);
    const record = person && kind && (asked === undefined || asked === person.name) ? person.records[kind] : undefined;
    return record ? { kind: 'found', record } : { kind: 'not_found' };
  }

  setGatewayUrl(url: string | undefined): void {
    if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) throw new Error(`the gateway URL must be http(s)://host:port, not "${url}"`);
    this.gatewayUrl = url?.replace(/\/+$/, '');
  }

  private find(systemId: string): SimSystem {
    const sim = this.systems.get(systemId);
    if (!sim) throw new SimError(404, 'unknown_system', `no simulated system ${systemId}`);
    return sim;
  }

  /** A configured system (whatever its protocol), or undefined. */
  system(systemId: string): SystemConfig | undefined {
    return this.systems.get(systemId)?.config;
  }

  faults(systemId: string): Faults {
    const f = this.find(systemId).faults;
    return { ...f, outcomeMix: { ...f.outcomeMix } };
  }

  /** Takes unknown input: callers in code and the HTTP route get the same validation. */
  setFaults(systemId: string, input: unknown): Faults {
    const sim = this.find(systemId);
    sim.faults = mergeFaults(sim.faults, input);
    return this.faults(systemId);
  }

  stats(): Record<string, SystemStats> {
    return Object.fromEntries([...this.systems].map(([id, sim]) => [id, { ...sim.stats }]));
  }

  requests(systemId: string): SimRequest[] {
    return [...this.find(systemId).log];
  }

  results(systemId: string): SimResult[] {
    return [...this.find(systemId).results.values()].map((r) => ({ ...r }));
  }

  /**
   * Decides, counts and logs one submission, waits the system's latency, and answers the verdict.
   * The verdict is decided before the wait, so that a concurrent redelivery already finds the receipt.
   */
  async submit(submission: Submission): Promise<Verdict> {
    const sim = this.find(submission.systemId);
    if (sim.faults.down) {
      // An outage as the gateway meets it: the connection is cut before any answer.
      this.count(sim, 'failed');
      this.record(sim, submission, 'failed');
      return { kind: 'down' };
    }
    const verdict = this.decide(sim, submission);
    const outcome = outcomeOf(verdict);
    this.count(sim, outcome);
    const receiptNo = verdict.kind === 'accepted' || verdict.kind === 'duplicate' ? verdict.receiptNo : undefined;
    this.record(sim, submission, outcome, receiptNo);
    const accepted = verdict.kind === 'accepted' ? this.open(sim, submission, verdict.receiptNo) : undefined;
    if (sim.faults.latencyMs > 0) await sleep(sim.faults.latencyMs);
    if (accepted) this.later(sim.faults.decisionDelayMs, () => this.conclude(sim, accepted));
    return verdict;
  }

  /** A polling system's answer about one receipt; undefined for an unknown one or a push system. */
  pollResult(systemId: string, receiptNo: string): PolledResult | undefined {
    const sim = this.systems.get(systemId);
    const result = sim?.results.get(receiptNo);
    if (!sim || !result || sim.config.result?.mode !== 'poll') return undefined;
    if (result.state === 'decided' && result.body) return { state: 'done', body: structuredClone(result.body) };
    return { state: 'pending', body: structuredClone(POLL_PENDING) };
  }

  /** Stops deciding and pushing: pending decisions and push retries are dropped. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private decide(sim: SimSystem, submission: Submission): Verdict {
    const { faults } = sim;
    if (Math.random() < faults.failureRate) return { kind: 'broken', message: MESSAGES.broken };
    if (!submission.authorized) return { kind: 'unauthorized', message: MESSAGES.unauthorized };
    const body = submission.body;
    if (body === undefined) return { kind: 'invalid', message: MESSAGES.invalidBody };
    const key = submission.idempotencyKey;
    const known = key === undefined ? undefined : sim.receipts.get(key);
    if (known !== undefined) return { kind: 'duplicate', receiptNo: known };
    if (containsMarker(body, 'SIM-REJECT')) return { kind: 'refused', message: MESSAGES.refused };
    if (containsMarker(body, 'SIM-RETRY')) return { kind: 'retry_later', message: MESSAGES.retryLater };
    if (Math.random() < faults.rejectRate) return { kind: 'refused', message: MESSAGES.refused };
    const receiptNo = this.nextReceipt(sim);
    if (key !== undefined) sim.receipts.set(key, receiptNo);
    return { kind: 'accepted', receiptNo };
  }

  private nextReceipt(sim: SimSystem): string {
    const day = beijingDay.format(new Date()).replace(/-/g, '');
    if (sim.sequence.day !== day) sim.sequence = { day, next: 1 };
    const n = sim.sequence.next++;
    return `${sim.receiptPrefix}${day}${String(n).padStart(5, '0')}`;
  }

  private count(sim: SimSystem, outcome: Outcome): void {
    if (outcome === 'duplicate') {
      sim.stats.duplicates++;
      return;
    }
    sim.stats.received++;
    sim.stats[outcome]++;
  }

  private record(sim: SimSystem, submission: Submission, outcome: Outcome, receiptNo?: string): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(submission.headers)) {
      // Credentials stay out of the log a test or the demo may print.
      if (name.toLowerCase() !== 'authorization') headers[name.toLowerCase()] = value;
    }
    sim.log.push({ at: new Date().toISOString(), idempotencyKey: submission.idempotencyKey, headers, body: submission.body, ...(submission.materials ? { materials: submission.materials } : {}), outcome, receiptNo });
    if (sim.log.length > REQUEST_LOG_SIZE) sim.log.shift();
  }

  /** Registers an accepted case, pending, with the outcome it will get. */
  private open(sim: SimSystem, submission: Submission, receiptNo: string): SimResult {
    const key = submission.idempotencyKey;
    const suffix = `:${sim.config.id}`;
    const caseId = key?.endsWith(suffix) && key.length > suffix.length ? key.slice(0, -suffix.length) : undefined;
    const outcome = chooseOutcome(submission.body, sim.faults.outcomeMix);
    const result: SimResult = {
      systemId: sim.config.id,
      caseId,
      receiptNo,
      outcome,
      message: DECISION_MESSAGES[outcome],
      acceptedAt: new Date().toISOString(),
      state: 'pending',
    };
    sim.results.set(receiptNo, result);
    if (caseId === undefined) sim.submitted.set(receiptNo, submission.body);
    if (sim.results.size > RESULTS_KEPT) {
      const oldest = sim.results.keys().next().value as string;
      sim.results.delete(oldest);
      sim.submitted.delete(oldest);
    }
    return result;
  }

  private later(ms: number, run: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      run().catch((err: unknown) => this.log(`simulator: ${err instanceof Error ? err.message : String(err)}`));
    }, ms);
    this.timers.add(timer);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, async () => resolve()));
  }

  private builder(source: string): ResultBodyBuilder {
    let builder = this.builders.get(source);
    if (!builder) {
      builder = new ResultBodyBuilder(source);
      this.builders.set(source, builder);
    }
    return builder;
  }

  /** Says something once per system and kind, so a broken map does not flood a long demo. */
  private warnOnce(systemId: string, kind: string, line: string): void {
    const key = `${systemId}\n${kind}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(line);
  }

  /** The case is decided: kept for polls, or pushed to the gateway. */
  private async conclude(sim: SimSystem, result: SimResult): Promise<void> {
    const system = sim.config;
    const submitted = sim.submitted.get(result.receiptNo);
    sim.submitted.delete(result.receiptNo);
    if (result.caseId === undefined && submitted !== undefined) result.caseId = await this.caseIdIn(system, submitted);
    const decidedAt = new Date();
    const intended: IntendedResult = { caseId: result.caseId, receiptNo: result.receiptNo, outcome: result.outcome, message: result.message, decidedAt };
    const label = `${system.id} ${result.caseId ?? result.receiptNo}`;
    // Only a system that receives cases accepts one; a look-up-only system has nothing to conclude.
    const delivery = system.result;
    if (!delivery) return;

    if (delivery.mode === 'poll') {
      const map = delivery.poll?.map ?? delivery.map;
      const built = await this.builder(map).build(intended, { seed: POLL_DONE, idsKnown: true });
      if (!built.ok) {
        this.warnOnce(system.id, 'poll-map', `simulator ${system.id}: cannot build a poll reply its result map reads (${built.reason}); its polls stay pending`);
        return;
      }
      const until = delivery.poll?.until;
      if (until) {
        const reason = await this.untilDisagrees(until, built.body);
        if (reason) {
          this.warnOnce(system.id, 'poll-until', `simulator ${system.id}: result.poll.until ${reason}; its polls stay pending`);
          return;
        }
      }
      Object.assign(result, { state: 'decided', decidedAt: decidedAt.toISOString(), body: built.body });
      sim.stats.decided++;
      return;
    }

    Object.assign(result, { state: 'decided', decidedAt: decidedAt.toISOString() });
    sim.stats.decided++;
    if (!this.gatewayUrl) return;
    const protocol = this.protocols.get(system.protocol);
    if (!protocol) {
      this.warnOnce(system.id, 'no-protocol', `simulator ${system.id}: no ${system.protocol} simulator is registered to push its results`);
      return;
    }
    const built = await this.builder(delivery.map).build(intended, { stringsOnly: protocol.pushesStrings });
    if (!built.ok) {
      this.warnOnce(system.id, 'push-map', `simulator ${system.id}: cannot build a push body its result.map reads (${built.reason}); results not pushed`);
      result.push = 'skipped';
      sim.stats.pushFailed++;
      return;
    }
    result.body = built.body;
    result.push = 'pushing';
    for (let attempt = 0; ; attempt++) {
      const gatewayUrl = this.gatewayUrl;
      if (this.closed || !gatewayUrl) return;
      try {
        await protocol.push(system, built.body, gatewayUrl);
        result.push = 'pushed';
        sim.stats.pushed++;
        return;
      } catch (err) {
        const retryable = !(err instanceof PushError) || err.retryable;
        const delay = PUSH_RETRY_DELAYS_MS[attempt];
        if (this.closed) return;
        if (!retryable || delay === undefined) {
          result.push = 'failed';
          sim.stats.pushFailed++;
          const tries = attempt + 1;
          this.log(`simulator ${label}: result push gave up after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        await this.wait(delay);
      }
    }
  }

  /** The caseId a body carries, read with the system's result map (it echoes the caseId). */
  private async caseIdIn(system: SystemConfig, body: unknown): Promise<string | undefined> {
    if (!system.result) return undefined;
    try {
      const mapped = (await compileExpression(system.result.map).evaluate(body)) as { caseId?: unknown } | undefined;
      return typeof mapped?.caseId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(mapped.caseId) ? mapped.caseId : undefined;
    } catch {
      return undefined;
    }
  }

  /** Why `until` would not tell the pending answer from the done one, or undefined when it does. */
  private async untilDisagrees(until: string, done: Record<string, unknown>): Promise<string | undefined> {
    const expression = compileExpression(until);
    try {
      if ((await expression.evaluate(done)) !== true) return `is not true on the decided reply ${JSON.stringify(done)}`;
      if ((await expression.evaluate(structuredClone(POLL_PENDING))) === true) return `is already true on the pending reply ${JSON.stringify(POLL_PENDING)}`;
    } catch (err) {
      return `fails: ${(err as Error).message}`;
    }
    return undefined;
  }
}

function outcomeOf(verdict: Verdict): Outcome {
  switch (verdict.kind) {
    case 'accepted':
      return 'accepted';
    case 'duplicate':
      return 'duplicate';
    case 'refused':
    case 'invalid':
      return 'rejected';
    default:
      return 'failed';
  }
}

function chooseOutcome(body: unknown, mix: OutcomeMix): ResultOutcome {
  if (containsMarker(body, 'SIM-OUTCOME-REJECTED')) return 'rejected';
  if (containsMarker(body, 'SIM-OUTCOME-NEED-MORE')) return 'need_more';
  const r = Math.random();
  if (r < mix.rejected) return 'rejected';
  if (r < mix.rejected + mix.need_more) return 'need_more';
  return 'approved';
}

/** Applies a change of knobs after validating it; throws SimError 400 invalid_faults. */
export function mergeFaults(current: Faults, input: unknown): Faults {
  const parsed = faultsSchema.safeParse(input);
  if (!parsed.success) {
    throw new SimError(
      400,
      'invalid_faults',
      'faults must be an object with failureRate (0-1), rejectRate (0-1), latencyMs (integer ms, at most 600000), down (boolean), ' +
        'decisionDelayMs (integer ms, at most 600000) and/or outcomeMix ({rejected, need_more}, shares 0-1)',
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })),
    );
  }
  const { outcomeMix, ...rest } = parsed.data;
  const merged: Faults = { ...current, ...rest, outcomeMix: { ...current.outcomeMix, ...outcomeMix } };
  if (merged.outcomeMix.rejected + merged.outcomeMix.need_more > 1) {
    throw new SimError(400, 'invalid_faults', 'outcomeMix.rejected and outcomeMix.need_more may add up to 1 at most', [
      { path: 'outcomeMix', message: 'the shares add up to more than 1' },
    ]);
  }
  return merged;
}
