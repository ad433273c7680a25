/**
 * The configuration a running gateway uses: the files it started with, plus the versions stored
 * since, of each system (PUT /api/v1/admin/systems/:id, which also adds one; a removal; a reload of
 * the configuration folder) and of the routing table (PUT /api/v1/admin/routes). Versions live in
 * Redis, so every gateway process on the same Redis picks a new one up within a couple of seconds
 * (a new system's worker starts there, a removed one's stops), and a restart keeps it.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import stableStringify from 'safe-stable-stringify';
import type { Logger } from '../platform/logger';
import { redactUrl } from '../platform/privacy';
import type { RedisClient } from '../platform/redis';
import { keyPath } from '../platform/errors';
import { ConfigError, loadConfig, parseRoutes, parseSystem, routeIssues, trialRun, trialRunAll, type ConfigIssue, type GatewayConfig } from './loader';
import type { RoutesFile, SystemConfig } from './schema';
import { VersionConflict, VersionStore, type ApplyError, type StoredVersion, type VersionInfo, type VersionSource } from './versions';

/** Written in place of a secret when a system is shown; sent back unchanged, it keeps the secret. */
export const REDACTED = '[redacted]';

export const SECRET_PATHS: ReadonlyArray<readonly string[]> = [
  ['auth', 'token'],
  ['auth', 'password'],
  ['auth', 'secret'],
  ['result', 'inboundToken'],
];

export type { ApplyError, VersionInfo, VersionSource } from './versions';
export { VersionConflict } from './versions';

/** The caller's If-Match names a version that is no longer the current one. */
export class VersionMismatch extends Error {
  constructor(
    readonly current: number,
    readonly expected: number,
  ) {
    super(`version ${expected} is no longer current (version ${current} is); fetch it and try again`);
  }
}

/** A create-only PUT (`If-None-Match: *`) of a system that exists. */
export class SystemExists extends Error {
  constructor(readonly current: number) {
    super(`the system exists already (version ${current}); fetch it and edit that version`);
  }
}

/** A system or routing table that does not validate, or a configuration folder that would not start. */
export class ConfigInvalid extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super('invalid configuration');
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function getPath(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

function setPath(value: Record<string, unknown>, path: readonly string[], to: unknown): void {
  let at: Record<string, unknown> = value;
  for (const k of path.slice(0, -1)) {
    if (!at[k] || typeof at[k] !== 'object') return;
    at = at[k] as Record<string, unknown>;
  }
  if (path.at(-1)! in at) at[path.at(-1)!] = to;
}

/**
 * `${NAME}` belongs to the files: a version stored through the API that could name a
 * variable would let any admin read the process environment. The one exception is the file's own
 * reference, unchanged, at its own place (a secret sent back as shown, a rollback to the file's
 * content, a reset): it names nothing the file did not already read.
 */
function environmentReferences(raw: unknown, fileRaw: Record<string, unknown>, file: string, at: Array<string | number> = []): ConfigIssue[] {
  if (typeof raw === 'string') {
    if (!raw.includes('${')) return [];
    const keptFromFile = getPath(fileRaw, at.map(String)) === raw;
    return keptFromFile ? [] : [{ file, path: keyPath(at), message: '${…} environment references are read from configuration files only; send the value itself' }];
  }
  if (Array.isArray(raw)) return raw.flatMap((v, i) => environmentReferences(v, fileRaw, file, [...at, i]));
  if (raw && typeof raw === 'object') return Object.entries(raw).flatMap(([k, v]) => environmentReferences(v, fileRaw, file, [...at, k]));
  return [];
}

/** URLs that may carry a password or a token in their query. */
export const URL_PATHS: ReadonlyArray<readonly string[]> = [['endpoint'], ['result', 'poll', 'endpoint'], ['soap', 'wsdl']];

/** A deep copy with every secret replaced by REDACTED, and credentials in URLs redacted. */
export function redact<T>(system: T): T {
  const copy = structuredClone(system) as Record<string, unknown>;
  for (const path of SECRET_PATHS) if (getPath(copy, path) !== undefined) setPath(copy, path, REDACTED);
  for (const path of URL_PATHS) {
    const url = getPath(copy, path);
    if (typeof url === 'string') setPath(copy, path, redactUrl(url));
  }
  return copy as T;
}

/** The credentials a system sends out (result.inboundToken is what it presents to us: it stays home). */
const OUTBOUND_SECRETS = SECRET_PATHS.filter((p) => p[0] === 'auth');

/** Where a system file sends requests: the origins of its URLs (a URL written as a reference, as written). */
function destinations(raw: Record<string, unknown>): Set<string> {
  const found = new Set<string>();
  for (const path of URL_PATHS) {
    const url = getPath(raw, path);
    if (typeof url !== 'string') continue;
    try {
      found.add(new URL(url).origin);
    } catch {
      if (!/^[a-z]+:/i.test(url) || url.includes('${')) found.add(url);
    }
  }
  return found;
}

/**
 * Puts back the secrets a caller sent as REDACTED (as shown): what ops sent back as shown keeps its
 * value, redacted secrets and URLs with redacted credentials alike. Answers two kinds of problem:
 * - `unknown`: REDACTED where there is no secret to keep (a new system, or a key the version in use
 *   lacks), left as sent;
 * - `kept`: a kept credential goes only where it went before. When the version sends requests to an
 *   origin the previous one did not, each outbound secret sent back as REDACTED is a problem (the
 *   caller refuses the version once it is otherwise valid), so an operator cannot point a system at
 *   a host of their own and collect its stored password.
 */
function restoreRedacted(next: Record<string, unknown>, previous: Record<string, unknown>, file: string): { unknown: ConfigIssue[]; kept: ConfigIssue[] } {
  const went = destinations(previous);
  const moved = [...destinations(next)].filter((d) => !went.has(d));
  const unknown: ConfigIssue[] = [];
  const kept: ConfigIssue[] = [];
  for (const path of SECRET_PATHS) {
    if (getPath(next, path) !== REDACTED) continue;
    const secret = getPath(previous, path);
    if (secret === undefined) {
      unknown.push({ file, path: path.join('.'), message: `${REDACTED} keeps the secret of the version in use, and it has none here: send the value itself` });
      continue;
    }
    if (moved.length > 0 && OUTBOUND_SECRETS.includes(path)) {
      kept.push({ file, path: path.join('.'), message: `is kept as ${REDACTED}, but this version sends to ${redactUrl(moved[0]!)} where the stored secret never went: send the secret itself` });
    }
    setPath(next, path, secret);
  }
  for (const path of URL_PATHS) {
    const before = getPath(previous, path);
    if (typeof before === 'string' && before !== redactUrl(before) && getPath(next, path) === redactUrl(before)) setPath(next, path, before);
  }
  return { unknown, kept };
}

/** Deep equality of two system files as JSON (key order does not matter). */
function sameContent(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** The top-level keys whose content differs between two versions, for the history's summary. */
export function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !sameContent(before[k], after[k])).sort();
}

function describeChange(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const keys = changedKeys(before, after);
  return keys.length ? `changed ${keys.join(', ')}` : 'no change';
}

export interface LiveConfigOptions {
  redis: RedisClient;
  prefix: string;
  env: Env;
  log: Logger;
  /** How often to look for versions stored by other processes (default 2 s). */
  refreshMs?: number;
  now?: () => Date;
  /** Run before a reload reads the folder (OW_ENV_FILE read again into `env`); a problem it answers refuses the reload. */
  beforeReload?: () => string | undefined;
}

export interface PutOptions {
  /** The version the caller edited (If-Match); a newer stored version refuses the put. */
  expected?: number;
  /** Only create (`If-None-Match: *`): a system that exists refuses the put. */
  create?: boolean;
  source?: VersionSource;
  /** Said before the changed keys in the history, e.g. "rollback to version 2". */
  summary?: string;
  /** The history's summary when the put adds the system (default "created"). */
  createdSummary?: string;
  reason?: string;
  /** The content was read from its file just now: remembered as the file last read (see reload). */
  readFromFile?: boolean;
}

export interface ShownVersion {
  version: number;
  source: VersionSource;
  system: Record<string, unknown>;
}

/** The routing table as ops see it: routes.yaml as written, with its version. */
export interface ShownRoutes {
  version: number;
  source: VersionSource;
  routes: unknown[];
  unrouted?: unknown;
}

/** What a reload of the configuration folder did. */
export interface ReloadOutcome {
  /** Files of systems that did not run: each is a new system (version 1, or the next after its removal). */
  added: string[];
  /** Files that changed since they were last read: each is a new version, source file. */
  changed: string[];
  /** Files as they were last read: left alone (a version stored through the API stays in use). */
  unchanged: string[];
  /** Systems that run without a file in the folder: reported, never removed (removal is explicit). */
  missingOnDisk: string[];
  routes: { changed: boolean; version: number };
  /** The version each added or changed system is at now. */
  versions: Record<string, number>;
}

/** The field of the routing table in its versions hash (a system id cannot contain a dot). */
const ROUTES = 'routes.yaml';

/** How often a reload retries a version another process stored at the same moment. */
const STORE_TRIES = 3;

function issuesOf(err: unknown): ConfigIssue[] {
  if (err instanceof ConfigInvalid) return err.issues;
  if (err instanceof ConfigError) return err.issues;
  throw err;
}

function describeIssues(err: unknown): string {
  return err instanceof ConfigInvalid ? err.issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ') : (err as Error).message;
}

export class LiveConfig {
  private current: GatewayConfig;
  /** The version of each system known here; a removed system keeps the version that removed it. */
  private readonly versions = new Map<string, number>();
  private readonly sources = new Map<string, VersionSource>();
  /** The raw form of each system's current version (the file's content, or what ops stored). */
  private readonly raws = new Map<string, Record<string, unknown>>();
  /** Versions this process could not apply: reported once, not retried every refresh. */
  private readonly failed = new Map<string, number>();
  private routes: { version: number; source: VersionSource; raw: Record<string, unknown> };
  private failedRoutes?: number;
  private timer?: NodeJS.Timeout;
  /** The refresh under way, which the next one waits for. */
  private refreshing?: Promise<void>;
  private readonly changeListeners: Array<(system: SystemConfig) => void> = [];
  private readonly removeListeners: Array<(systemId: string) => void> = [];
  private readonly systemVersions: VersionStore;
  private readonly routeVersions: VersionStore;
  private readonly startedAt: string;
  /** This process, as named in the apply errors it reports (several gateways may share a host and even a process in tests). */
  readonly processName = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;

  constructor(
    /** The configuration read from the files: a stored version may keep only their `${ENV}` references. */
    private readonly files: GatewayConfig,
    private readonly options: LiveConfigOptions,
  ) {
    this.current = files;
    this.startedAt = this.now();
    const { prefix, redis } = options;
    this.systemVersions = new VersionStore(redis, {
      latest: `${prefix}:config:systems`,
      history: (id) => `${prefix}:config:history:${id}`,
      applyErrors: (id) => `${prefix}:config:apply-errors:${id}`,
    });
    this.routeVersions = new VersionStore(redis, {
      latest: `${prefix}:config:routes`,
      history: () => `${prefix}:config:routes:history`,
      applyErrors: () => `${prefix}:config:routes:apply-errors`,
    });
    for (const id of files.systems.keys()) {
      this.versions.set(id, 1);
      this.sources.set(id, 'file');
      this.raws.set(id, files.sources.get(id) ?? {});
    }
    this.routes = { version: 1, source: 'file', raw: files.routesSource };
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  /** The files each system and the routing table were last read from (start-up excepted), by file. */
  private get filesReadKey(): string {
    return `${this.options.prefix}:config:files-read`;
  }

  get(): GatewayConfig {
    return this.current;
  }

  /** The version of the system used here; 0 for one never known here. */
  version(systemId: string): number {
    return this.versions.get(systemId) ?? 0;
  }

  /** Whether the system runs here. */
  exists(systemId: string): boolean {
    return this.current.systems.has(systemId);
  }

  /**
   * The configuration folder as it is on disk now, checked as a start-up checks it: every file, then
   * every system's expressions test-run. Routes and shared data may name the systems that run without
   * a file (added through the API). ConfigInvalid lists each problem with its file and key.
   */
  private async folderNow(trialAll: boolean): Promise<GatewayConfig> {
    try {
      const disk = loadConfig(this.files.dir, this.options.env, { also: this.current.systems });
      if (trialAll) await trialRunAll(disk);
      return disk;
    } catch (err) {
      throw new ConfigInvalid(issuesOf(err));
    }
  }

  /**
   * The content of the system's file as it is on disk now, checked as a start-up checks the folder
   * (every file, then the system's expressions test-run): undefined when the file is gone, else
   * ConfigInvalid with each problem's file and key.
   */
  async fileNow(systemId: string): Promise<Record<string, unknown> | undefined> {
    const files = await this.folderNow(false);
    const system = files.systems.get(systemId);
    if (!system) return undefined;
    const issues = await trialRun(system, `systems/${systemId}.yaml`, files.gateway);
    if (issues.length > 0) throw new ConfigInvalid(issues);
    return files.sources.get(systemId);
  }

  /** The raw content of the version in use here (secrets unredacted: never answered as it is). */
  rawContent(systemId: string): Record<string, unknown> | undefined {
    return this.raws.get(systemId);
  }

  /** Called with each system whose version changed or that was added (workers start or adjust). */
  onChange(listener: (system: SystemConfig) => void): void {
    this.changeListeners.push(listener);
  }

  /** Called with each system removed (its worker stops). */
  onRemove(listener: (systemId: string) => void): void {
    this.removeListeners.push(listener);
  }

  /**
   * Checks a version ops stored: its schema, expressions (compiled and test-run on a sample case),
   * endpoints (egress), and that it reads no environment variable. A version whose source is the
   * file (a reset, a reload, or a rollback to one) was read from a file, so its `${…}` references are the file's.
   */
  private async validate(id: string, raw: Record<string, unknown>, source: VersionSource, found: ConfigIssue[] = []): Promise<SystemConfig> {
    const file = `systems/${id}`;
    const issues = [...found, ...environmentReferences(raw, source === 'file' ? raw : (this.files.sources.get(id) ?? {}), file)];
    const system = parseSystem(raw, file, this.options.env, this.current.gateway, this.current.dir, issues);
    if (system && system.id !== id) issues.push({ file, path: 'id', message: `must be ${id}` });
    if (system && issues.length === 0) issues.push(...(await trialRun(system, file, this.current.gateway)));
    if (!system || issues.length > 0) throw new ConfigInvalid(issues);
    return system;
  }

  /**
   * A proposed version checked exactly as a put checks it, nothing stored (dry runs): redacted
   * secrets sent back as shown are restored first.
   */
  async check(systemId: string, raw: Record<string, unknown>): Promise<SystemConfig> {
    const next = structuredClone(raw);
    // A secret kept for a new host is refused only when stored: a dry run sends nothing and shows no secret.
    const { unknown } = restoreRedacted(next, this.raws.get(systemId) ?? {}, `systems/${systemId}`);
    return this.validate(systemId, next, 'api', unknown);
  }

  private async apply(id: string, version: number, raw: Record<string, unknown>, source: VersionSource): Promise<void> {
    const system = await this.validate(id, raw, source);
    const systems = new Map(this.current.systems);
    systems.set(id, system);
    this.current = { ...this.current, systems };
    this.versions.set(id, version);
    this.sources.set(id, source);
    this.raws.set(id, raw);
    // A routing table that named a system this process could not use yet is tried again.
    this.failedRoutes = undefined;
    if (this.failed.delete(id)) await this.systemVersions.clearApplyError(id, this.processName);
    for (const listener of this.changeListeners) listener(system);
  }

  private async applyRemoval(id: string, version: number): Promise<void> {
    const systems = new Map(this.current.systems);
    const had = systems.delete(id);
    this.current = { ...this.current, systems };
    this.versions.set(id, version);
    this.sources.delete(id);
    this.raws.delete(id);
    if (this.failed.delete(id)) await this.systemVersions.clearApplyError(id, this.processName);
    if (had) for (const listener of this.removeListeners) listener(id);
  }

  /**
   * Applies the versions stored in Redis that are newer than ours: systems added, changed and
   * removed, then the routing table. One at a time (the timer's and a request's), so a version is
   * applied once.
   */
  async refresh(): Promise<void> {
    const before = this.refreshing;
    const mine = (async () => {
      await before?.catch(() => undefined);
      await this.refreshOnce();
    })();
    this.refreshing = mine;
    try {
      await mine;
    } finally {
      if (this.refreshing === mine) this.refreshing = undefined;
    }
  }

  private async refreshOnce(): Promise<void> {
    let envRead = false;
    for (const [id, entry] of await this.systemVersions.everyLatest()) {
      if (entry.version <= this.version(id) || this.failed.get(id) === entry.version) continue;
      // A version read from a file may name a variable added to OW_ENV_FILE for it, as its reload did.
      if (entry.source === 'file' && !envRead) {
        envRead = true;
        this.options.beforeReload?.();
      }
      if (entry.removed) {
        const had = this.exists(id);
        await this.applyRemoval(id, entry.version);
        if (had) this.options.log.info({ systemId: id, version: entry.version, by: entry.by }, 'system removed; its worker stops');
        continue;
      }
      const added = !this.exists(id);
      try {
        await this.apply(id, entry.version, entry.raw, entry.source ?? 'api');
        this.options.log.info({ systemId: id, version: entry.version, by: entry.by }, added ? 'system added; its worker starts' : 'system configuration version applied');
      } catch (err) {
        // Valid where it was stored, invalid here (this process's egress rules, a WSDL only the
        // other has, a variable it lacks): keep the version in use, and say so where ops look.
        const message = describeIssues(err);
        this.failed.set(id, entry.version);
        this.options.log.error({ systemId: id, version: entry.version, kept: this.version(id), err: message }, 'stored system configuration does not apply here; the previous version is kept');
        await this.systemVersions.reportApplyError(id, { version: entry.version, process: this.processName, message: message.slice(0, 1000), at: this.now() });
      }
    }
    await this.refreshRoutes();
  }

  private async refreshRoutes(): Promise<void> {
    const entry = await this.routeVersions.latest(ROUTES);
    if (!entry || entry.version <= this.routes.version || this.failedRoutes === entry.version) return;
    try {
      this.applyRoutes(entry.version, entry.raw, entry.source ?? 'api');
      this.options.log.info({ version: entry.version, by: entry.by }, 'routes version applied');
    } catch (err) {
      const message = describeIssues(err);
      this.failedRoutes = entry.version;
      this.options.log.error({ version: entry.version, kept: this.routes.version, err: message }, 'stored routes do not apply here; the previous version is kept');
      await this.routeVersions.reportApplyError(ROUTES, { version: entry.version, process: this.processName, message: message.slice(0, 1000), at: this.now() });
    }
  }

  /**
   * The systems whose stored version differs from this process's file: the stored version is the
   * one used (until `reset`), which whoever edited the file should hear about at start-up. A system
   * removed through the API is listed as `removed`: its file here is not used.
   */
  async differingFromFiles(): Promise<Array<{ systemId: string; version: number; source: VersionSource; by: string; at: string; removed?: boolean }>> {
    return (await this.systemVersions.everyLatest())
      .filter(([id, entry]) => this.files.systems.has(id) && (entry.removed || !sameContent(entry.raw, this.files.sources.get(id) ?? {})))
      .map(([id, entry]) => ({ systemId: id, version: entry.version, source: entry.source ?? 'api', by: entry.by, at: entry.at, ...(entry.removed ? { removed: true } : {}) }));
  }

  /** What the processes that could not apply a version of this system reported. */
  applyErrors(systemId: string): Promise<ApplyError[]> {
    return this.systemVersions.applyErrors(systemId);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.refresh().catch((err: Error) => this.options.log.warn({ err: err.message }, 'configuration refresh failed')), this.options.refreshMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The system as ops see it: raw form, secrets redacted, with its version. */
  show(systemId: string): ShownVersion | undefined {
    const raw = this.raws.get(systemId);
    return raw ? { version: this.version(systemId), source: this.sources.get(systemId) ?? 'file', system: redact(raw) } : undefined;
  }

  /** Version 1 of a system in this process's files, where it was never stored: that file. */
  private fileVersion(systemId: string): StoredVersion | undefined {
    const raw = this.files.sources.get(systemId);
    return raw ? { version: 1, raw, at: this.startedAt, by: 'file', source: 'file', summary: 'the configuration file' } : undefined;
  }

  /** Every version, newest first, with what each changed, and any process that could not apply it. */
  history(systemId: string): Promise<VersionInfo[]> {
    return this.systemVersions.history(systemId, this.fileVersion(systemId));
  }

  /** One version's content, unredacted (callers redact it before answering); `removed` for the version that removed the system. */
  versionContent(systemId: string, version: number): Promise<{ info: VersionInfo; raw: Record<string, unknown>; removed: boolean } | undefined> {
    return this.systemVersions.content(systemId, version, this.fileVersion(systemId));
  }

  /** The version stored now, as the caller saw it, and what the next one builds on. */
  private async base(systemId: string): Promise<{ latest?: StoredVersion; seen: number; base: number; existed: boolean }> {
    const latest = await this.systemVersions.latest(systemId);
    const inFiles = this.files.systems.has(systemId);
    return { latest, seen: latest?.version ?? 0, base: latest?.version ?? (inFiles ? 1 : 0), existed: latest ? !latest.removed : inFiles };
  }

  /** Stores an entry on top of `seen`; a conflict is a mismatch for a caller who named the version it edited. */
  private async storeOn(store: VersionStore, field: string, seen: number, entry: StoredVersion, expected: number | undefined): Promise<void> {
    try {
      await store.store(field, seen, entry);
    } catch (err) {
      if (err instanceof VersionConflict && expected !== undefined) throw new VersionMismatch(err.current, expected);
      throw err;
    }
  }

  /**
   * Validates and stores a new version of a system, or its first (a system that does not run:
   * never configured, or removed); this process uses it at once, the others within seconds.
   */
  async put(systemId: string, raw: Record<string, unknown>, by: string, options: PutOptions = {}): Promise<ShownVersion & { created: boolean }> {
    // Made on top of the version stored in Redis (the one every process is moving to), whatever
    // this process has applied so far.
    const { latest, seen, base, existed } = await this.base(systemId);
    if (options.create && existed) throw new SystemExists(base);
    if (options.expected !== undefined && options.expected !== base) throw new VersionMismatch(base, options.expected);
    const previous = existed ? (latest?.raw ?? this.files.sources.get(systemId) ?? {}) : {};
    const next = structuredClone(raw);
    const { unknown, kept } = restoreRedacted(next, previous, `systems/${systemId}`);
    const source = options.source ?? 'api';
    await this.validate(systemId, next, source, unknown);
    if (kept.length > 0) throw new ConfigInvalid(kept);
    const version = base + 1;
    const change = describeChange(previous, next);
    const summary = !existed ? (options.createdSummary ?? 'created') : options.summary ? `${options.summary}: ${change}` : change;
    const entry: StoredVersion = { version, raw: next, at: this.now(), by, source, summary, ...(options.reason ? { reason: options.reason } : {}) };
    await this.storeOn(this.systemVersions, systemId, seen, entry, options.expected);
    if (options.readFromFile) await this.noteFileRead(`systems/${systemId}`, next);
    await this.apply(systemId, version, next, source);
    return { version, source, system: redact(next), created: !existed };
  }

  /**
   * Removes a system: a version that says so, in its history; every process stops its worker within
   * seconds. Whether it may go (nothing in flight, no route naming it) is the caller's to check.
   */
  async remove(systemId: string, by: string, options: { expected?: number; reason?: string } = {}): Promise<{ version: number }> {
    const { seen, base, existed } = await this.base(systemId);
    if (!existed) throw new VersionConflict(base);
    if (options.expected !== undefined && options.expected !== base) throw new VersionMismatch(base, options.expected);
    const entry: StoredVersion = { version: base + 1, raw: {}, at: this.now(), by, source: 'api', summary: 'removed', removed: true, ...(options.reason ? { reason: options.reason } : {}) };
    await this.storeOn(this.systemVersions, systemId, seen, entry, options.expected);
    await this.applyRemoval(systemId, entry.version);
    return { version: entry.version };
  }

  // ── the routing table ─────────────────────────────────────────────────────────────────────────────

  /**
   * Checks a routing table: its schema, and that every target and `unrouted` is a system that runs
   * here and receives cases. One read from routes.yaml may keep the file's `${…}` references.
   */
  private validateRoutes(raw: Record<string, unknown>, source: VersionSource): RoutesFile {
    const file = 'routes.yaml';
    const issues = environmentReferences(raw, source === 'file' ? raw : this.files.routesSource, file);
    const routes = parseRoutes(raw, file, this.options.env, issues);
    if (routes) issues.push(...routeIssues(routes, new Set(this.current.systems.keys()), this.current.systems, file));
    if (!routes || issues.length > 0) throw new ConfigInvalid(issues);
    return routes;
  }

  private applyRoutes(version: number, raw: Record<string, unknown>, source: VersionSource): void {
    const routes = this.validateRoutes(raw, source);
    this.current = { ...this.current, routes };
    this.routes = { version, source, raw };
    if (this.failedRoutes !== undefined) {
      this.failedRoutes = undefined;
      void this.routeVersions.clearApplyError(ROUTES, this.processName).catch(() => undefined);
    }
  }

  /** The routing table in use here, as written, with its version. */
  showRoutes(): ShownRoutes {
    return { version: this.routes.version, source: this.routes.source, ...(this.routes.raw as { routes: unknown[] }) };
  }

  /** The routing table's raw form in use here (for the export). */
  routesContent(): Record<string, unknown> {
    return this.routes.raw;
  }

  /** The routes in use here that name the system: where (`routes[2].targets[0]`, `unrouted`). */
  routesNaming(systemId: string): string[] {
    const { routes } = this.current;
    const places = routes.routes.flatMap((route, i) => route.targets.flatMap((target, j) => (target === systemId ? [`routes[${i}].targets[${j}]`] : [])));
    return routes.unrouted === systemId ? [...places, 'unrouted'] : places;
  }

  private routesFileVersion(): StoredVersion {
    return { version: 1, raw: this.files.routesSource, at: this.startedAt, by: 'file', source: 'file', summary: 'the configuration file' };
  }

  routesHistory(): Promise<VersionInfo[]> {
    return this.routeVersions.history(ROUTES, this.routesFileVersion());
  }

  routesVersionContent(version: number): Promise<{ info: VersionInfo; raw: Record<string, unknown> } | undefined> {
    return this.routeVersions.content(ROUTES, version, this.routesFileVersion());
  }

  routesApplyErrors(): Promise<ApplyError[]> {
    return this.routeVersions.applyErrors(ROUTES);
  }

  /** Validates and stores a new version of the routing table; this process uses it at once, the others within seconds. */
  async putRoutes(raw: Record<string, unknown>, by: string, options: PutOptions = {}): Promise<ShownRoutes> {
    const latest = await this.routeVersions.latest(ROUTES);
    const base = latest?.version ?? 1;
    if (options.expected !== undefined && options.expected !== base) throw new VersionMismatch(base, options.expected);
    const previous = latest?.raw ?? this.files.routesSource;
    const source = options.source ?? 'api';
    this.validateRoutes(raw, source);
    const change = describeChange(previous, raw);
    const entry: StoredVersion = { version: base + 1, raw, at: this.now(), by, source, summary: options.summary ? `${options.summary}: ${change}` : change, ...(options.reason ? { reason: options.reason } : {}) };
    await this.storeOn(this.routeVersions, ROUTES, latest?.version ?? 0, entry, options.expected);
    if (options.readFromFile) await this.noteFileRead(ROUTES, raw);
    this.applyRoutes(entry.version, raw, source);
    return this.showRoutes();
  }

  // ── the configuration folder, read again ────────────────────────────────────────────────────────

  private async noteFileRead(file: string, raw: Record<string, unknown>): Promise<void> {
    await this.options.redis.hset(this.filesReadKey, file, JSON.stringify(raw));
  }

  /** A put from a file, once more on top of a version another process stored at the same moment. */
  private async storeFromFile<T>(put: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await put();
      } catch (err) {
        if (!(err instanceof VersionConflict) || tries >= STORE_TRIES) throw err;
      }
    }
  }

  /**
   * Reads the configuration folder now, checked as a start-up checks it (any problem: ConfigInvalid
   * listing each, and nothing changes). A system file of a system that does not run adds it; a file
   * that changed since it was last read (at start-up, a reset or a reload) is stored as a new
   * version, source file; a file as it was last read is left alone, so a version stored through the
   * API stays in use (a reset is how to go back to the file); a system without a file is reported,
   * not removed. routes.yaml likewise, once the systems are in. gateway.yaml and shared-data.yaml
   * are checked, not applied: they take a restart. OW_ENV_FILE is read again first (beforeReload):
   * a variable a new file names may be added there; one already set is never changed.
   */
  async reload(by: string, reason?: string): Promise<ReloadOutcome> {
    const problem = this.options.beforeReload?.();
    if (problem) throw new ConfigInvalid([{ file: 'OW_ENV_FILE', path: '', message: problem }]);
    const disk = await this.folderNow(true);
    const read = await this.options.redis.hgetall(this.filesReadKey);
    const lastRead = (file: string, atStart: Record<string, unknown> | undefined): unknown => (read[file] !== undefined ? JSON.parse(read[file]) : atStart);
    const outcome: ReloadOutcome = { added: [], changed: [], unchanged: [], missingOnDisk: [], routes: { changed: false, version: this.routes.version }, versions: {} };
    for (const [id, raw] of disk.sources) {
      if (!this.exists(id)) outcome.added.push(id);
      else if (sameContent(lastRead(`systems/${id}`, this.files.sources.get(id)), raw)) outcome.unchanged.push(id);
      else outcome.changed.push(id);
    }
    outcome.missingOnDisk = [...this.current.systems.keys()].filter((id) => !disk.sources.has(id)).sort();
    const storing = [...outcome.added, ...outcome.changed];
    outcome.added = [];
    outcome.changed = [];
    for (const id of storing) {
      const stored = await this.storeFromFile(() => this.put(id, disk.sources.get(id)!, by, { source: 'file', createdSummary: 'created from the file', summary: 'reloaded from the file', reason, readFromFile: true }));
      // Added or changed as the versions in Redis say (another process may have added it a moment ago).
      (stored.created ? outcome.added : outcome.changed).push(id);
      outcome.versions[id] = stored.version;
    }
    for (const id of outcome.unchanged) await this.publish(id);
    if (!sameContent(lastRead(ROUTES, this.files.routesSource), disk.routesSource)) {
      const routes = await this.storeFromFile(() => this.putRoutes(disk.routesSource, by, { source: 'file', summary: 'reloaded from the file', reason, readFromFile: true }));
      outcome.routes = { changed: true, version: routes.version };
    }
    return outcome;
  }

  /**
   * Stores version 1 of a system this process has from its file and that was never stored: a process
   * started without that file (it came later) then runs the system too.
   */
  private async publish(systemId: string): Promise<void> {
    const first = this.fileVersion(systemId);
    if (!first || this.version(systemId) !== 1 || (await this.systemVersions.latest(systemId))) return;
    await this.systemVersions.store(systemId, 0, { ...first, at: this.now() }).catch((err: unknown) => {
      if (!(err instanceof VersionConflict)) throw err; // another process was first: as good
    });
  }
}
