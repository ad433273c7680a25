/**
 * Versions of one kind of configuration document, kept in Redis so that every gateway process on it
 * reads the same ones: the latest version of each document (a system file per system id, the
 * routing table) in one hash, every version in a history hash of its own, and what the processes
 * that could not apply a version reported. A version is stored only on top of the one it was made
 * from (store-version.lua), so two editors never both make "version 3".
 */
import path from 'node:path';
import { LuaScripts } from '../platform/lua';
import type { RedisClient } from '../platform/redis';

/** Where a version's content came from: a configuration file (the start, a reset, a reload) or ops through the API. */
export type VersionSource = 'file' | 'api';

export interface StoredVersion {
  version: number;
  /** The document as written (`${ENV}` references unexpanded, so no secret is stored twice). */
  raw: Record<string, unknown>;
  at: string;
  by: string;
  /** Absent in versions stored before versions had a source: those came through the API. */
  source?: VersionSource;
  /** The top-level keys it changed, e.g. "changed request, timeoutMs". */
  summary?: string;
  reason?: string;
  /** This version removed the system: it has no content, and the system runs nowhere until added again. */
  removed?: boolean;
}

/** One version as the history lists it (no content). */
export interface VersionInfo {
  version: number;
  at: string;
  who: string;
  source: VersionSource;
  summary: string;
  reason?: string;
  /** This version removed the system. */
  removed?: boolean;
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

export interface VersionKeys {
  /** The hash of every document's latest version, by field. */
  latest: string;
  /** The hash of one document's versions, by version number. */
  history(field: string): string;
  /** The hash of one document's apply errors, by process. */
  applyErrors(field: string): string;
}

export class VersionStore {
  private readonly scripts: LuaScripts<'store-version'>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: VersionKeys,
  ) {
    this.scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['store-version']);
  }

  async latest(field: string): Promise<StoredVersion | undefined> {
    const json = await this.redis.hget(this.keys.latest, field);
    return json === null ? undefined : (JSON.parse(json) as StoredVersion);
  }

  /** Every document's latest version, by field. */
  async everyLatest(): Promise<Array<[string, StoredVersion]>> {
    return Object.entries(await this.redis.hgetall(this.keys.latest)).map(([field, json]) => [field, JSON.parse(json) as StoredVersion]);
  }

  /**
   * Stores `entry` on top of `seen`, the version stored as the caller saw it (0: none yet); a
   * VersionConflict names the one stored meanwhile.
   */
  async store(field: string, seen: number, entry: StoredVersion): Promise<void> {
    const current = Number(await this.scripts.run('store-version', [this.keys.latest], [field, seen, JSON.stringify(entry)]));
    if (current !== -1) throw new VersionConflict(current);
    // After the compare-and-set, in its own slot (Cluster): were this lost in a crash, the history
    // still lists the version, read from the latest versions hash (see versions()).
    await this.redis.hset(this.keys.history(field), String(entry.version), JSON.stringify(entry));
  }

  /**
   * Every version of a document, newest first. `first` is version 1 where it was never stored: the
   * file each process started from.
   */
  async versions(field: string, first?: StoredVersion): Promise<StoredVersion[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.history(field))).map((j) => JSON.parse(j) as StoredVersion);
    // The latest version, when it was stored before versions kept a history.
    const latest = await this.latest(field);
    if (latest && !all.some((v) => v.version === latest.version)) all.push(latest);
    if (first && !all.some((v) => v.version === 1)) all.push(first);
    return all.sort((a, b) => b.version - a.version);
  }

  /** Every version, newest first, with what each changed, and any process that could not apply it. */
  async history(field: string, first?: StoredVersion): Promise<VersionInfo[]> {
    const errors = await this.applyErrors(field);
    return (await this.versions(field, first)).map((v) => {
      const failed = errors.filter((e) => e.version === v.version);
      return {
        version: v.version,
        at: v.at,
        who: v.by,
        source: v.source ?? 'api',
        summary: v.summary ?? '',
        ...(v.reason ? { reason: v.reason } : {}),
        ...(v.removed ? { removed: true } : {}),
        ...(failed.length ? { applyError: failed.map((e) => `${e.process}: ${e.message}`).join('\n') } : {}),
      };
    });
  }

  /** One version's content as stored (callers redact what they answer), with its history entry. */
  async content(field: string, version: number, first?: StoredVersion): Promise<{ info: VersionInfo; raw: Record<string, unknown>; removed: boolean } | undefined> {
    const found = (await this.versions(field, first)).find((v) => v.version === version);
    if (!found) return undefined;
    const info = (await this.history(field, first)).find((v) => v.version === version)!;
    return { info, raw: found.raw, removed: Boolean(found.removed) };
  }

  /** What the processes that could not apply a version of this document reported, newest version first. */
  async applyErrors(field: string): Promise<ApplyError[]> {
    const reports = Object.values(await this.redis.hgetall(this.keys.applyErrors(field))).map((j) => JSON.parse(j) as ApplyError);
    return reports.sort((a, b) => b.version - a.version || a.process.localeCompare(b.process));
  }

  async reportApplyError(field: string, report: ApplyError): Promise<void> {
    await this.redis.hset(this.keys.applyErrors(field), report.process, JSON.stringify(report));
  }

  async clearApplyError(field: string, processName: string): Promise<void> {
    await this.redis.hdel(this.keys.applyErrors(field), processName);
  }
}
