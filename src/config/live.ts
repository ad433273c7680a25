/**
 * The configuration a running gateway uses: the files it started with, plus the system versions ops
 * have stored since (PUT /api/v1/admin/systems/:id). Versions live in Redis, so every gateway process
 * on the same Redis picks a new one up within a couple of seconds, and a restart keeps it.
 */
import path from 'node:path';
import type { Logger } from '../platform/logger';
import { LuaScripts } from '../platform/lua';
import { redactUrl } from '../platform/privacy';
import type { RedisClient } from '../platform/redis';
import { keyPath } from '../platform/errors';
import { parseSystem, trialRun, type ConfigIssue, type GatewayConfig } from './loader';
import type { SystemConfig } from './schema';

/** Written in place of a secret when a system is shown; sent back unchanged, it keeps the secret. */
export const REDACTED = '[redacted]';

const SECRET_PATHS: ReadonlyArray<readonly string[]> = [
  ['auth', 'token'],
  ['auth', 'password'],
  ['auth', 'secret'],
  ['result', 'inboundToken'],
];

interface StoredVersion {
  version: number;
  /** The system file as ops sent it (`${ENV}` references unexpanded, so no secret is stored twice). */
  raw: Record<string, unknown>;
  at: string;
  by: string;
}

/** Another process stored a newer version first. */
export class VersionConflict extends Error {
  constructor(readonly current: number) {
    super(`version ${current} was stored meanwhile; fetch it and try again`);
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
 * `${NAME}` belongs to the files (CONTRACT §3): a version stored through the API that could name a
 * variable would let any admin read the process environment. The one exception is a secret sent
 * back as shown (redacted): it keeps the file's own reference, unchanged, at its own place.
 */
function environmentReferences(raw: unknown, fileRaw: Record<string, unknown>, file: string, at: Array<string | number> = []): ConfigIssue[] {
  if (typeof raw === 'string') {
    if (!raw.includes('${')) return [];
    const keptFromFile = SECRET_PATHS.some((p) => p.join('.') === at.join('.')) && getPath(fileRaw, at.map(String)) === raw;
    return keptFromFile ? [] : [{ file, path: keyPath(at), message: '${…} environment references are read from configuration files only; send the value itself' }];
  }
  if (Array.isArray(raw)) return raw.flatMap((v, i) => environmentReferences(v, fileRaw, file, [...at, i]));
  if (raw && typeof raw === 'object') return Object.entries(raw).flatMap(([k, v]) => environmentReferences(v, fileRaw, file, [...at, k]));
  return [];
}

/** URLs that may carry a password or a token in their query. */
const URL_PATHS: ReadonlyArray<readonly string[]> = [['endpoint'], ['result', 'poll', 'endpoint'], ['soap', 'wsdl']];

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
function restoreRedacted(next: Record<string, unknown>, previous: Record<string, unknown>): void {
  for (const path of SECRET_PATHS) if (getPath(next, path) === REDACTED) setPath(next, path, getPath(previous, path));
  for (const path of URL_PATHS) {
    const before = getPath(previous, path);
    if (typeof before === 'string' && before !== redactUrl(before) && getPath(next, path) === redactUrl(before)) setPath(next, path, before);
  }
}

export interface LiveConfigOptions {
  redis: RedisClient;
  prefix: string;
  env: Env;
  log: Logger;
  /** How often to look for versions stored by other processes (default 2 s). */
  refreshMs?: number;
}

export class LiveConfig {
  private current: GatewayConfig;
  private readonly versions = new Map<string, number>();
  /** The raw form of each system's current version (the file's content, or what ops stored). */
  private readonly raws = new Map<string, Record<string, unknown>>();
  private timer?: NodeJS.Timeout;
  private readonly listeners: Array<(system: SystemConfig) => void> = [];
  private readonly scripts: LuaScripts<'store-version'>;

  constructor(
    /** The configuration read from the files: a stored version may keep only their `${ENV}` references. */
    private readonly files: GatewayConfig,
    private readonly options: LiveConfigOptions,
  ) {
    this.current = files;
    this.scripts = new LuaScripts(options.redis, path.join(__dirname, 'lua'), ['store-version']);
    for (const id of files.systems.keys()) {
      this.versions.set(id, 1);
      this.raws.set(id, files.sources.get(id) ?? {});
    }
  }

  private get key(): string {
    return `${this.options.prefix}:config:systems`;
  }

  get(): GatewayConfig {
    return this.current;
  }

  version(systemId: string): number {
    return this.versions.get(systemId) ?? 0;
  }

  /** Called with each system whose version changed (workers adjust concurrency and limits). */
  onChange(listener: (system: SystemConfig) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Checks a version ops stored: its schema, expressions (compiled and test-run on a sample case),
   * endpoints (egress), and that it reads no environment variable.
   */
  private async validate(id: string, raw: Record<string, unknown>): Promise<SystemConfig> {
    const file = `systems/${id}`;
    const issues = environmentReferences(raw, this.files.sources.get(id) ?? {}, file);
    const system = parseSystem(raw, file, this.options.env, this.current.gateway, issues);
    if (system && system.id !== id) issues.push({ file, path: 'id', message: `must be ${id}` });
    if (system && issues.length === 0) issues.push(...(await trialRun(system, file, this.current.gateway)));
    if (!system || issues.length > 0) throw new SystemConfigInvalid(issues);
    return system;
  }

  private async apply(id: string, version: number, raw: Record<string, unknown>): Promise<void> {
    const system = await this.validate(id, raw);
    const systems = new Map(this.current.systems);
    systems.set(id, system);
    this.current = { ...this.current, systems };
    this.versions.set(id, version);
    this.raws.set(id, raw);
    for (const listener of this.listeners) listener(system);
  }

  /** Applies the versions stored in Redis that are newer than ours. */
  async refresh(): Promise<void> {
    const stored = await this.options.redis.hgetall(this.key);
    for (const [id, json] of Object.entries(stored)) {
      if (!this.current.systems.has(id)) continue;
      const entry = JSON.parse(json) as StoredVersion;
      if (entry.version <= this.version(id)) continue;
      try {
        await this.apply(id, entry.version, entry.raw);
        this.options.log.info({ systemId: id, version: entry.version, by: entry.by }, 'system configuration version applied');
      } catch (err) {
        // Valid when stored, invalid here: an environment variable this process lacks. Keep the old one.
        this.options.log.error({ systemId: id, version: entry.version, err: (err as Error).message }, 'stored system configuration does not apply here');
      }
    }
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
  show(systemId: string): { version: number; system: Record<string, unknown> } | undefined {
    const raw = this.raws.get(systemId);
    return raw ? { version: this.version(systemId), system: redact(raw) } : undefined;
  }

  /** Validates and stores a new version of a system; this process uses it at once, the others soon. */
  async put(systemId: string, raw: Record<string, unknown>, by: string): Promise<{ version: number; system: Record<string, unknown> }> {
    const previous = this.raws.get(systemId) ?? {};
    const next = structuredClone(raw);
    restoreRedacted(next, previous);
    await this.validate(systemId, next);
    await this.refresh();
    const version = this.version(systemId) + 1;
    const entry: StoredVersion = { version, raw: next, at: new Date().toISOString(), by };
    const current = Number(await this.scripts.run('store-version', [this.key], [systemId, version - 1, JSON.stringify(entry)]));
    if (current !== 0) throw new VersionConflict(current);
    await this.apply(systemId, version, next);
    return { version, system: redact(next) };
  }
}
