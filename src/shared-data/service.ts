/**
 * Shared data (数据跑路): one ID card fetches the records a case needs. A query is
 * checked first: its case must be one the gateway holds, its purpose that case's item, and every
 * kind one the item may use; a refused query asks no system. Then every source of every kind is
 * asked in parallel through the adapters; whatever the sources do, the answer goes out at the
 * deadline. A found document is sealed for the asking case, with the item as its purpose, and
 * carries the watermark. Every query, answered or refused, is audited with the ID number masked
 * and a keyed hash of it, never the number itself.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import type { AuditEntry, LookupAudit } from '../api-schemas';
import type { Operations } from '../admin/operations';
import { caseIdSchema } from '../cases/model';
import type { GatewayConfig } from '../config/loader';
import { secretsOf, type SharedDataFile } from '../config/schema';
import type { CircuitBreakers } from '../delivery/circuit';
import { errorMessage } from '../platform/failure';
import { ApiError, issueDetails } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { RequestOrigin } from '../platform/context';
import { mask, maskPersonalData } from '../platform/privacy';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';
import { parseDuration } from '../seal/config';
import { watermark, type Seal, type Sealer } from '../seal';
import { LookupSources, type LookupSource } from './sources';
import { mergeNewestFirst, type LookupRecord } from '../ledger/audit';
import type { Ledger } from '../ledger/ledger';
import type { LookupDocuments } from '../materials/lookup-documents';

export type DocumentStatus = 'found' | 'not_found' | 'error' | 'timeout';

export const DEFAULT_DEADLINE_MS = 3000;

/** What is kept of the deadline for writing the answer once the sources are cut off. */
const ANSWER_MARGIN_MS = 25;

export const sharedDataQuerySchema = z.strictObject({
  caseId: caseIdSchema,
  /** The item code the documents are for: it decides which kinds may be asked. */
  purpose: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an item code: 1-64 of A-Z, a-z, 0-9, _ and -'),
  idNumber: z.string().regex(/^[0-9A-Za-z]{6,32}$/, '6-32 letters and digits'),
  name: z.string().trim().min(1).max(64).optional(),
  documents: z
    .array(z.string().min(1).max(64))
    .min(1)
    .max(20)
    .refine((kinds) => new Set(kinds).size === kinds.length, 'each kind once')
    .meta({ uniqueItems: true, description: 'Kinds of shared-data.yaml, each once (the document lists the shipped ones).' }),
  deadlineMs: z.number().int().min(100).max(30_000).optional(),
});
export type SharedDataQuery = z.infer<typeof sharedDataQuerySchema>;

/** What one source said about one kind. */
export interface SourceAnswer {
  source: string;
  status: DocumentStatus;
  ms: number;
  error?: string;
}

export interface SharedDocument {
  kind: string;
  name: string;
  status: DocumentStatus;
  /** The source whose record this is (found), or that answered the status. */
  source: string;
  data?: Record<string, unknown>;
  watermark?: string;
  seal?: Seal;
  error?: string;
  ms: number;
  /** Answered from the cache (sealed afresh for the asking case). */
  cached?: boolean;
  /** Every source asked for this kind, and what each said. */
  sources: SourceAnswer[];
}

export interface SharedDataAnswer {
  queryId: string;
  caseId: string;
  purpose: string;
  documents: SharedDocument[];
}

/** A look-up in the audit trail as ops list it: no hash, the ID number masked. */
export type LookupListing = Omit<LookupAudit, 'personKey'> & { at: string; who: string };

export interface LookupFilter {
  caseId?: string;
  /** A full ID number: compared by its keyed hash. */
  person?: string;
  purpose?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

export interface SharedDataDeps {
  config: () => GatewayConfig;
  redis: RedisClient;
  prefix: string;
  circuits: CircuitBreakers;
  sealer: Sealer;
  operations: Operations;
  log: Logger;
  /** The case ledger: where look-ups are drained to and read from, and where the hashing key is kept. */
  ledger?: Ledger;
  /**
   * The item code of a case the gateway holds (in Redis, or archived in the ledger); undefined when
   * it holds none. Rejects when it cannot tell (the case is not in Redis and the ledger is away).
   */
  caseItem: (caseId: string) => Promise<string | undefined>;
  /** Where found documents are kept, so that the case may name them as materials (lookup://). */
  documents?: LookupDocuments;
}

/** A found document as the cache keeps it: the record, not a seal (each answer is sealed for its own case). */
interface Cached {
  source: string;
  data: Record<string, unknown>;
}

/** One source's outcome, with the document's data when found. */
interface Outcome extends SourceAnswer {
  kind: string;
  data?: Record<string, unknown>;
}

const compiledPurposes = new WeakMap<SharedDataFile, Array<(itemCode: string) => boolean>>();

/** The first purpose entry whose itemCode glob matches, read top to bottom like routes.yaml. */
function purposeEntry(shared: SharedDataFile, itemCode: string): SharedDataFile['purposes'][number] | undefined {
  let matchers = compiledPurposes.get(shared);
  if (!matchers) {
    matchers = shared.purposes.map((p) => picomatch(p.itemCode, { nocase: false, dot: true }));
    compiledPurposes.set(shared, matchers);
  }
  const index = matchers.findIndex((m) => m(itemCode));
  return index >= 0 ? shared.purposes[index] : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The mapped data as plain JSON (JSONata's arrays carry extra properties), or undefined if it is not an object. */
function plainObject(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** Who asked, once the service's own logger stands in for a request's that has none. */
type Asker = RequestOrigin & { log: Logger };

export class SharedDataService {
  readonly sources: LookupSources;
  private pepper?: Promise<Buffer>;
  private readonly scripts: LuaScripts<'rate'>;

  constructor(private readonly deps: SharedDataDeps) {
    this.sources = new LookupSources(deps.config());
    this.scripts = new LuaScripts(deps.redis, path.join(__dirname, 'lua'), ['rate']);
  }

  /**
   * The keyed hash an ID number is known by in the cache and the audit trail. Keyed (a secret kept
   * in Redis, made once), because an 18-character ID number is guessable: a plain SHA-256 of it
   * could be reversed by trying every birth date and region.
   */
  async personKey(idNumber: string): Promise<string> {
    return this.keyed(idNumber.toUpperCase());
  }

  /** Whom a cached document is about: the ID number and the name the source was asked with, keyed. */
  private cacheSubject(idNumber: string, name: string | undefined): Promise<string> {
    return this.keyed(`${idNumber.toUpperCase()}\u0000${name ?? ''}`);
  }

  private async keyed(text: string): Promise<string> {
    this.pepper ??= (async () => {
      const key = `${this.deps.prefix}:shared-data:pepper`;
      const ledger = this.deps.ledger;
      if (ledger) {
        // The ledger keeps the key too: the look-ups it holds outlive Redis, and a person's must
        // still be found after a flush. Its copy wins; Redis gets it back when it lost it.
        const inRedis = await this.deps.redis.get(key);
        const kept = await ledger.keepSecret('shared-data-pepper', inRedis ?? crypto.randomBytes(32).toString('hex'));
        if (kept !== inRedis) await this.deps.redis.set(key, kept);
        return Buffer.from(kept, 'hex');
      }
      await this.deps.redis.set(key, crypto.randomBytes(32).toString('hex'), 'NX');
      const stored = await this.deps.redis.get(key);
      if (!stored) throw new Error('the shared-data hashing key could not be read from Redis');
      return Buffer.from(stored, 'hex');
    })().catch((err: unknown) => {
      this.pepper = undefined;
      throw err;
    });
    return crypto.createHmac('sha256', await this.pepper).update(text).digest('hex');
  }

  /**
   * `receivedAt`: when the request arrived (epoch ms); the deadline counts from then, not from when
   * it was parsed. `from`: the request's logger and id; the sources are sent the id as X-Request-Id.
   */
  async query(body: unknown, who: string, receivedAt = Date.now(), from: RequestOrigin = {}): Promise<SharedDataAnswer> {
    const started = receivedAt;
    const log = from.log ?? this.deps.log;
    const origin = { log, ...(from.requestId ? { requestId: from.requestId } : {}) };
    const parsed = sharedDataQuerySchema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError('invalid_request', 'The query must be {caseId, purpose, idNumber, name?, documents: [kind, …], deadlineMs?}.', issueDetails(parsed.error.issues));
    }
    const query = parsed.data;
    const config = this.deps.config();
    const shared = config.sharedData;
    const unknown = query.documents.flatMap((kind, i) => (shared.documents[kind] ? [] : [{ path: `documents[${i}]`, message: `unknown document kind "${kind}"` }]));
    if (unknown.length > 0) throw new ApiError('invalid_request', `Known document kinds: ${Object.keys(shared.documents).join(', ') || 'none'}.`, unknown);

    const entry = purposeEntry(shared, query.purpose);
    const refused = query.documents.filter((kind) => !entry?.documents.includes(kind));
    const personKey = await this.personKey(query.idNumber);
    const queryId = crypto.randomUUID();
    const audit = (lookup: Omit<LookupAudit, 'queryId' | 'caseId' | 'purpose' | 'person' | 'personKey' | 'kinds'>) =>
      this.deps.operations.audit(
        { who, action: 'shared-data.query', target: query.caseId, lookup: { queryId, caseId: query.caseId, purpose: query.purpose, person: mask(query.idNumber), personKey, kinds: query.documents, ...lookup } },
        'shared-data',
      );

    // A look-up is for a case the gateway holds, and for that case's item only: a caller cannot
    // invent a case, or borrow a real one, to reach records another item may use.
    const itemCode = await this.deps.caseItem(query.caseId).catch((err: unknown) => {
      if (err instanceof ApiError) throw err;
      throw new ApiError('unavailable', `Whether the gateway holds case ${query.caseId} cannot be told right now (Redis or the case ledger does not answer); try again shortly.`);
    });
    if (itemCode !== query.purpose) {
      const refusal = itemCode === undefined ? 'unknown_case' : 'purpose_mismatch';
      await audit({ sources: [], outcome: 'refused', statuses: [], refused: query.documents, refusal, ms: Date.now() - started });
      log.warn({ queryId, caseId: query.caseId, purpose: query.purpose, refusal }, 'shared-data query refused: not for the item of a case the gateway holds');
      throw itemCode === undefined
        ? new ApiError('unknown_case', `The gateway holds no case ${query.caseId}: submit the case before looking up its records.`, [{ path: 'caseId', message: 'no such case' }])
        : new ApiError('purpose_mismatch', `Case ${query.caseId} is for item ${itemCode}, not ${query.purpose}.`, [{ path: 'purpose', message: `must be ${itemCode}, the item of case ${query.caseId}` }]);
    }

    if (refused.length > 0) {
      // Refused before any source is asked: the purpose decides what may be known, not the caller.
      await audit({ sources: [], outcome: 'refused', statuses: [], refused, refusal: 'purpose_not_allowed', ms: Date.now() - started });
      log.warn({ queryId, caseId: query.caseId, purpose: query.purpose, refused }, 'shared-data query refused: purpose not allowed');
      throw new ApiError(
        'purpose_not_allowed',
        entry ? `Item ${query.purpose} may not use ${refused.join(', ')}.` : `No purpose in shared-data.yaml matches item ${query.purpose}.`,
        refused.map((kind) => ({ path: `documents[${query.documents.indexOf(kind)}]`, message: `"${kind}" is not allowed for ${query.purpose}` })),
      );
    }

    const purposeLabel = entry?.name ? `${entry.name}（${query.purpose}）` : query.purpose;
    const deadlineMs = query.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const deadline = new AbortController();
    // Sources are cut off a little before the deadline, so the answer (sealed, audited) leaves by it.
    const timer = setTimeout(() => deadline.abort(), Math.max(0, started + deadlineMs - ANSWER_MARGIN_MS - Date.now()));
    let documents: SharedDocument[];
    try {
      const subject = await this.cacheSubject(query.idNumber, query.name);
      documents = await Promise.all(query.documents.map((kind) => this.document(kind, query, purposeLabel, subject, queryId, deadline.signal, started, deadlineMs, origin)));
    } finally {
      clearTimeout(timer);
      deadline.abort(); // nothing still running may write to an answer that has gone
    }

    const found = documents.filter((d) => d.status === 'found' && d.data);
    await this.deps.documents
      ?.keep(queryId, found.map((d) => ({ caseId: query.caseId, kind: d.kind, name: d.name, source: d.source, data: d.data!, ...(d.watermark ? { watermark: d.watermark } : {}), ...(d.seal ? { seal: d.seal } : {}) })))
      .catch((err: Error) => log.warn({ queryId, err: err.message }, 'found documents not kept: the case cannot name them as materials'));
    const statuses = documents.flatMap((d) => (d.cached ? [{ kind: d.kind, source: d.source, status: d.status, cached: true }] : d.sources.map((s) => ({ kind: d.kind, source: s.source, status: s.status }))));
    await audit({ sources: [...new Set(statuses.map((s) => s.source))], outcome: 'answered', statuses, ms: Date.now() - started });
    log.info({ queryId, caseId: query.caseId, purpose: query.purpose, statuses: documents.map((d) => `${d.kind}:${d.status}`), ms: Date.now() - started }, 'shared-data query answered');
    return { queryId, caseId: query.caseId, purpose: query.purpose, documents };
  }

  /** Per person as asked (ID number and name), kind and item. */
  private cacheKey(subject: string, kind: string, purpose: string): string {
    return `${this.deps.prefix}:shared-data:cached:${subject}:${kind}:${purpose}`;
  }

  /** A found document sealed for this query's case, with its watermark. */
  private sealed(data: Record<string, unknown>, source: string, query: SharedDataQuery, purposeLabel: string): { seal: Seal; watermark: string } {
    const seal = this.deps.sealer.seal({ document: data, purpose: purposeLabel, caseId: query.caseId, systemId: source });
    return { seal, watermark: watermark(seal) };
  }

  /** One kind: from the cache, else from every source at once; the first `found` wins. */
  private async document(kind: string, query: SharedDataQuery, purposeLabel: string, subject: string, queryId: string, deadline: AbortSignal, started: number, deadlineMs: number, origin: Asker): Promise<SharedDocument> {
    const spec = this.deps.config().sharedData.documents[kind]!;
    const ttlMs = parseDuration(spec.cacheTtl) ?? 0;
    const key = this.cacheKey(subject, kind, query.purpose);
    if (ttlMs > 0) {
      const hit = await this.deps.redis.get(key).catch((err: Error) => {
        origin.log.warn({ queryId, kind, err: err.message }, 'shared-data cache unreadable; asking the sources');
        return null;
      });
      if (hit) {
        const cached = JSON.parse(hit) as Cached;
        const { seal, watermark: mark } = this.sealed(cached.data, cached.source, query, purposeLabel);
        const ms = Date.now() - started;
        return { kind, name: spec.name, status: 'found', source: cached.source, data: cached.data, watermark: mark, seal, ms, cached: true, sources: [{ source: cached.source, status: 'found', ms }] };
      }
    }

    let winner: Outcome | undefined;
    const outcomes = await Promise.all(
      spec.sources.map(async (source) => {
        const outcome = await this.ask(source, kind, query, queryId, deadline, deadlineMs, origin);
        // The first found in time wins; later finds are reported, not used.
        if (outcome.status === 'found' && !winner) winner = outcome;
        return outcome;
      }),
    );
    const answers: SourceAnswer[] = outcomes.map(({ source, status, ms, error }) => ({ source, status, ms, ...(error ? { error } : {}) }));
    if (winner?.data) {
      const { seal, watermark: mark } = this.sealed(winner.data, winner.source, query, purposeLabel);
      if (ttlMs > 0) {
        const value: Cached = { source: winner.source, data: winner.data };
        await this.deps.redis.set(key, JSON.stringify(value), 'PX', ttlMs).catch((err: Error) => origin.log.warn({ queryId, kind, err: err.message }, 'shared-data cache not written'));
      }
      return { kind, name: spec.name, status: 'found', source: winner.source, data: winner.data, watermark: mark, seal, ms: winner.ms, sources: answers };
    }
    // Nothing found: not_found only when every source said so; else the doubt (an error, then a timeout).
    const pick = outcomes.find((o) => o.status === 'error') ?? outcomes.find((o) => o.status === 'timeout') ?? outcomes[0]!;
    const ms = Math.max(...outcomes.map((o) => o.ms));
    return { kind, name: spec.name, status: pick.status, source: pick.source, ...(pick.error ? { error: pick.error } : {}), ms, sources: answers };
  }

  /** Asks one source about one kind; never rejects, and settles by the deadline at the latest. */
  private async ask(systemId: string, kind: string, query: SharedDataQuery, queryId: string, deadline: AbortSignal, deadlineMs: number, origin: Asker): Promise<Outcome> {
    const t0 = Date.now();
    const elapsed = () => Date.now() - t0;
    const fail = (status: 'error' | 'timeout', error: string): Outcome => ({ kind, source: systemId, status, ms: elapsed(), error });
    const system = this.deps.config().systems.get(systemId);
    const source = system ? this.sources.get(system) : undefined;
    if (!system || !source || !source.lookup.kinds.includes(kind)) return fail('error', `${systemId} no longer answers look-ups of ${kind} (its configuration changed)`);

    // The look-up's own limit, or what is left of the query's deadline, whichever comes first.
    const own = AbortSignal.timeout(source.lookup.timeoutMs);
    const signal = AbortSignal.any([deadline, own]);
    const cutOff = new Promise<Outcome>((resolve) => {
      const settle = () =>
        resolve(
          deadline.aborted
            ? fail('timeout', `${systemId} did not answer within the query's deadline of ${deadlineMs} ms`)
            : fail('timeout', `${systemId} did not answer within ${source.lookup.timeoutMs} ms (lookup.timeoutMs)`),
        );
      if (signal.aborted) settle();
      else signal.addEventListener('abort', settle, { once: true });
    });
    const work = this.exchange(source, kind, query, queryId, signal, fail, origin).then((o) => ({ ...o, ms: elapsed() }));
    // A late answer settles `work` after `cutOff` has won: ignored, and its rejection swallowed.
    work.catch(() => undefined);
    return Promise.race([work, cutOff]);
  }

  private async exchange(source: LookupSource, kind: string, query: SharedDataQuery, queryId: string, signal: AbortSignal, fail: (status: 'error', error: string) => Outcome, origin: Asker): Promise<Outcome> {
    const { system, lookup } = source;
    const secrets = secretsOf(system.auth);
    const masked = (text: string) => maskPersonalData(text, secrets).slice(0, 300);
    try {
      // An open circuit (deliveries keep failing) answers at once instead of making the clerk wait.
      const circuit = await this.deps.circuits.view(system.id);
      if (circuit.state === 'open' && circuit.openUntil && Date.parse(circuit.openUntil) > Date.now()) {
        return fail('error', `${system.id} is failing (circuit open until ${circuit.openUntil}); not asked`);
      }
      const rate = lookup.rateLimit ?? system.rateLimit;
      const used = Number(await this.scripts.run('rate', [`${this.deps.prefix}:shared-data:rate:${system.id}`], [rate.perMs]));
      if (used > rate.max) return fail('error', `${system.id} rate limit reached (${rate.max} look-ups per ${rate.perMs} ms); not asked`);

      const input = { idNumber: query.idNumber, name: query.name, purpose: query.purpose, caseId: query.caseId, kind };
      const body = await source.request.evaluate(input);
      if (body === undefined) return fail('error', `${system.id}: lookup.request produced nothing`);
      const reply = await source.adapter.send(body, {
        caseId: query.caseId,
        systemId: system.id,
        idempotencyKey: `${queryId}:${system.id}:${kind}`,
        log: origin.log.child({ queryId, caseId: query.caseId, systemId: system.id, kind }),
        ...(origin.requestId ? { requestId: origin.requestId } : {}),
        ...(system.protocol === 'soap' ? { operation: lookup.operation } : { target: { endpoint: lookup.endpoint!, method: 'POST' as const } }),
        signal,
      });
      if ((await source.found.evaluate(reply)) === true) {
        const data = plainObject(await source.data.evaluate(reply));
        if (!data) return fail('error', `${system.id}: lookup.response.data did not make an object of the reply`);
        return { kind, source: system.id, status: 'found', ms: 0, data };
      }
      const said = scalarText(source.error ? await source.error.evaluate(reply) : undefined);
      // With notFound configured, only it says "no record"; without, any answer that is not found is.
      const notFound = source.notFound ? (await source.notFound.evaluate(reply)) === true : said === undefined;
      if (notFound) return { kind, source: system.id, status: 'not_found', ms: 0 };
      return fail('error', masked(`${system.id} answered neither found nor not found${said ? `: ${said}` : ''}`));
    } catch (err) {
      return fail('error', masked(errorMessage(err).split('\n')[0] ?? 'failed'));
    }
  }

  /**
   * The look-ups, newest first, filtered; the ID number masked, no hash. With a ledger: what was
   * drained there, and the tail still in the stream (read first, so a look-up the drain moves
   * meanwhile is in one or both, and listed once).
   */
  async lookups(filter: LookupFilter): Promise<LookupListing[]> {
    const personKey = filter.person ? await this.personKey(filter.person) : undefined;
    const limit = filter.limit ?? 200;
    const matches = (entry: AuditEntry): boolean => {
      const lookup = entry.lookup;
      if (!lookup) return false;
      if (filter.caseId && lookup.caseId !== filter.caseId) return false;
      if (filter.purpose && lookup.purpose !== filter.purpose) return false;
      if (personKey && lookup.personKey !== personKey) return false;
      const at = Date.parse(entry.at);
      if (filter.from && at < filter.from.getTime()) return false;
      if (filter.to && at > filter.to.getTime()) return false;
      return true;
    };
    const tail = await this.deps.operations.streamEntries('shared-data', { matches, limit });
    let records: LookupRecord[] = tail.map(({ id, entry }) => {
      const { personKey: _hidden, ...shown } = entry.lookup!;
      return { id, listing: { at: entry.at, who: entry.who, ...shown } };
    });
    if (this.deps.ledger) {
      let drained: LookupRecord[];
      try {
        drained = await this.deps.ledger.readLookups({ caseId: filter.caseId, purpose: filter.purpose, personKey, from: filter.from?.toISOString(), to: filter.to?.toISOString(), limit });
      } catch {
        throw new ApiError('unavailable', 'The case ledger, where look-ups are kept, does not answer right now; try again shortly.');
      }
      records = mergeNewestFirst(records, drained, limit);
    }
    return records.map((r) => r.listing);
  }

  async close(): Promise<void> {
    await this.sources.close();
  }
}
