/**
 * The configuration a running gateway uses: the files it started with, plus the system versions ops
 * have stored since (PUT /api/v1/admin/systems/:id). Versions live in Redis, so every gateway process
 * on the same Redis picks a new one up within a couple of seconds, and a restart keeps it.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import stableStringify from 'safe-stable-stringify';
import type { Logger } from '../platform/logger';
import { LuaScripts } from '../platform/lua';
import { redactUrl } from '../platform/privacy';
import type { RedisClient } from '../platform/redis';
import { keyPath } from '../platform/errors';
import { ConfigError, loadConfig, parseSystem, trialRun, type ConfigIssue, type GatewayConfig } from './loader';
import type { SystemConfig } from './schema';

/** Written in place of a secret when a system is shown; sent back unchanged, it keeps the secret. */
export const REDACTED = '[redacted]';

export const SECRET_PATHS: ReadonlyArray<readonly string[]> = [
  ['auth', 'token'],
  ['auth', 'password'],
  ['auth', 'secret'],
  ['result', 'inboundToken'],
];

/** Where a version's content came from: a configuration file (the start, a reset) or ops through the API. */
export type VersionSource = 'file' | 'api';

interface StoredVersion {
  version: number;
  /** The system file as ops sent it (`${ENV}` references unexpanded, so no secret is stored twice). */
  raw: Record<string, unknown>;
  at: string;
  by: string;
  /** Absent in versions stored before versions had a source: those came through the API. */
  source?: VersionSource;
  /** The top-level keys it changed, e.g. "changed request, timeoutMs". */
  summary?: string;
  reason?: string;
}

/** One version as the history lists it (no content). */
export interface VersionInfo {
  version: number;
  at: string;
  who: string;
  source: VersionSource;
  summary: string;
  reason?: string;
  /** A gateway process could not use this version and kept its previous one (why, and which process). */
  applyError?: string;
}

/** A version a process could not apply, as it reported it. */
export interface ApplyError {
  version: number;
  process: string;
  message: string;
  at: string;
}

/** Another process stored a newer version first. */
export class VersionConflict extends Error {
  constructor(readonly current: number) {
    super(`version ${current} was stored meanwhile; fetch it and try again`);
  }
}

/** The caller's If-Match names a version that is no longer the current one. */
export class VersionMismatch extends Error {
  constructor(
    readonly current: number,
    readonly expected: number,
  ) {
    super(`version ${expected} is no longer current (version ${current} is); fetch it and try again`);
  }
}

export class SystemConfigInvalid extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super('invalid system configuration');
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

/** What ops sent back as shown keeps its value: redacted secrets and URLs with redacted credentials. */
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
 * Puts back the secrets a caller sent as REDACTED (as shown). A kept credential goes only where it
 * went before: when the version sends requests to an origin the previous one did not, each outbound
 * secret sent back as REDACTED is answered as a problem (the caller refuses the version once it is
 * otherwise valid), so an operator cannot point a system at a host of their own and collect its
 * stored password.
 */
function restoreRedacted(next: Record<string, unknown>, previous: Record<string, unknown>, file: string): ConfigIssue[] {
  const went = destinations(previous);
  const moved = [...destinations(next)].filter((d) => !went.has(d));
  const kept = moved.length === 0 ? [] : OUTBOUND_SECRETS.filter((path) => getPath(next, path) === REDACTED);
  const problems = kept.map((path) => ({ file, path: path.join('.'), message: `is kept as ${REDACTED}, but this version sends to ${redactUrl(moved[0]!)} where the stored secret never went: send the secret itself` }));
  for (const path of SECRET_PATHS) if (getPath(next, path) === REDACTED) setPath(next, path, getPath(previous, path));
  for (const path of URL_PATHS) {
    const before = getPath(previous, path);
    if (typeof before === 'string' && before !== redactUrl(before) && getPath(next, path) === redactUrl(before)) setPath(next, path, before);
  }
  return problems;
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
}

export interface PutOptions {
  /** The version the caller edited (If-Match); a newer stored version refuses the put. */
  expected?: number;
  source?: VersionSource;
  /** Said before the changed keys in the history, e.g. "rollback to version 2". */
  summary?: string;
  reason?: string;
}

export interface ShownVersion {
  version: number;
  source: VersionSource;
  system: Record<string, unknown>;
}

export class LiveConfig {
  private current: GatewayConfig;
  private readonly versions = new Map<string, number>();
  private readonly sources = new Map<string, VersionSource>();
  /** The raw form of each system's current version (the file's content, or what ops stored). */
  private readonly raws = new Map<string, Record<string, unknown>>();
  /** Versions this process could not apply: reported once, not retried every refresh. */
  private readonly failed = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly listeners: Array<(system: SystemConfig) => void> = [];
  private readonly scripts: LuaScripts<'store-version'>;
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
    this.scripts = new LuaScripts(options.redis, path.join(__dirname, 'lua'), ['store-version']);
    for (const id of files.systems.keys()) {
      this.versions.set(id, 1);
      this.sources.set(id, 'file');
      this.raws.set(id, files.sources.get(id) ?? {});
    }
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private get key(): string {
    return `${this.options.prefix}:config:systems`;
  }

  private historyKey(systemId: string): string {
    return `${this.options.prefix}:config:history:${systemId}`;
  }

  private applyErrorsKey(systemId: string): string {
    return `${this.options.prefix}:config:apply-errors:${systemId}`;
  }

  get(): GatewayConfig {
    return this.current;
  }

  version(systemId: string): number {
    return this.versions.get(systemId) ?? 0;
  }

  /**
   * The content of the system's file as it is on disk now, checked as a start-up checks the folder
   * (every file, then the system's expressions test-run): undefined when the file is gone, else
   * SystemConfigInvalid with each problem's file and key.
   */
  async fileNow(systemId: string): Promise<Record<string, unknown> | undefined> {
    let files: GatewayConfig;
    try {
      files = loadConfig(this.files.dir, this.options.env);
    } catch (err) {
      if (err instanceof ConfigError) throw new SystemConfigInvalid(err.issues);
      throw err;
    }
    const system = files.systems.get(systemId);
    if (!system) return undefined;
    const issues = await trialRun(system, `systems/${systemId}.yaml`, files.gateway);
    if (issues.length > 0) throw new SystemConfigInvalid(issues);
    return files.sources.get(systemId);
  }

  /** The raw content of the version in use here (secrets unredacted: never answered as it is). */
  rawContent(systemId: string): Record<string, unknown> | undefined {
    return this.raws.get(systemId);
  }

  /** Called with each system whose version changed (workers adjust concurrency and limits). */
  onChange(listener: (system: SystemConfig) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Checks a version ops stored: its schema, expressions (compiled and test-run on a sample case),
   * endpoints (egress), and that it reads no environment variable. A version whose source is the
   * file (a reset, or a rollback to one) was read from a file, so its `${…}` references are the file's.
   */
  private async validate(id: string, raw: Record<string, unknown>, source: VersionSource): Promise<SystemConfig> {
    const file = `systems/${id}`;
    const issues = environmentReferences(raw, source === 'file' ? raw : (this.files.sources.get(id) ?? {}), file);
    const system = parseSystem(raw, file, this.options.env, this.current.gateway, this.current.dir, issues);
    if (system && system.id !== id) issues.push({ file, path: 'id', message: `must be ${id}` });
    if (system && issues.length === 0) issues.push(...(await trialRun(system, file, this.current.gateway)));
    if (!system || issues.length > 0) throw new SystemConfigInvalid(issues);
    return system;
  }

  /**
   * A proposed version checked exactly as a put checks it, nothing stored (dry runs): redacted
   * secrets sent back as shown are restored first.
   */
  async check(systemId: string, raw: Record<string, unknown>): Promise<SystemConfig> {
    const next = structuredClone(raw);
    // A secret kept for a new host is refused only when stored: a dry run sends nothing and shows no secret.
    restoreRedacted(next, this.raws.get(systemId) ?? {}, `systems/${systemId}`);
    return this.validate(systemId, next, 'api');
  }

  private async apply(id: string, version: number, raw: Record<string, unknown>, source: VersionSource): Promise<void> {
    const system = await this.validate(id, raw, source);
    const systems = new Map(this.current.systems);
    systems.set(id, system);
    this.current = { ...this.current, systems };
    this.versions.set(id, version);
    this.sources.set(id, source);
    this.raws.set(id, raw);
    if (this.failed.delete(id)) await this.options.redis.hdel(this.applyErrorsKey(id), this.processName);
    for (const listener of this.listeners) listener(system);
  }

  private async stored(systemId: string): Promise<StoredVersion | undefined> {
    const json = await this.options.redis.hget(this.key, systemId);
    return json === null ? undefined : (JSON.parse(json) as StoredVersion);
  }

  /** Applies the versions stored in Redis that are newer than ours. */
  async refresh(): Promise<void> {
    const stored = await this.options.redis.hgetall(this.key);
    for (const [id, json] of Object.entries(stored)) {
      if (!this.current.systems.has(id)) continue;
      const entry = JSON.parse(json) as StoredVersion;
      if (entry.version <= this.version(id) || this.failed.get(id) === entry.version) continue;
      try {
        await this.apply(id, entry.version, entry.raw, entry.source ?? 'api');
        this.options.log.info({ systemId: id, version: entry.version, by: entry.by }, 'system configuration version applied');
      } catch (err) {
        // Valid where it was stored, invalid here (this process's egress rules, a WSDL only the
        // other has, a variable it lacks): keep the version in use, and say so where ops look.
        const message = err instanceof SystemConfigInvalid ? err.issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ') : (err as Error).message;
        this.failed.set(id, entry.version);
        this.options.log.error({ systemId: id, version: entry.version, kept: this.version(id), err: message }, 'stored system configuration does not apply here; the previous version is kept');
        const report: ApplyError = { version: entry.version, process: this.processName, message: message.slice(0, 1000), at: this.now() };
        await this.options.redis.hset(this.applyErrorsKey(id), this.processName, JSON.stringify(report));
      }
    }
  }

  /**
   * The systems whose stored version differs from this process's file: the stored version is the
   * one used (until `reset`), which whoever edited the file should hear about at start-up.
   */
  async differingFromFiles(): Promise<Array<{ systemId: string; version: number; source: VersionSource; by: string; at: string }>> {
    const stored = await this.options.redis.hgetall(this.key);
    return Object.entries(stored)
      .filter(([id]) => this.files.systems.has(id))
      .map(([id, json]) => ({ id, entry: JSON.parse(json) as StoredVersion }))
      .filter(({ id, entry }) => !sameContent(entry.raw, this.files.sources.get(id) ?? {}))
      .map(({ id, entry }) => ({ systemId: id, version: entry.version, source: entry.source ?? 'api', by: entry.by, at: entry.at }));
  }

  /** What the processes that could not apply a version of this system reported. */
  async applyErrors(systemId: string): Promise<ApplyError[]> {
    const reports = Object.values(await this.options.redis.hgetall(this.applyErrorsKey(systemId))).map((j) => JSON.parse(j) as ApplyError);
    return reports.sort((a, b) => b.version - a.version || a.process.localeCompare(b.process));
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

  /** Version 1 is the file each process started from; it is never stored. */
  private fileVersion(systemId: string): StoredVersion {
    return { version: 1, raw: this.files.sources.get(systemId) ?? {}, at: this.startedAt, by: 'file', source: 'file', summary: 'the configuration file' };
  }

  private async storedVersions(systemId: string): Promise<StoredVersion[]> {
    const all = Object.values(await this.options.redis.hgetall(this.historyKey(systemId))).map((j) => JSON.parse(j) as StoredVersion);
    // The latest version, when it was stored before versions kept a history.
    const latest = await this.stored(systemId);
    if (latest && !all.some((v) => v.version === latest.version)) all.push(latest);
    if (!all.some((v) => v.version === 1)) all.push(this.fileVersion(systemId));
    return all.sort((a, b) => b.version - a.version);
  }

  /** Every version, newest first, with what each changed, and any process that could not apply it. */
  async history(systemId: string): Promise<VersionInfo[]> {
    const errors = await this.applyErrors(systemId);
    return (await this.storedVersions(systemId)).map((v) => {
      const failed = errors.filter((e) => e.version === v.version);
      return {
        version: v.version,
        at: v.at,
        who: v.by,
        source: v.source ?? 'api',
        summary: v.summary ?? '',
        ...(v.reason ? { reason: v.reason } : {}),
        ...(failed.length ? { applyError: failed.map((e) => `${e.process}: ${e.message}`).join('\n') } : {}),
      };
    });
  }

  /** One version's content, unredacted (callers redact it before answering). */
  async versionContent(systemId: string, version: number): Promise<{ info: VersionInfo; raw: Record<string, unknown> } | undefined> {
    const found = (await this.storedVersions(systemId)).find((v) => v.version === version);
    if (!found) return undefined;
    const info = (await this.history(systemId)).find((v) => v.version === version)!;
    return { info, raw: found.raw };
  }

  /** Validates and stores a new version of a system; this process uses it at once, the others soon. */
  async put(systemId: string, raw: Record<string, unknown>, by: string, options: PutOptions = {}): Promise<ShownVersion> {
    // Made on top of the version stored in Redis (the one every process is moving to), whatever
    // this process has applied so far.
    const latest = await this.stored(systemId);
    const base = latest?.version ?? 1;
    if (options.expected !== undefined && options.expected !== base) throw new VersionMismatch(base, options.expected);
    const previous = latest?.raw ?? this.files.sources.get(systemId) ?? {};
    const next = structuredClone(raw);
    const kept = restoreRedacted(next, previous, `systems/${systemId}`);
    const source = options.source ?? 'api';
    await this.validate(systemId, next, source);
    if (kept.length > 0) throw new SystemConfigInvalid(kept);
    const version = base + 1;
    const change = describeChange(previous, next);
    const entry: StoredVersion = { version, raw: next, at: this.now(), by, source, summary: options.summary ? `${options.summary}: ${change}` : change, ...(options.reason ? { reason: options.reason } : {}) };
    const current = Number(await this.scripts.run('store-version', [this.key], [systemId, base, JSON.stringify(entry)]));
    if (current !== 0) {
      if (options.expected !== undefined) throw new VersionMismatch(current, options.expected);
      throw new VersionConflict(current);
    }
    // After the compare-and-set, in its own slot (Cluster): were this lost in a crash, the history
    // still lists the version, read from the stored versions hash (storedVersions).
    await this.options.redis.hset(this.historyKey(systemId), String(version), JSON.stringify(entry));
    await this.apply(systemId, version, next, source);
    return { version, source, system: redact(next) };
  }
}
