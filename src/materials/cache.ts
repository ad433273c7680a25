/**
 * Fetching a case's materials: at delivery, streamed from its material store (or, for a look-up
 * document, from where the look-up's answer is kept), verified against the `sha256` and `size` the
 * case gave while the bytes go by, and kept in a content-addressed cache under OW_DATA_DIR
 * (`materials/cases/<caseId>/<sha256>`), so that a case fanned out to several systems is fetched
 * once. Which bytes a material turned out to be is recorded in Redis beside the case (one hash,
 * `<prefix>:{caseId}:materials`, gone with the case); a Redis lock per material makes one fetch of
 * it at a time across every process, and a file appears under its name only whole (a rename).
 * The cache is bounded in bytes: the cases least recently used go first; a case's files go when the
 * case leaves Redis.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { failureCode, outboundAgent } from '../../adapters/http';
import type { Case, Material } from '../cases/model';
import type { GatewayConfig } from '../config/loader';
import { egressRefusal } from '../config/egress';
import type { MaterialStore } from '../config/schema';
import { replyLimit as byteCount } from '../delivery/endpoints';
import { PermanentError, RetryableError, errorMessage } from '../platform/failure';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis';
import { jcsBytes } from '../seal/canonical';
import { sm3Hasher } from '../seal/algorithms';
import type { Seal } from '../seal';
import type { LookupDocuments } from './lookup-documents';
import { materialRecordField } from './record';
import { readMaterialUri, storeUrl, withinStore } from './uri';

/** A material as fetched: its bytes in a file of the cache, and what they are. */
export interface FetchedMaterial {
  /** Its place in the case's `materials`. */
  index: number;
  kind: string;
  name: string;
  mime: string;
  size: number;
  sha256: string;
  sm3: string;
  file: string;
  /** A look-up document's own seal (its digest covers these very bytes: the document's JCS form). */
  seal?: Seal;
}

/** What Redis keeps of a fetched material: which bytes it turned out to be. */
interface Fetched {
  size: number;
  sha256: string;
  sm3: string;
  mime: string;
}

/** The bytes fetched are not those the case vouched for: refused for good, and audited. */
export class MaterialAlteredError extends PermanentError {
  constructor(
    readonly material: { index: number; kind: string; name: string },
    readonly detail: string,
  ) {
    super(`material altered: materials[${material.index}] (${material.kind}) ${detail}`);
  }
}

/** A material store that failed to hand a material over: retried like any retryable failure, the system not blamed. */
export class MaterialStoreError extends RetryableError {}

export interface MaterialCacheDeps {
  dataDir: string;
  redis: RedisClient;
  config: () => GatewayConfig;
  lookupDocuments?: LookupDocuments;
  /** The case store's key for what was fetched for a case (it goes with the case's other keys). */
  recordKey: (caseId: string) => string;
  log: Logger;
  /** Told of every fetch from a store (metrics, tests). */
  onFetch?: (storeId: string, outcome: 'fetched' | 'failed' | 'altered', bytes: number) => void;
}

const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const REDIRECTS = 5;
const WAIT_STEP_MS = 100;

export class MaterialCache {
  private readonly root: string;
  /** Files being read by deliveries in this process, which eviction leaves alone. */
  private readonly inUse = new Map<string, number>();
  private evicting?: Promise<void>;
  /** One keep-alive pool for the material stores, through a proxy as deliveries go. */
  private readonly stores = outboundAgent();

  constructor(private readonly deps: MaterialCacheDeps) {
    this.root = path.resolve(deps.dataDir, 'materials');
  }

  /** Ends the connections to the material stores. */
  async close(): Promise<void> {
    await this.stores.close();
  }

  private recordKey(caseId: string): string {
    return this.deps.recordKey(caseId);
  }

  private caseDir(caseId: string): string {
    return path.join(this.root, 'cases', caseId);
  }

  /**
   * The materials of `kase` at `indexes`, each fetched (once per case) and verified. Rejects with
   * a MaterialAlteredError, a MaterialStoreError, or a PermanentError for a material that cannot be
   * fetched at all (its store gone from the configuration, too large).
   */
  async fetch(kase: Case, indexes: number[], maxBytes?: number): Promise<FetchedMaterial[]> {
    const out: FetchedMaterial[] = [];
    for (const index of indexes) out.push(await this.one(kase, index, maxBytes));
    return out;
  }

  /** Marks files as read by a delivery until `release` (so eviction spares them). */
  hold(files: FetchedMaterial[]): () => void {
    for (const f of files) this.inUse.set(f.file, (this.inUse.get(f.file) ?? 0) + 1);
    return () => {
      for (const f of files) {
        const n = (this.inUse.get(f.file) ?? 1) - 1;
        if (n <= 0) this.inUse.delete(f.file);
        else this.inUse.set(f.file, n);
      }
    };
  }

  /** Forgets a case that has left Redis: its record key and its files on this host. */
  async forget(caseId: string): Promise<void> {
    await this.deps.redis.del(this.recordKey(caseId));
    await fs.promises.rm(this.caseDir(caseId), { recursive: true, force: true });
  }

  private async one(kase: Case, index: number, maxBytes?: number): Promise<FetchedMaterial> {
    const material = kase.materials[index]!;
    const key = this.recordKey(kase.caseId);
    const field = materialRecordField(index, material);
    const lock = `${key}:lock:${field}`;
    const reading = readMaterialUri(material.uri, this.deps.config().gateway.materials);
    if (!reading.ok) throw new PermanentError(`materials[${index}] (${material.kind}) cannot be fetched: ${reading.reason}`);
    const source = reading.source;
    const store = source.kind === 'store' ? this.deps.config().gateway.materials.stores[source.storeId]! : undefined;
    const lookup = source.kind === 'lookup' ? await this.deps.lookupDocuments?.get(source.queryId, source.documentKind) : undefined;
    if (source.kind === 'lookup' && (!lookup || lookup.caseId !== kase.caseId)) throw new PermanentError(`materials[${index}] (${material.kind}): the look-up document is no longer kept`);
    const waitMs = (store?.timeoutMs ?? 10_000) + 30_000;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const known = await this.deps.redis.hget(key, field);
      if (known) {
        const fetched = JSON.parse(known) as Fetched;
        const file = path.join(this.caseDir(kase.caseId), fetched.sha256);
        if (await touch(file)) return this.describe(index, material, fetched, file, lookup?.seal);
      }
      const token = crypto.randomUUID();
      if ((await this.deps.redis.set(lock, token, 'PX', waitMs, 'NX')) === 'OK') {
        try {
          const fetched = source.kind === 'store' ? await this.fromStore(kase.caseId, index, material, source.storeId, store!, source.path, maxBytes) : await this.fromBytes(kase.caseId, index, material, jcsBytes(lookup!.data), 'application/json');
          await this.deps.redis.hset(key, field, JSON.stringify(fetched));
          return this.describe(index, material, fetched, path.join(this.caseDir(kase.caseId), fetched.sha256), lookup?.seal);
        } finally {
          await this.deps.redis.eval(RELEASE_SCRIPT, 1, lock, token).catch(() => undefined);
        }
      }
      // Another delivery of this case is fetching it (here or in another process): wait for it.
      if (Date.now() > deadline) throw new MaterialStoreError(`materials[${index}] (${material.kind}) is still being fetched by another delivery`);
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  private describe(index: number, material: Material, fetched: Fetched, file: string, seal?: Seal): FetchedMaterial {
    return { index, kind: material.kind, name: material.name, mime: material.mime ?? fetched.mime, size: fetched.size, sha256: fetched.sha256, sm3: fetched.sm3, file, ...(seal ? { seal } : {}) };
  }

  /** Bytes already at hand (a look-up document): written to the cache like a fetch. */
  private async fromBytes(caseId: string, index: number, material: Material, bytes: Buffer, mime: string): Promise<Fetched> {
    const { Readable } = await import('node:stream');
    return this.write(caseId, index, material, Readable.from([bytes]), Number.MAX_SAFE_INTEGER, mime);
  }

  private async fromStore(caseId: string, index: number, material: Material, storeId: string, store: MaterialStore, storePath: string, systemMax?: number): Promise<Fetched> {
    const limit = Math.min(byteCount(store.maxBytes), systemMax ?? Number.MAX_SAFE_INTEGER);
    if (material.size !== undefined && material.size > limit) throw new PermanentError(`materials[${index}] (${material.kind}) is ${material.size} bytes, more than the ${limit} taken`);
    const signal = AbortSignal.timeout(store.timeoutMs);
    let url = storeUrl(store.baseUrl, storePath);
    for (let hop = 0; ; hop++) {
      const refusal = egressRefusal(url.toString(), this.deps.config().gateway.egress);
      if (refusal) throw new PermanentError(`materials[${index}] (${material.kind}): store ${storeId} is not fetched from: ${refusal}`);
      let reply;
      try {
        // Not decompressed: no Accept-Encoding is sent, so a store answers with the file's own bytes.
        reply = await request(url, { method: 'GET', signal, headers: { Accept: '*/*', ...storeAuth(store) }, dispatcher: this.stores });
      } catch (err) {
        this.deps.onFetch?.(storeId, 'failed', 0);
        throw new MaterialStoreError(`materials[${index}] (${material.kind}): material store ${storeId} could not be reached (${failureCode(err)})`, undefined, { cause: err });
      }
      const status = reply.statusCode;
      const location = reply.headers.location;
      if (status >= 300 && status < 400 && typeof location === 'string') {
        void reply.body.dump().catch(() => undefined); // read off and dropped: the connection stays reusable
        const next = new URL(location, url);
        // Only within the same store: a redirect elsewhere would let the store (or whoever answers
        // for it) send the gateway anywhere.
        if (!withinStore(store.baseUrl, next)) throw new PermanentError(`materials[${index}] (${material.kind}): material store ${storeId} redirected outside the store; not followed`);
        if (hop >= REDIRECTS) throw new MaterialStoreError(`materials[${index}] (${material.kind}): material store ${storeId} redirected more than ${REDIRECTS} times`);
        url = next;
        continue;
      }
      if (status !== 200) {
        void reply.body.dump().catch(() => undefined); // read off and dropped: the connection stays reusable
        this.deps.onFetch?.(storeId, 'failed', 0);
        if (status === 404 || status === 410) throw new PermanentError(`materials[${index}] (${material.kind}): material store ${storeId} has no such material (HTTP ${status})`);
        if (status >= 500 || status === 408 || status === 429) throw new MaterialStoreError(`materials[${index}] (${material.kind}): material store ${storeId} answered HTTP ${status}`);
        throw new PermanentError(`materials[${index}] (${material.kind}): material store ${storeId} refused it (HTTP ${status})`);
      }
      const announced = Number(reply.headers['content-length']);
      if (Number.isFinite(announced) && announced > limit) {
        void reply.body.dump().catch(() => undefined); // read off and dropped: the connection stays reusable
        throw new PermanentError(`materials[${index}] (${material.kind}) is ${announced} bytes, more than the ${limit} taken`);
      }
      const contentType = reply.headers['content-type'];
      const type = typeof contentType === 'string' ? contentType.split(';')[0]!.trim() : '';
      try {
        const fetched = await this.write(caseId, index, material, reply.body, limit, /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'application/octet-stream');
        this.deps.onFetch?.(storeId, 'fetched', fetched.size);
        return fetched;
      } catch (err) {
        this.deps.onFetch?.(storeId, err instanceof MaterialAlteredError ? 'altered' : 'failed', 0);
        if (err instanceof PermanentError || err instanceof RetryableError) throw err;
        throw new MaterialStoreError(`materials[${index}] (${material.kind}): material store ${storeId} broke off (${errorMessage(err).split('\n')[0]})`, undefined, { cause: err });
      }
    }
  }

  /** Streams `body` into the cache, digesting and counting as it goes; checks it against the case. */
  private async write(caseId: string, index: number, material: Material, body: Readable, limit: number, mime: string): Promise<Fetched> {
    const what = { index, kind: material.kind, name: material.name };
    const sha256 = crypto.createHash('sha256');
    const sm3 = sm3Hasher();
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new PermanentError(`materials[${index}] (${material.kind}) is more than the ${limit} bytes taken`));
        sha256.update(chunk);
        sm3.update(chunk);
        done(null, chunk);
      },
    });
    await fs.promises.mkdir(path.join(this.root, 'tmp'), { recursive: true });
    const tmp = path.join(this.root, 'tmp', `${crypto.randomUUID()}.part`);
    try {
      await pipeline(body, count, fs.createWriteStream(tmp, { mode: 0o600 }));
      const digest = sha256.digest('hex');
      if (material.size !== undefined && material.size !== size) throw new MaterialAlteredError(what, `is ${size} bytes, not the ${material.size} the case gave`);
      if (material.sha256 !== undefined && material.sha256.toLowerCase() !== digest) throw new MaterialAlteredError(what, `has sha256 ${digest.slice(0, 12)}…, not the ${material.sha256.slice(0, 12).toLowerCase()}… the case gave`);
      const dir = this.caseDir(caseId);
      await fs.promises.mkdir(dir, { recursive: true });
      await fs.promises.rename(tmp, path.join(dir, digest));
      this.scheduleEviction();
      return { size, sha256: digest, sm3: sm3.digest(), mime };
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  /** Keeps the cache within `cacheBytes`: whole cases, least recently used first, none a delivery here is reading. */
  private scheduleEviction(): void {
    this.evicting ??= this.evict()
      .catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'material cache eviction failed'))
      .finally(() => (this.evicting = undefined));
  }

  private async evict(): Promise<void> {
    const bound = byteCount(this.deps.config().gateway.materials.cacheBytes);
    const casesDir = path.join(this.root, 'cases');
    const cases: Array<{ dir: string; bytes: number; usedAt: number; busy: boolean }> = [];
    for (const name of await fs.promises.readdir(casesDir).catch(() => [] as string[])) {
      const dir = path.join(casesDir, name);
      let bytes = 0;
      let usedAt = 0;
      let busy = false;
      for (const file of await fs.promises.readdir(dir).catch(() => [] as string[])) {
        const stat = await fs.promises.stat(path.join(dir, file)).catch(() => undefined);
        if (!stat) continue;
        bytes += stat.size;
        usedAt = Math.max(usedAt, stat.mtimeMs);
        busy ||= this.inUse.has(path.join(dir, file));
      }
      cases.push({ dir, bytes, usedAt, busy });
    }
    let total = cases.reduce((sum, c) => sum + c.bytes, 0);
    for (const c of cases.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total <= bound) return;
      if (c.busy) continue;
      await fs.promises.rm(c.dir, { recursive: true, force: true });
      total -= c.bytes;
    }
  }

  /** Waits for an eviction under way (tests). */
  async settled(): Promise<void> {
    await this.evicting;
  }
}

/** The store's credentials as headers: sent to the store only (redirects never leave it). */
function storeAuth(store: MaterialStore): Record<string, string> {
  switch (store.auth.type) {
    case 'bearer':
      return { Authorization: `Bearer ${store.auth.token}` };
    case 'basic':
      return { Authorization: 'Basic ' + Buffer.from(`${store.auth.username}:${store.auth.password}`).toString('base64') };
    default:
      return {};
  }
}

/** Marks a cached file as just used (eviction goes by it); false when it is not there (evicted, another host's). */
async function touch(file: string): Promise<boolean> {
  const now = new Date();
  try {
    await fs.promises.utimes(file, now, now);
    return true;
  } catch {
    return false;
  }
}
