/**
 * The seal keys: one folder, one key per keyId.
 *
 *   <keyId>.key.pem    PKCS#8 private key (SM2 or Ed25519), mode 0600: signs
 *   <keyId>.pub.json   {keyId, alg, status, createdAt, retiredAt?, publicKeyPem, publicKeyHex?}: what
 *                      GET /api/v1/seal/keys shows. Alone (no .key.pem) it is a verify-only key,
 *                      e.g. a retired key whose private half was destroyed.
 *
 * The folder is $OW_DATA_DIR/seal (generated keys, rotated with `npm run seal -- rotate`), or one
 * the operator provides (seal.keysDir / OW_SEAL_KEYS_DIR, e.g. a mounted secret), which the
 * gateway only reads. At most one key is active: the newest active key signs; every other key
 * verifies only. Files are written to a dot-named temporary file first and then linked or
 * renamed into place, so a reader (another gateway process) never sees half a key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Logger } from '../platform/logger';
import { generateKey, KeyFormatError, materialFromPrivatePem, materialFromPublicPem, type KeyMaterial } from './algorithms';
import { SEAL_ALGORITHMS, type SealAlgorithm } from './config';

export type KeyStatus = 'active' | 'retired';

/** A key as the world may see it. */
export interface SealKeyInfo {
  keyId: string;
  alg: SealAlgorithm;
  publicKeyPem: string;
  publicKeyHex?: string;
  status: KeyStatus;
  createdAt: string;
  /** When it stopped signing: seals it says it issued later are not valid. */
  retiredAt?: string;
}

export interface SealKey extends SealKeyInfo {
  material: KeyMaterial;
}

/** A key this process can sign with. */
export type SigningKey = SealKey & { material: KeyMaterial & Required<Pick<KeyMaterial, 'signer'>> };

/** A key id is also a file name, so it is kept to a safe alphabet. */
export const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const publicFileSchema = z
  .strictObject({
    keyId: z.string().regex(KEY_ID),
    alg: z.enum(SEAL_ALGORITHMS),
    status: z.enum(['active', 'retired']).default('active'),
    createdAt: z.iso.datetime({ offset: true }),
    retiredAt: z.iso.datetime({ offset: true }).optional(),
    publicKeyPem: z.string().min(1),
    publicKeyHex: z.string().regex(/^04[0-9a-f]{128}$/).optional(),
  })
  .refine((info) => info.status !== 'retired' || info.retiredAt !== undefined, {
    path: ['retiredAt'],
    message: 'a retired key must say when it was retired (seals it says it issued later are refused)',
  });

export class KeyringError extends Error {
  override name = 'KeyringError';
}

export interface KeyringOptions {
  dir: string;
  /** The algorithm new seals are signed with. */
  algorithm: SealAlgorithm;
  /** May write to the folder (generate, rotate). False for a folder the operator provides. */
  writable: boolean;
  /** Make a key of `algorithm` when there is no active one (needs `writable`). */
  generate: boolean;
  /** How often to look for keys rotated by another process (default 5 s). */
  refreshMs?: number;
  log?: Logger;
  now?: () => Date;
}

/** Told when the key that signs new seals changes (generated, rotated here or by another process). */
export type ActiveKeyListener = (key: { keyId: string; alg: SealAlgorithm }) => void;

function timestamp(at: Date): string {
  return DateTime.fromJSDate(at).setZone('Asia/Shanghai').toISO({ suppressMilliseconds: true }) as string;
}

/** a, b, …, z, aa, ab, …: the suffix of the n-th key made in a month. */
function letters(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  return n < 26 ? alphabet[n] : letters(Math.floor(n / 26) - 1) + alphabet[n % 26];
}

/** Writes a file so that it appears whole or not at all; `exclusive` fails if it exists already. */
function writeWhole(file: string, content: string, mode: number, exclusive: boolean): boolean {
  const tmp = path.join(path.dirname(file), `.tmp-${crypto.randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (!exclusive) {
      fs.renameSync(tmp, file);
      return true;
    }
    try {
      fs.linkSync(tmp, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

interface FileStamp {
  mtimeMs: number;
  size: number;
}

export class Keyring {
  private keys = new Map<string, SealKey>();
  private stamps = new Map<string, FileStamp>();
  private lastScan = 0;
  private readonly listeners: ActiveKeyListener[] = [];
  private announced?: string;
  private readonly now: () => Date;
  private readonly refreshMs: number;

  constructor(private readonly options: KeyringOptions) {
    this.now = options.now ?? (() => new Date());
    this.refreshMs = options.refreshMs ?? 5000;
    if (options.writable) fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    else if (!fs.existsSync(options.dir)) throw new KeyringError(`the seal keys folder ${options.dir} does not exist`);
    const problems = this.scan();
    if (problems.length > 0) throw new KeyringError(`seal keys in ${options.dir}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    if (options.generate && !this.signingKey()) {
      const made = this.rotate();
      options.log?.info({ keyId: made.keyId, alg: made.alg, dir: options.dir }, 'seal key generated');
    }
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Calls `listener` whenever another key becomes the one that signs (not for the current one). */
  onActiveKey(listener: ActiveKeyListener): void {
    this.announced ??= this.signingKey()?.keyId;
    this.listeners.push(listener);
  }

  private announce(): void {
    const key = this.signingKey();
    if (!key || key.keyId === this.announced) return;
    const first = this.announced === undefined;
    this.announced = key.keyId;
    if (!first) for (const listener of this.listeners) listener({ keyId: key.keyId, alg: key.alg });
  }

  /** Every key, oldest first, with its effective status. */
  list(): SealKeyInfo[] {
    this.maybeRefresh(this.refreshMs);
    const signing = this.signingKey();
    return [...this.keys.values()]
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.keyId.localeCompare(b.keyId))
      .map((k) => ({
        keyId: k.keyId,
        alg: k.alg,
        publicKeyPem: k.publicKeyPem,
        ...(k.publicKeyHex ? { publicKeyHex: k.publicKeyHex } : {}),
        status: k === signing ? 'active' : 'retired',
        createdAt: k.createdAt,
        ...(k.retiredAt ? { retiredAt: k.retiredAt } : {}),
      }));
  }

  /** The key with this id; an unknown id looks at the folder again (at most once a second). */
  get(keyId: string): SealKey | undefined {
    this.maybeRefresh(this.refreshMs);
    if (!this.keys.has(keyId)) this.maybeRefresh(1000);
    return this.keys.get(keyId);
  }

  /** The key that signs new seals. */
  active(): SigningKey {
    this.maybeRefresh(this.refreshMs);
    let key = this.signingKey();
    if (!key && this.options.generate) {
      this.rotate();
      key = this.signingKey();
    }
    if (!key?.material.signer) throw new KeyringError(`no active ${this.options.algorithm} seal key with its private key in ${this.options.dir}`);
    return key as SigningKey;
  }

  /**
   * Makes a new active key of the configured algorithm and retires every other: seals already issued
   * keep verifying with the retired keys. A key of another algorithm is refused: every gateway would
   * find no active key of its algorithm and make one within seconds, undoing the rotation.
   */
  rotate(alg: SealAlgorithm = this.options.algorithm): SealKeyInfo {
    if (!this.options.writable) throw new KeyringError(`the seal keys in ${this.options.dir} are provided by the operator; rotate them there`);
    if (alg !== this.options.algorithm) {
      throw new KeyringError(
        `cannot make a ${alg} key: the configured seal algorithm is ${this.options.algorithm} (seal.algorithm in gateway.yaml), so gateways would replace it with a new ${this.options.algorithm} key within seconds; set seal.algorithm to ${alg} first, then rotate`,
      );
    }
    this.scan();
    const at = this.now();
    const month = DateTime.fromJSDate(at).setZone('Asia/Shanghai').toFormat('yyyy-MM');
    const { material, privateKeyPem } = generateKey(alg);
    let keyId = '';
    for (let n = 0; ; n++) {
      keyId = `ow-${month}-${letters(n)}`;
      if (this.keys.has(keyId) || fs.existsSync(this.publicFile(keyId))) continue;
      // Exclusive: two processes starting together on an empty folder end up with one key.
      if (writeWhole(this.privateFile(keyId), privateKeyPem, 0o600, true)) break;
    }
    const createdAt = timestamp(at);
    const key: SealKey = { keyId, alg, publicKeyPem: material.publicKeyPem, publicKeyHex: material.publicKeyHex, status: 'active', createdAt, material };
    this.writePublic(key);
    for (const other of this.keys.values()) {
      if (other.status !== 'active') continue;
      this.writePublic({ ...other, status: 'retired', retiredAt: createdAt });
    }
    this.scan();
    this.announce();
    return this.list().find((k) => k.keyId === keyId) as SealKeyInfo;
  }

  /** Looks at the folder now (after adding a key file by hand, say); answers the files skipped. */
  refresh(): string[] {
    return this.scan();
  }

  /** Looks at the folder again when the last look is older than `maxAgeMs`. */
  private maybeRefresh(maxAgeMs: number): void {
    if (Date.now() - this.lastScan < maxAgeMs) return;
    const problems = this.scan();
    // A bad file found while running keeps the keys already known; it is fixed by the operator.
    for (const problem of problems) this.options.log?.warn({ dir: this.options.dir, problem }, 'seal key file skipped');
    this.announce();
  }

  private signingKey(): SealKey | undefined {
    let best: SealKey | undefined;
    for (const key of this.keys.values()) {
      if (key.status !== 'active' || key.alg !== this.options.algorithm || !key.material.signer) continue;
      if (!best || Date.parse(key.createdAt) > Date.parse(best.createdAt)) best = key;
    }
    return best;
  }

  private privateFile(keyId: string): string {
    return path.join(this.options.dir, `${keyId}.key.pem`);
  }

  private publicFile(keyId: string): string {
    return path.join(this.options.dir, `${keyId}.pub.json`);
  }

  private writePublic(key: SealKey): void {
    const body = {
      keyId: key.keyId,
      alg: key.alg,
      status: key.status,
      createdAt: key.createdAt,
      ...(key.retiredAt ? { retiredAt: key.retiredAt } : {}),
      publicKeyPem: key.publicKeyPem,
      ...(key.publicKeyHex ? { publicKeyHex: key.publicKeyHex } : {}),
    };
    writeWhole(this.publicFile(key.keyId), `${JSON.stringify(body, null, 2)}\n`, 0o644, false);
  }

  /** Reads every changed key file; answers the problems found, one line each. */
  private scan(): string[] {
    this.lastScan = Date.now();
    const problems: string[] = [];
    const ids = new Set<string>();
    let names: string[];
    try {
      names = fs.readdirSync(this.options.dir);
    } catch (err) {
      // The folder went away (an unmounted secret): keep verifying with the keys already read.
      return [`cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`];
    }
    for (const name of names) {
      const match = /^(.+)\.(key\.pem|pub\.json)$/.exec(name);
      if (!match || name.startsWith('.')) continue;
      if (!KEY_ID.test(match[1])) {
        problems.push(`${name}: a key id must match ${KEY_ID.source}`);
        continue;
      }
      ids.add(match[1]);
    }
    for (const keyId of [...this.keys.keys()]) if (!ids.has(keyId)) this.keys.delete(keyId);
    for (const keyId of ids) {
      const stamp = this.stampOf(keyId);
      const known = this.stamps.get(keyId);
      if (known && this.keys.has(keyId) && known.mtimeMs === stamp.mtimeMs && known.size === stamp.size) continue;
      try {
        this.keys.set(keyId, this.load(keyId));
        this.stamps.set(keyId, stamp);
      } catch (err) {
        if (!(err instanceof KeyFormatError || err instanceof z.ZodError || err instanceof SyntaxError)) throw err;
        problems.push(`${keyId}: ${err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.') || '(file)'} ${i.message}`).join('; ') : err.message}`);
      }
    }
    return problems;
  }

  private stampOf(keyId: string): FileStamp {
    let mtimeMs = 0;
    let size = 0;
    for (const file of [this.privateFile(keyId), this.publicFile(keyId)]) {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (stat) {
        mtimeMs = Math.max(mtimeMs, stat.mtimeMs);
        size += stat.size;
      }
    }
    return { mtimeMs, size };
  }

  private load(keyId: string): SealKey {
    const privateFile = this.privateFile(keyId);
    const publicFile = this.publicFile(keyId);
    const hasPrivate = fs.existsSync(privateFile);
    let material: KeyMaterial | undefined;
    if (hasPrivate) {
      const stat = fs.statSync(privateFile);
      if ((stat.mode & 0o077) !== 0) this.options.log?.warn({ keyId, file: privateFile, mode: (stat.mode & 0o777).toString(8) }, 'seal private key file is readable by others; chmod 600 it');
      material = materialFromPrivatePem(fs.readFileSync(privateFile, 'utf8'));
    }
    if (!fs.existsSync(publicFile)) {
      if (!material) throw new KeyFormatError('no key file');
      // A provided key without its public file: active, made when the file was.
      const createdAt = timestamp(fs.statSync(privateFile).mtime);
      return { keyId, alg: material.alg, publicKeyPem: material.publicKeyPem, publicKeyHex: material.publicKeyHex, status: 'active', createdAt, material };
    }
    const info = publicFileSchema.parse(JSON.parse(fs.readFileSync(publicFile, 'utf8')));
    if (info.keyId !== keyId) throw new KeyFormatError(`${path.basename(publicFile)} names key ${info.keyId}`);
    const fromPublic = materialFromPublicPem(info.publicKeyPem);
    if (material && material.publicKeyPem !== fromPublic.publicKeyPem) throw new KeyFormatError('the public key file does not match the private key');
    material ??= fromPublic;
    if (material.alg !== info.alg) throw new KeyFormatError(`the key is ${material.alg}, its public file says ${info.alg}`);
    if (info.publicKeyHex && info.publicKeyHex !== material.publicKeyHex) throw new KeyFormatError('publicKeyHex does not match publicKeyPem');
    return { ...info, publicKeyPem: material.publicKeyPem, publicKeyHex: material.publicKeyHex, material };
  }
}
