/**
 * What ops staff can do to the delivery machinery: look at every system's queue and health, pause
 * and resume a system, change, roll back, reset and dry-run its configuration, and replay or
 * discard dead letters and unmatched results. Every action is audited with who did it and when.
 */
import type {
  AuditEntry,
  AuditPage,
  DeadLetter,
  DeadLetterPage,
  DryRunAnswer,
  SystemStatus,
  SystemVersion,
} from '../api-schemas';
import { PROBLEMS } from '../api-schemas';
import { createAdapter } from '../../adapters';
import type { Case } from '../cases/model';
import { SAMPLE_CASE } from '../config/sample-case';
import { exportConfig } from '../config/export';
import { ConfigInvalid, redact, SystemExists, VersionConflict, VersionMismatch, type LiveConfig, type PutOptions, type ReloadOutcome, type ShownItems, type ShownRoutes, type VersionInfo } from '../config/live';
import { SYSTEM_ID } from '../config/schema';
import { expressionBudget, type GatewayConfig } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import type { CaseStore } from '../cases/store';
import type { CircuitBreakers } from '../delivery/circuit';
import { adapterOptions, type Endpoints } from '../delivery/endpoints';
import type { SystemHealth } from '../delivery/health';
import { readProbe } from '../delivery/probe';
import { SystemMappings } from '../delivery/mapping';
import { caseIdOfJob, jobIdFor, type DeliveryQueues } from '../delivery/queues';
import { explainWaiting, type Waiting } from '../delivery/waiting';
import { windowView } from '../delivery/window';
import type { Role } from '../platform/auth';
import { ApiError, type ErrorDetail } from '../platform/errors';
import { errorMessage } from '../platform/failure';
import type { Logger } from '../platform/logger';
import { mergeNewestFirst, parseEntry, type StreamEntry } from '../ledger/audit';
import type { Ledger } from '../ledger/ledger';
import { maskDeep, maskPersonalData, redactUrl } from '../platform/privacy';
import { storableText } from '../platform/text';
import { deliverySeal, type Sealer } from '../seal';
import { materialsFor } from '../materials/handover';
import type { RedisClient } from '../platform/redis';
import { CHARSETS, charsetLabel } from '../platform/charset';
import iconv from 'iconv-lite';
import fs from 'node:fs';
import path from 'node:path';

// The shapes ops are answered with are the zod schemas docs/openapi.yaml is generated from.
export type { AuditEntry, DeadLetter, SystemStatus, SystemVersion };

/** Which audit trail: ops actions, or shared-data look-ups. */
export type AuditTrail = 'ops' | 'shared-data';

/**
 * Shared-data look-ups have a trail of their own: a busy window makes thousands a day, which would
 * push ops actions out of the capped main trail. With a ledger, both streams are only a buffer the
 * sweep drains (src/ledger/audit.ts).
 */
export function auditStreamKey(prefix: string, trail: AuditTrail): string {
  return trail === 'ops' ? `${prefix}:audit:log` : `${prefix}:audit:shared-data`;
}

/**
 * How many entries a stream keeps (MAXLEN ~). Without a ledger the stream is the trail, capped so
 * Redis memory stays bounded. With one it is a buffer the sweep empties every tick: the cap only
 * matters when the ledger is away, and is set to hold days of a busy city's entries (about 300 bytes
 * each), so an outage loses nothing short of that.
 */
function streamCap(trail: AuditTrail, ledger: boolean): string {
  if (ledger) return '500000';
  return trail === 'ops' ? '10000' : '50000';
}

export interface Operator {
  /** Who acted, for the audit trail: the X-OW-Operator header, with the token's fingerprint. */
  who: string;
  role?: Role;
}

export interface OperationsDeps {
  config: () => GatewayConfig;
  live: LiveConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  circuits: CircuitBreakers;
  redis: RedisClient;
  prefix: string;
  /** The adapters in use, for dry runs of the current configuration. */
  endpoints?: Endpoints;
  health?: SystemHealth;
  /** Seals deliveries, so a dry run shows the `X-OW-Seal` a system would receive. */
  sealer?: Sealer;
  log?: Logger;
  now?: () => Date;
  /** The case ledger: where the audit trail is drained to and read from. */
  ledger?: Ledger;
}

export function deadLetterId(systemId: string, caseId: string): string {
  return `${systemId}.${caseId}`;
}

function parseDeadLetterId(id: string): { systemId: string; caseId: string } {
  const dot = id.indexOf('.');
  if (dot <= 0) throw new ApiError('not_found', `No dead letter ${id}.`);
  return { systemId: id.slice(0, dot), caseId: id.slice(dot + 1) };
}

/** Opaque page cursors: what the last item of a page was, base64url so it travels in a query. */
function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // answered below
  }
  throw new ApiError('invalid_request', undefined, [{ path: 'cursor', message: 'not the `next` of an earlier page' }]);
}

/** The paths at which two JSON values differ (never their values: they may be ID numbers). */
export function changedPaths(before: unknown, after: unknown, at = ''): string[] {
  if (before === after) return [];
  const bothObjects = before && after && typeof before === 'object' && typeof after === 'object' && Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) return [at || '(case)'];
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return [at || '(case)'];
    return before.flatMap((v, i) => changedPaths(v, after[i], `${at}[${i}]`));
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])].sort().flatMap((k) => changedPaths(b[k], a[k], at ? `${at}.${k}` : k));
}

/** Whether a PUT body is the GET answer as it is (`{id, version, source, system}`) rather than the file. */
function systemOfBody(systemId: string, body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('invalid_config', 'The body must be the system file as a JSON object, or the GET answer as it is.');
  const b = body as Record<string, unknown>;
  if (!('protocol' in b) && b.system && typeof b.system === 'object' && !Array.isArray(b.system)) {
    if (b.id !== undefined && b.id !== systemId) throw new ApiError('invalid_config', undefined, [{ path: 'id', message: `must be ${systemId}` }]);
    return b.system as Record<string, unknown>;
  }
  return b;
}

/** A configuration store's refusal as the API answers it; `invalid` words an invalid document's answer. */
function configError(err: unknown, invalid?: string): never {
  if (err instanceof ConfigInvalid) throw new ApiError('invalid_config', invalid, err.issues.map((i): ErrorDetail => ({ path: i.path || '(body)', message: i.message })));
  if (err instanceof VersionMismatch || err instanceof SystemExists) throw new ApiError('version_mismatch', err.message);
  if (err instanceof VersionConflict) throw new ApiError('version_conflict', err.message);
  throw err;
}

/** A configuration folder that would not start: each problem with its file and key, nothing changed. */
function folderError(err: unknown): never {
  if (err instanceof ConfigInvalid) {
    throw new ApiError('invalid_config', 'The configuration folder does not load as at start-up; nothing was changed.', err.issues.map((i): ErrorDetail => ({ path: i.path ? `${i.file} at ${i.path}` : i.file, message: i.message })));
  }
  throw err;
}

/** An items PUT body: items.yaml as JSON, or the GET answer as it is (its version and source are the GET's, not the file's). */
function itemsOfBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('invalid_config', 'The body must be items.yaml as a JSON object ({items}), or the GET answer as it is.');
  const { version: _version, source: _source, ...items } = body as Record<string, unknown>;
  return items;
}

/** Whether a routes PUT body is the GET answer as it is (`{version, source, routes, unrouted}`): its version and source are the GET's, not the file's. */
function routesOfBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('invalid_config', 'The body must be routes.yaml as a JSON object ({routes, unrouted}), or the GET answer as it is.');
  const { version: _version, source: _source, ...routes } = body as Record<string, unknown>;
  return routes;
}

interface AuditQuery {
  action?: string;
  who?: string;
  caseId?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** Most entries one page of the trail looks through (a filter that matches little stops there). */
const AUDIT_SCAN = 50_000;

/** Failed jobs read from a system's failed set at a time, while a page of dead letters fills. */
const DEAD_LETTER_BATCH = 200;

export class Operations {
  private auditMigrated?: Promise<void>;

  constructor(private readonly deps: OperationsDeps) {}

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private system(systemId: string) {
    const system = this.deps.config().systems.get(systemId);
    if (!system) throw new ApiError('unknown_system', `No legacy system "${systemId}" is configured.`);
    return system;
  }

  /** The versions of a system that runs, or ran and was removed (its history is kept); else unknown_system. */
  private async versionsOf(systemId: string): Promise<VersionInfo[]> {
    // Read from Redis, not this process's view: a system added and removed elsewhere a moment ago has a history too.
    const history = await this.deps.live.history(systemId);
    if (history.length === 0) throw new ApiError('unknown_system', `No legacy system "${systemId}" is configured.`);
    return history;
  }

  // ── the audit trail: a stream, newest read first, paged by entry id ─────────────────────────────

  private auditKey(trail: AuditTrail): string {
    return auditStreamKey(this.deps.prefix, trail);
  }

  /**
   * The trail used to be a list at `<prefix>:audit`; its entries move into the stream once, oldest
   * first. RENAME first, so that of several processes starting together only one moves them.
   */
  private migrateAudit(): Promise<void> {
    return (this.auditMigrated ??= (async () => {
      const legacy = `${this.deps.prefix}:audit`;
      if ((await this.deps.redis.type(legacy)) !== 'list') return;
      // Tagged with the old key's name: RENAME needs both in one slot on a Cluster.
      const moving = `{${legacy}}:moving:${process.pid}:${Date.now()}`;
      try {
        await this.deps.redis.rename(legacy, moving);
      } catch {
        return; // another process took it
      }
      const entries = await this.deps.redis.lrange(moving, 0, -1);
      for (const entry of entries.reverse()) await this.deps.redis.xadd(this.auditKey('ops'), 'MAXLEN', '~', streamCap('ops', Boolean(this.deps.ledger)), '*', 'entry', entry);
      await this.deps.redis.del(moving);
    })().catch((err: unknown) => {
      this.auditMigrated = undefined;
      throw err;
    }));
  }

  async audit(entry: Omit<AuditEntry, 'at'>, trail: AuditTrail = 'ops'): Promise<void> {
    if (trail === 'ops') await this.migrateAudit();
    const full: AuditEntry = { at: this.now(), ...entry };
    // Details may quote what a legacy source said: the ledger must be able to keep every entry.
    const json = JSON.stringify(full, (_key, value: unknown) => (typeof value === 'string' ? storableText(value) : value));
    await this.deps.redis.xadd(this.auditKey(trail), 'MAXLEN', '~', streamCap(trail, Boolean(this.deps.ledger)), '*', 'entry', json);
  }

  /**
   * Newest first, filtered; `next` is the stream id of the last entry answered. With a ledger, the
   * drained trail comes from there and the tail not drained yet from the stream, merged, so an entry
   * is listed the moment it is written and after Redis has let it go alike.
   */
  async auditTrail(query: AuditQuery = {}, trail: AuditTrail = 'ops'): Promise<AuditPage> {
    if (trail === 'ops') await this.migrateAudit();
    const limit = query.limit ?? 100;
    if (query.cursor && !/^\d+-\d+$/.test(query.cursor)) throw new ApiError('invalid_request', undefined, [{ path: 'cursor', message: 'not the `next` of an earlier page' }]);
    const matches = (e: AuditEntry) =>
      (!query.action || e.action === query.action) &&
      (!query.who || e.who.includes(query.who)) &&
      (!query.caseId || e.target === query.caseId || e.target.endsWith(`.${query.caseId}`)) &&
      (!query.from || Date.parse(e.at) >= Date.parse(query.from)) &&
      (!query.to || Date.parse(e.at) <= Date.parse(query.to));
    // The stream first, then the ledger: an entry the drain moves in between is then in both, never in neither.
    let items = await this.streamEntries(trail, { before: query.cursor, matches, limit: limit + 1 });
    if (this.deps.ledger && trail === 'ops') {
      let drained: StreamEntry[];
      try {
        drained = await this.deps.ledger.readAudit({ action: query.action, who: query.who, caseId: query.caseId, from: query.from, to: query.to, before: query.cursor, limit: limit + 1 });
      } catch {
        throw new ApiError('unavailable', 'The case ledger, where the audit trail is kept, does not answer right now; try again shortly.');
      }
      items = mergeNewestFirst(items, drained, limit + 1);
    }
    const page = items.slice(0, limit);
    return { items: page.map((i) => i.entry), ...(items.length > limit ? { next: page.at(-1)!.id } : {}) };
  }

  /**
   * What is still in a trail's stream, newest first, older than `before`, with the stream ids: up to
   * `limit` matching entries, looking through at most AUDIT_SCAN.
   */
  async streamEntries(trail: AuditTrail, options: { before?: string; matches?: (e: AuditEntry) => boolean; limit: number }): Promise<StreamEntry[]> {
    const items: StreamEntry[] = [];
    let end = options.before ? `(${options.before}` : '+';
    let scanned = 0;
    while (items.length < options.limit && scanned < AUDIT_SCAN) {
      const batch = await this.deps.redis.xrevrange(this.auditKey(trail), end, '-', 'COUNT', 200);
      if (batch.length === 0) break;
      scanned += batch.length;
      for (const [id, fields] of batch) {
        const entry = parseEntry(id, fields);
        if (!options.matches || options.matches(entry)) items.push({ id, entry });
        if (items.length >= options.limit) break;
      }
      end = `(${batch.at(-1)![0]}`;
    }
    return items;
  }

  // ── systems ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Every system with what ops need to see first, problem systems first: a few Redis commands per
   * system (counts, paused, circuit, health, the oldest waiting job, apply errors), never per case.
   */
  async systems(): Promise<SystemStatus[]> {
    const now = this.deps.now?.() ?? new Date();
    const list = await Promise.all([...this.deps.config().systems.values()].map((s) => this.status(s, now)));
    const rank = (s: SystemStatus) => (s.problems.length ? PROBLEMS.indexOf(s.problems[0]!) : PROBLEMS.length);
    // Array.prototype.sort is stable: systems of one rank keep the configuration's order.
    return list.sort((a, b) => rank(a) - rank(b));
  }

  private async status(s: SystemConfig, now: Date): Promise<SystemStatus> {
    const queue = this.deps.queues.queue(s.id);
    const [paused, counts, circuit, health, oldest, applyErrors, probe] = await Promise.all([
      queue.isPaused(),
      queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
      this.deps.circuits.view(s.id),
      this.deps.health?.view(s.id) ?? Promise.resolve({ lastSuccessAt: undefined, lastError: undefined, failingSince: undefined }),
      // The head of each waiting state; for delayed jobs the one due first, which is near enough the oldest.
      queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, 0, true),
      this.deps.live.applyErrors(s.id),
      s.health ? readProbe(this.deps.redis, this.deps.prefix, s.id) : Promise.resolve(undefined),
    ]);
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    const window = windowView(s.window, now);
    const shown = this.deps.live.show(s.id);
    const version = this.deps.live.version(s.id);
    const oldestAt = oldest.filter(Boolean).map((j) => j.timestamp).filter((t) => Number.isFinite(t));
    const problems: SystemStatus['problems'] = [];
    if (circuit.state !== 'closed') problems.push('circuit_open');
    if (probe && !probe.ok) problems.push('unreachable');
    if (paused) problems.push('paused');
    if (!window.open && waiting + (counts.delayed ?? 0) > 0) problems.push('window_closed');
    if (health.failingSince) problems.push('failing');
    if ((counts.failed ?? 0) > 0) problems.push('dead_letters');
    if (applyErrors.length) problems.push('apply_error');
    return {
      id: s.id,
      name: s.name,
      level: s.level,
      protocol: s.protocol,
      paused,
      circuit,
      window,
      queue: { waiting, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
      deadLetters: counts.failed ?? 0,
      ...(health.lastSuccessAt ? { lastSuccessAt: health.lastSuccessAt } : {}),
      ...(health.lastError ? { lastError: health.lastError } : {}),
      ...(health.failingSince ? { failingSince: health.failingSince } : {}),
      ...(oldestAt.length ? { oldestWaitingAt: new Date(Math.min(...oldestAt)).toISOString() } : {}),
      ...(probe ? { probe } : {}),
      problems,
      version,
      source: shown?.source ?? 'file',
      ...(applyErrors.length ? { applyErrors } : {}),
    };
  }

  /** Why a queued delivery waits and until when (the case view's `waitingFor`, `nextAttemptAt`). */
  async waiting(caseId: string, systemId: string): Promise<Waiting> {
    return explainWaiting({ config: this.deps.config, queues: this.deps.queues, circuits: this.deps.circuits, redis: this.deps.redis, now: this.deps.now }, caseId, systemId);
  }

  /** A paused system keeps queueing deliveries and sends nothing, in every gateway process. */
  async setPaused(systemId: string, paused: boolean, by: Operator, reason?: string): Promise<SystemStatus> {
    const system = this.system(systemId);
    const queue = this.deps.queues.queue(systemId);
    await (paused ? queue.pause() : queue.resume());
    await this.audit({ who: by.who, role: by.role, action: paused ? 'system.pause' : 'system.resume', target: systemId, reason });
    return this.status(system, this.deps.now?.() ?? new Date());
  }

  // ── configuration ───────────────────────────────────────────────────────────────────────────────

  showSystem(systemId: string): SystemVersion {
    this.system(systemId);
    const shown = this.deps.live.show(systemId)!;
    return { id: systemId, ...shown };
  }

  private async store(systemId: string, raw: Record<string, unknown>, by: Operator, options: PutOptions, action: AuditEntry['action']): Promise<SystemVersion & { created: boolean }> {
    try {
      const stored = await this.deps.live.put(systemId, raw, by.who, options);
      await this.audit({ who: by.who, role: by.role, action: stored.created ? 'system.create' : action, target: systemId, reason: options.reason, detail: `version ${stored.version}` });
      return { id: systemId, ...stored };
    } catch (err) {
      configError(err);
    }
  }

  /**
   * Stores a new version of a system's configuration, or adds the system when none of that id runs
   * (`created`: answered 201); every gateway process uses it within seconds. `create` (If-None-Match: *)
   * refuses to replace a system that exists.
   */
  async putSystem(systemId: string, body: unknown, by: Operator, expected?: number, create = false): Promise<SystemVersion & { created: boolean }> {
    // An id is a file name, a queue name and a Redis key part: the rule of the files holds here too.
    if (!SYSTEM_ID.test(systemId)) throw new ApiError('invalid_config', undefined, [{ path: 'id', message: 'lower-case letters, digits and dashes' }]);
    return this.store(systemId, systemOfBody(systemId, body), by, { expected, create }, 'system.configure');
  }

  /**
   * Removes a system: refused (system_busy, with each reason) while deliveries to it are waiting,
   * delayed or active, it has dead letters, a route or a shared-data source names it, or its file is
   * in the configuration folder (a reload would add it again). Else a version records the removal,
   * every process stops its worker within seconds, and it is audited. Its history is kept.
   */
  async removeSystem(systemId: string, by: Operator, expected?: number, reason?: string): Promise<{ id: string; version: number; removed: true }> {
    // What holds the system is judged on what every process is moving to (a route stored a moment
    // ago through another process included), not on this process's last look.
    await this.deps.live.refresh();
    this.system(systemId);
    const counts = await this.deps.queues.queue(systemId).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'failed');
    const inFlight = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0) + (counts.active ?? 0) + (counts['waiting-children'] ?? 0);
    const deadLetters = counts.failed ?? 0;
    const config = this.deps.config();
    const holds: ErrorDetail[] = [
      ...this.deps.live.routesNaming(systemId).map((at) => ({ path: `routes.yaml at ${at}`, message: `names system "${systemId}"` })),
      ...Object.entries(config.sharedData.documents).flatMap(([kind, d]) =>
        d.sources.flatMap((source, i) => (source === systemId ? [{ path: `shared-data.yaml at documents.${kind}.sources[${i}]`, message: `names system "${systemId}"` }] : [])),
      ),
      ...['yaml', 'yml'].flatMap((ext) => {
        const file = `systems/${systemId}.${ext}`;
        return fs.existsSync(path.join(config.dir, file)) ? [{ path: file, message: 'the file is still in the configuration folder: remove it first (a reload would add the system again)' }] : [];
      }),
    ];
    if (inFlight > 0 || deadLetters > 0 || holds.length > 0) {
      const reasons = [inFlight > 0 ? `${inFlight} deliveries in flight` : '', deadLetters > 0 ? `${deadLetters} dead letters` : '', holds.length > 0 ? 'the configuration names it' : ''].filter(Boolean);
      throw new ApiError('system_busy', `System ${systemId} cannot be removed: ${reasons.join(', ')}. Nothing was changed.`, [
        { path: 'inFlight', message: `${inFlight} deliveries waiting, delayed or active` },
        { path: 'deadLetters', message: `${deadLetters} dead letters` },
        ...holds,
      ]);
    }
    try {
      const { version } = await this.deps.live.remove(systemId, by.who, { expected, reason });
      await this.audit({ who: by.who, role: by.role, action: 'system.remove', target: systemId, reason, detail: `version ${version}` });
      return { id: systemId, version, removed: true };
    } catch (err) {
      configError(err);
    }
  }

  /**
   * Reads OW_CONFIG_DIR now, checked as at start-up (any problem: invalid_config listing every one,
   * nothing changed): new system files add systems, changed ones become new versions, routes.yaml too.
   */
  async reload(by: Operator, reason?: string): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      outcome = await this.deps.live.reload(by.who, reason);
    } catch (err) {
      if (err instanceof ConfigInvalid) folderError(err);
      configError(err);
    }
    const said = [
      outcome.added.length ? `added ${outcome.added.join(', ')}` : '',
      outcome.changed.length ? `changed ${outcome.changed.join(', ')}` : '',
      outcome.routes.changed ? `routes version ${outcome.routes.version}` : '',
      outcome.items.changed ? `items version ${outcome.items.version}` : '',
      outcome.calendar.changed ? `calendar version ${outcome.calendar.version}` : '',
      outcome.missingOnDisk.length ? `without a file: ${outcome.missingOnDisk.join(', ')}` : '',
    ].filter(Boolean);
    await this.audit({ who: by.who, role: by.role, action: 'config.reload', target: 'config', reason, detail: said.length ? said.join('; ') : 'nothing changed' });
    return outcome;
  }

  /** A system's versions, newest first; a removed system's too (the removal is its latest). */
  history(systemId: string): Promise<VersionInfo[]> {
    return this.versionsOf(systemId);
  }

  async historyVersion(systemId: string, version: number): Promise<VersionInfo & { id: string; system: Record<string, unknown> }> {
    await this.versionsOf(systemId);
    const found = Number.isInteger(version) && version > 0 ? await this.deps.live.versionContent(systemId, version) : undefined;
    if (!found) throw new ApiError('not_found', `System ${systemId} has no version ${version}.`);
    if (found.removed) throw new ApiError('not_found', `Version ${version} of system ${systemId} removed it; it has no content.`);
    return { id: systemId, ...found.info, system: redact(found.raw) };
  }

  /** Stores an earlier version's content as a new version (history stays linear: nothing is undone in place). */
  async rollback(systemId: string, version: number, by: Operator, expected?: number, reason?: string): Promise<SystemVersion> {
    this.system(systemId);
    const found = await this.deps.live.versionContent(systemId, version);
    if (!found) throw new ApiError('not_found', `System ${systemId} has no version ${version}.`);
    if (found.removed) throw new ApiError('not_found', `Version ${version} of system ${systemId} removed it; it has no content.`);
    return this.store(systemId, found.raw, by, { expected, reason, source: found.info.source, summary: `rollback to version ${version}` }, 'system.rollback');
  }

  // ── the routing table ───────────────────────────────────────────────────────────────────────────

  showRoutes(): ShownRoutes {
    return this.deps.live.showRoutes();
  }

  private async storeRoutes(raw: Record<string, unknown>, by: Operator, options: PutOptions, action: AuditEntry['action']): Promise<ShownRoutes> {
    // Checked against the systems every process is moving to (one removed a moment ago elsewhere included).
    await this.deps.live.refresh();
    try {
      const stored = await this.deps.live.putRoutes(raw, by.who, options);
      await this.audit({ who: by.who, role: by.role, action, target: 'routes', reason: options.reason, detail: `version ${stored.version}` });
      return stored;
    } catch (err) {
      configError(err, 'The routes are not valid; nothing was stored.');
    }
  }

  /** Stores a new version of the routing table (If-Match required: it is one document everyone edits). */
  putRoutes(body: unknown, by: Operator, expected: number, reason?: string): Promise<ShownRoutes> {
    return this.storeRoutes(routesOfBody(body), by, { expected, reason }, 'routes.configure');
  }

  async routesHistory(): Promise<VersionInfo[]> {
    return this.deps.live.routesHistory();
  }

  async routesVersion(version: number): Promise<VersionInfo & { routes: unknown[]; unrouted?: unknown }> {
    const found = Number.isInteger(version) && version > 0 ? await this.deps.live.routesVersionContent(version) : undefined;
    if (!found) throw new ApiError('not_found', `The routes have no version ${version}.`);
    return { ...found.info, ...(found.raw as { routes: unknown[] }) };
  }

  async rollbackRoutes(version: number, by: Operator, expected: number, reason?: string): Promise<ShownRoutes> {
    const found = await this.deps.live.routesVersionContent(version);
    if (!found) throw new ApiError('not_found', `The routes have no version ${version}.`);
    return this.storeRoutes(found.raw, by, { expected, reason, source: found.info.source, summary: `rollback to version ${version}` }, 'routes.rollback');
  }

  // ── the item catalogue ──────────────────────────────────────────────────────────────────────────

  showItems(): ShownItems {
    return this.deps.live.showItems();
  }

  private async storeItems(raw: Record<string, unknown>, by: Operator, options: PutOptions, action: AuditEntry['action']): Promise<ShownItems> {
    try {
      const stored = await this.deps.live.putItems(raw, by.who, options);
      await this.audit({ who: by.who, role: by.role, action, target: 'items', reason: options.reason, detail: `version ${stored.version}` });
      return stored;
    } catch (err) {
      configError(err, 'The item catalogue is not valid; nothing was stored.');
    }
  }

  /** Stores a new version of the item catalogue (If-Match required: it is one document everyone edits). */
  putItems(body: unknown, by: Operator, expected: number, reason?: string): Promise<ShownItems> {
    return this.storeItems(itemsOfBody(body), by, { expected, reason }, 'items.configure');
  }

  itemsHistory(): Promise<VersionInfo[]> {
    return this.deps.live.itemsHistory();
  }

  async itemsVersion(version: number): Promise<VersionInfo & { items: unknown[] }> {
    const found = Number.isInteger(version) && version > 0 ? await this.deps.live.itemsVersionContent(version) : undefined;
    if (!found) throw new ApiError('not_found', `The item catalogue has no version ${version}.`);
    return { ...found.info, items: (found.raw.items as unknown[] | undefined) ?? [] };
  }

  async rollbackItems(version: number, by: Operator, expected: number, reason?: string): Promise<ShownItems> {
    const found = await this.deps.live.itemsVersionContent(version);
    if (!found) throw new ApiError('not_found', `The item catalogue has no version ${version}.`);
    return this.storeItems(found.raw, by, { expected, reason, source: found.info.source, summary: `rollback to version ${version}` }, 'items.rollback');
  }

  /**
   * Back to the file in OW_CONFIG_DIR as it is now (read and checked as at start-up), as a new version
   * (`source: file`); a folder that would not start is refused with each problem's file and key.
   */
  async reset(systemId: string, by: Operator, expected?: number, reason?: string): Promise<SystemVersion> {
    this.system(systemId);
    const file = await this.deps.live.fileNow(systemId).catch(folderError);
    if (!file) throw new ApiError('unknown_system', `System ${systemId} has no configuration file.`);
    return this.store(systemId, file, by, { expected, reason, source: 'file', summary: 'reset to the file', readFromFile: true }, 'system.reset');
  }

  /** The running configuration as files ready to commit, secrets as `${VAR}` references. */
  exportConfig(): { files: Record<string, string> } {
    const systems = new Map([...this.deps.config().systems.keys()].map((id) => [id, this.deps.live.rawContent(id) ?? {}]));
    return { files: exportConfig(this.deps.config().dir, systems, this.deps.live.routesContent(), this.deps.config().itemsSource) };
  }

  /**
   * What would be sent to a system for a case, with the configuration in use or a proposed one
   * (validated as a PUT is, not stored), and what `response.*` makes of a sample reply. The
   * adapter frames the request; nothing is sent. Below admin the case is masked before it is
   * mapped (no expression can take a number apart), the seal shown is an unsigned preview, and
   * every dry run is audited: it can show a stored case and what would vouch for it.
   */
  async dryRun(systemId: string, input: { caseId?: string; case?: Case; system?: unknown; reply?: unknown }, by: Operator): Promise<DryRunAnswer> {
    this.system(systemId);
    let subject: Case;
    let caseSource: DryRunAnswer['caseSource'];
    /** What was fetched for a stored case's materials (a given or sample case has had nothing fetched). */
    let fetched: Awaited<ReturnType<CaseStore['materialsOf']>> | undefined;
    if (input.caseId) {
      const record = await this.deps.store.getCase(input.caseId);
      if (!record) throw new ApiError('unknown_case', `No stored case ${input.caseId} (it may have been archived).`);
      subject = record.case;
      caseSource = 'stored';
      fetched = await this.deps.store.materialsOf(record.case.caseId, record.case);
    } else if (input.case) {
      subject = input.case;
      caseSource = 'given';
    } else {
      subject = SAMPLE_CASE;
      caseSource = 'sample';
    }
    // The case id stays: it names the case, and is the idempotency key's half.
    if (by.role !== 'admin') subject = { ...maskDeep(subject), caseId: subject.caseId };
    const proposed = input.system !== undefined;
    await this.audit({
      who: by.who,
      role: by.role,
      action: 'system.dry_run',
      target: `${systemId}.${subject.caseId}`, // found by the trail's caseId filter, as a dead letter is
      detail: `case ${subject.caseId} (${caseSource}${by.role === 'admin' ? '' : ', masked'}), ${proposed ? 'a proposed configuration' : `version ${this.deps.live.version(systemId)}`}`,
    });
    let system: SystemConfig;
    try {
      system = proposed ? await this.deps.live.check(systemId, systemOfBody(systemId, input.system)) : this.system(systemId);
    } catch (err) {
      configError(err);
    }
    const gateway = this.deps.config().gateway;
    const current = !proposed ? this.deps.endpoints?.get(system) : undefined;
    const mappings = current?.mappings ?? new SystemMappings(system, expressionBudget(gateway));
    const adapter = current?.adapter ?? createAdapter(system, adapterOptions(this.deps.config()));
    try {
      const body = await mappings.requestBody(subject).catch((err: unknown) => {
        throw new ApiError('invalid_config', undefined, [{ path: 'request.body', message: errorMessage(err) }]);
      });
      const log = this.deps.log ?? silentLog;
      const seal = this.deps.sealer && system.seal !== false ? deliverySeal(this.deps.sealer, systemId, subject, { preview: true }) : undefined;
      const framed = await adapter.preview(body, { caseId: subject.caseId, systemId, idempotencyKey: `${subject.caseId}:${systemId}`, log, seal }).catch((err: unknown) => {
        if (err instanceof ApiError) throw err;
        throw new ApiError('invalid_config', undefined, [{ path: '(request)', message: errorMessage(err) }]);
      });
      const reply = input.reply === undefined ? undefined : await mappings.acknowledgement(input.reply).catch((err: unknown) => {
        throw new ApiError('invalid_request', undefined, [{ path: 'reply', message: errorMessage(err) }]);
      });
      return {
        systemId,
        ...(proposed ? {} : { version: this.deps.live.version(systemId) }),
        proposed,
        caseId: subject.caseId,
        caseSource,
        request: {
          endpoint: redactUrl(framed.endpoint),
          method: framed.method,
          headers: framed.headers,
          charset: framed.charset,
          // The exact bytes decoded in their charset; ID and phone numbers masked, as everywhere ops look.
          body: maskPersonalData(decodeAs(framed.body, framed.charset)),
          byteLength: framed.body.length,
        },
        ...(reply ? { reply: { success: reply.success, ...(reply.receiptNo ? { receiptNo: reply.receiptNo } : {}), ...(reply.error ? { error: reply.error } : {}), retryable: reply.retryable } } : {}),
        ...(subject.materials.length > 0 ? { materials: dryRunMaterials(system, subject, fetched) } : {}),
        ...(seal ? { sealPreview: "X-OW-Seal is a preview of the seal this delivery would carry: it is not signed, and verifying it answers valid: false (a dry run's seal is never valid). A delivery's seal is signed over the bytes it sends." } : {}),
        sent: false,
      };
    } finally {
      if (!current) await adapter.close?.();
    }
  }

  // ── dead letters ────────────────────────────────────────────────────────────────────────────────

  /**
   * One system's dead letters after `after` (failedAt, id), oldest first, at most `want`: read from
   * its failed set (scored by when each failed) a batch at a time, so a page costs a page, not every
   * failed job there is.
   */
  private async deadLettersOf(systemId: string, filter: { error?: string }, after: [string, string] | undefined, want: number): Promise<DeadLetter[]> {
    const queue = this.deps.queues.queue(systemId);
    const letters: DeadLetter[] = [];
    const from = after ? Date.parse(after[0]) : '-inf';
    for (let offset = 0; letters.length < want; offset += DEAD_LETTER_BATCH) {
      const batch = await this.deps.redis.zrangebyscore(queue.keys.failed, from, '+inf', 'WITHSCORES', 'LIMIT', offset, DEAD_LETTER_BATCH);
      for (let i = 0; i < batch.length && letters.length < want; i += 2) {
        const caseId = caseIdOfJob(batch[i]!);
        const letter = { id: deadLetterId(systemId, caseId), failedAt: new Date(Number(batch[i + 1])).toISOString() };
        if (after && (letter.failedAt < after[0] || (letter.failedAt === after[0] && letter.id <= after[1]))) continue;
        const delivery = await this.deps.store.delivery(caseId, systemId);
        if (!delivery || delivery.status !== 'dead') continue;
        const lastError = delivery.lastError ?? '';
        if (filter.error && !lastError.toLowerCase().includes(filter.error.toLowerCase())) continue;
        letters.push({ ...letter, caseId, systemId, attempts: delivery.attempts, lastError });
      }
      if (batch.length < 2 * DEAD_LETTER_BATCH) break;
    }
    return letters;
  }

  /** Every system's (or one system's) dead letters after `after`, oldest first, at most `want`. */
  private async deadLettersAfter(filter: { systemId?: string; error?: string }, after: [string, string] | undefined, want: number): Promise<DeadLetter[]> {
    const systems = [...this.deps.config().systems.keys()].filter((id) => !filter.systemId || id === filter.systemId);
    const letters: DeadLetter[] = [];
    for (const systemId of systems) letters.push(...(await this.deadLettersOf(systemId, filter, after, want)));
    return letters.sort((a, b) => a.failedAt.localeCompare(b.failedAt) || a.id.localeCompare(b.id)).slice(0, want);
  }

  /** A page of dead letters, oldest first; the cursor is the last one answered (when, which). */
  async deadLetters(filter: { systemId?: string; error?: string; cursor?: string; limit?: number } = {}): Promise<DeadLetterPage> {
    const after = filter.cursor ? decodeCursor(filter.cursor, (v): v is [string, string] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) : undefined;
    const limit = filter.limit ?? 100;
    const found = await this.deadLettersAfter(filter, after, limit + 1);
    const items = found.slice(0, limit);
    return { items, ...(found.length > limit ? { next: encodeCursor([items.at(-1)!.failedAt, items.at(-1)!.id]) } : {}) };
  }

  private async deadLetter(id: string) {
    const { systemId, caseId } = parseDeadLetterId(id);
    const system = this.system(systemId);
    const job = await this.deps.queues.queue(systemId).getJob(jobIdFor(caseId));
    const status = await this.deps.store.deliveryStatus(caseId, systemId);
    if (status !== 'dead') throw new ApiError('not_found', `No dead letter ${id}.`);
    return { system, systemId, caseId, job };
  }

  /** The stored case of a dead letter, for an admin to correct before replaying it. */
  async deadLetterCase(id: string): Promise<{ id: string; caseId: string; systemId: string; case: Case }> {
    const { systemId, caseId } = await this.deadLetter(id);
    const record = await this.deps.store.getCase(caseId);
    if (!record) throw new ApiError('not_found', `The case of dead letter ${id} is no longer stored.`);
    return { id, caseId, systemId, case: record.case };
  }

  /**
   * Queues a dead delivery again, with fresh attempts and the same idempotency key; with `corrected`
   * (admins only), the stored case is replaced first: same caseId, audited with the changed paths.
   * `requestId`, the ops request's, goes with a job queued anew.
   */
  async replay(id: string, by: Operator, options: { reason?: string; corrected?: Case; requestId?: string } = {}): Promise<{ changed?: string[] }> {
    const { reason, corrected } = options;
    const { system, systemId, caseId, job } = await this.deadLetter(id);
    let changed: string[] | undefined;
    if (corrected) {
      if (corrected.caseId !== caseId) throw new ApiError('invalid_case', undefined, [{ path: 'case.caseId', message: `must stay ${caseId}` }]);
      const record = await this.deps.store.getCase(caseId);
      if (!record) throw new ApiError('not_found', `The case of dead letter ${id} is no longer stored.`);
      changed = changedPaths(record.case, corrected);
      if (changed.length) {
        await this.deps.store.replaceCase(caseId, corrected);
        const detail = `changed ${changed.join(', ')}`;
        await this.deps.store.note(caseId, systemId, { at: this.now(), event: 'case_corrected', detail: `by ${by.who}: ${detail}` });
        await this.audit({ who: by.who, role: by.role, action: 'dead_letter.correct', target: id, reason, detail });
      }
    }
    const detail = `replayed by ${by.who}${reason ? `: ${reason}` : ''}`;
    await this.deps.store.record(caseId, systemId, { status: 'queued', attempts: 0 }, { at: this.now(), event: 'replayed', detail });
    if (job && (await job.isFailed())) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    else await this.deps.queues.enqueue(system, caseId, options.requestId); // the failed job was already cleaned up
    await this.audit({ who: by.who, role: by.role, action: 'dead_letter.replay', target: id, reason });
    return changed ? { changed } : {};
  }

  /** Replays the dead letters a filter (or `all`) picks; `dryRun` only counts them. */
  async replayMany(filter: { systemId?: string; error?: string }, by: Operator, options: { reason?: string; dryRun?: boolean; requestId?: string } = {}): Promise<{ count: number; replayed?: string[] }> {
    if (filter.systemId) this.system(filter.systemId);
    const letters = await this.deadLettersAfter(filter, undefined, Number.POSITIVE_INFINITY);
    if (options.dryRun) return { count: letters.length };
    for (const letter of letters) await this.replay(letter.id, by, { reason: options.reason, ...(options.requestId ? { requestId: options.requestId } : {}) });
    return { count: letters.length, replayed: letters.map((l) => l.id) };
  }

  /** Gives up on a dead delivery for good; the delivery stays `dead` and the reason is kept. */
  async discard(id: string, by: Operator, reason: string): Promise<void> {
    const { systemId, caseId, job } = await this.deadLetter(id);
    await job?.remove();
    await this.deps.store.discard(caseId, systemId, { at: this.now(), event: 'discarded', detail: `discarded by ${by.who}: ${reason}` });
    await this.audit({ who: by.who, role: by.role, action: 'dead_letter.discard', target: id, reason });
  }

  /** Drops a parked unmatched result for good, with a reason. */
  async discardUnmatched(id: string, by: Operator, reason: string): Promise<void> {
    const parked = await this.deps.store.unmatched.get(id);
    if (!parked) throw new ApiError('not_found', `No unmatched result ${id}.`);
    await this.deps.store.unmatched.drop(parked);
    await this.audit({ who: by.who, role: by.role, action: 'unmatched.discard', target: id, reason, detail: parked.result.caseId ? `named case ${parked.result.caseId}` : undefined });
  }
}

/**
 * The materials a system takes from a case, as a dry run shows them: what each is (size and digest
 * as fetched, or as the case gave them), how it would be handed over, and whether a delivery has
 * fetched it yet. Nothing is fetched for it; neither bytes nor URIs are shown.
 */
function dryRunMaterials(system: SystemConfig, subject: Case, fetched: Awaited<ReturnType<CaseStore['materialsOf']>> | undefined): NonNullable<DryRunAnswer['materials']> {
  const mode = system.materials?.mode ?? 'reference';
  const handover = mode === 'reference' ? 'uri' : mode === 'inline' ? 'base64' : system.protocol === 'soap' ? 'mtom' : 'form-data';
  return materialsFor(system, subject).map((i) => {
    const m = subject.materials[i]!;
    const got = fetched?.[i]?.fetched ? fetched[i] : undefined;
    const size = got?.size ?? m.size;
    const sha256 = got?.sha256 ?? m.sha256?.toLowerCase();
    const mime = m.mime ?? got?.mime;
    return {
      kind: m.kind,
      name: m.name,
      ...(size !== undefined ? { size } : {}),
      ...(sha256 ? { sha256 } : {}),
      ...(mime ? { mime } : {}),
      handover,
      ...(mode === 'reference' ? {} : { field: system.materials!.field }),
      state: mode === 'reference' ? 'by_reference' : got ? 'fetched' : 'not_fetched_yet',
    };
  });
}

/** The body's bytes as text in the charset they are in (what a dry run shows). */
function decodeAs(bytes: Buffer, label: string): string {
  const charset = CHARSETS.find((c) => charsetLabel(c).toLowerCase() === label.toLowerCase()) ?? 'utf-8';
  return iconv.decode(bytes, charset);
}

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silentLog } as unknown as Logger;
