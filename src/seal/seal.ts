/**
 * Making and checking seals (防篡改电子签章): a detached JSON object that says who
 * vouches for a payload (origin), what it may be used for (purpose), until when, and a digest of
 * the payload and of each of its fields, signed with SM2-SM3 or Ed25519.
 */
import crypto from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { DIGEST_OF, digestHex, type DigestAlgorithm, type KeyMaterial } from './algorithms';
import { changedFields, fieldDigests, jcs, jcsBytes, MAX_POINTER_LENGTH, parseJsonPayload } from './canonical';
import { parseDuration, SEAL_ALGORITHMS, type SealAlgorithm, type SealConfig } from './config';
import type { Keyring } from './keys';

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`), `${length} lower-case hex digits`);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64').refine((s) => s.length % 4 === 0, 'base64 (length a multiple of 4)');

/** Bytes of salt before each field digest: enough that no table of phone or ID numbers can be built ahead. */
const SALT_BYTES = 16;

/**
 * The key id of a dry run's seal: it shows what a delivery's seal would say, is not signed, and
 * never verifies. No key file can carry it (a key id has no colon).
 */
export const PREVIEW_KEY_ID = 'preview:dry-run';

/** A seal as it travels; strict, so that what a verifier shows is all that was signed. */
export const sealObjectSchema = z.strictObject({
  v: z.literal(1),
  alg: z.enum(SEAL_ALGORITHMS),
  keyId: z.string().min(1).max(64),
  origin: z.string().max(200),
  purpose: z.string().max(500),
  caseId: z.string().max(200),
  systemId: z.string().max(200),
  issuedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  digestAlg: z.enum(['SM3', 'SHA-256']),
  digest: hex(64),
  // Absent only from seals made before field digests were salted: theirs are digests of the value alone.
  salt: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, `base64 of ${SALT_BYTES} bytes`).optional(),
  fieldDigests: z.record(z.string().max(MAX_POINTER_LENGTH), hex(64)).optional(),
  /** The materials a delivery carried beside its body (inline or attached): each one's digest (digestAlg) of its bytes. */
  materials: z.array(z.strictObject({ kind: z.string().max(64), digest: hex(64) })).max(200).optional(),
  signature: base64.max(256),
});

export type Seal = z.infer<typeof sealObjectSchema>;

/** The fields of a seal that come from its request or its key, under the seal schema's own limits. */
const suppliedSchema = sealObjectSchema.pick({ keyId: true, origin: true, purpose: true, caseId: true, systemId: true, materials: true });

export interface SealRequest {
  /** The bytes exactly as sent (deliveries). */
  payloadBytes?: Uint8Array;
  /** A JSON document (shared data): the payload bytes are its JCS form. */
  document?: unknown;
  /** Default: seal.origin. */
  origin?: string;
  purpose: string;
  caseId: string;
  systemId: string;
  now?: Date;
  /** Leave out `fieldDigests` (a seal that must fit in an HTTP header): the digest still covers every byte. */
  withoutFieldDigests?: boolean;
  /** The materials handed over with the payload: their digests go in the seal. */
  materials?: SealedMaterial[];
}

/** A material a delivery carries, with its bytes' digests in both algorithms (the seal takes its own). */
export interface SealedMaterial {
  kind: string;
  sha256: string;
  sm3: string;
}

export type VerifyReason = 'preview' | 'unknown_key' | 'algorithm_mismatch' | 'bad_signature' | 'retired_key' | 'validity_too_long' | 'payload_changed' | 'expired' | 'not_yet_valid';

export interface Verification {
  valid: boolean;
  keyId: string;
  alg: SealAlgorithm;
  origin: string;
  purpose: string;
  expiresAt: string;
  expired: boolean;
  /** JSON Pointers of the fields that differ from the sealed ones. */
  changed: string[];
  reason?: string;
}

export interface VerifyRequest {
  seal: Seal;
  /** The document (its JCS bytes are checked). */
  payload?: unknown;
  /** Or the exact payload bytes, base64. */
  payloadBase64?: string;
  now?: Date;
}

/**
 * Seals issued a little in the future of the verifier's clock are accepted: clocks drift. So are
 * seals issued a little after their key was retired: other gateways notice a rotation within 5 s.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Changed fields named in one answer; the reason gives their count. */
const MAX_CHANGED_LISTED = 100;

// Seals are stamped in whole seconds, so a busy second asks for the same two stamps many times;
// zone conversion is the costly part of a seal after the signature.
const shanghaiStamps = new Map<number, string>();
function shanghai(at: Date): string {
  const ms = at.getTime();
  let stamp = shanghaiStamps.get(ms);
  if (stamp === undefined) {
    stamp = DateTime.fromJSDate(at).setZone('Asia/Shanghai').toISO({ suppressMilliseconds: true }) as string;
    if (shanghaiStamps.size >= 64) shanghaiStamps.clear();
    shanghaiStamps.set(ms, stamp);
  }
  return stamp;
}

// Salts are cut from a pool refilled 4 KB at a time (as Node's randomUUID does): a synchronous
// randomBytes call per seal was a tenth of a seal's time on the event loop. Each salt is copied out
// and used once.
const saltPool = Buffer.alloc(4096);
let saltAt = saltPool.length;
function freshSalt(): Buffer {
  if (saltAt + SALT_BYTES > saltPool.length) {
    crypto.randomFillSync(saltPool);
    saltAt = 0;
  }
  saltAt += SALT_BYTES;
  return Buffer.from(saltPool.subarray(saltAt - SALT_BYTES, saltAt));
}

/** A field digest: of the seal's salt followed by JCS(value), so a short value cannot be guessed from it. */
function saltedDigest(digest: (bytes: Uint8Array) => string, salt: Buffer | undefined): (bytes: Uint8Array) => string {
  return salt ? (bytes) => digest(Buffer.concat([salt, bytes])) : digest;
}

/** The signed message: UTF-8 of JCS(seal without `signature`). */
export function signedMessage(seal: Omit<Seal, 'signature'> | Seal): Buffer {
  const { signature: _signature, ...unsigned } = seal as Seal;
  return jcsBytes(unsigned);
}

/** How long a seal is valid for: `seal.validity`. */
function validityMs(config: SealConfig): number {
  return parseDuration(config.validity) ?? 30 * 86_400_000;
}

export class Sealer {
  constructor(
    private readonly keyring: Keyring,
    /** The `seal:` configuration it seals and verifies by. */
    readonly config: SealConfig,
    /** Its clock (tests set it). */
    readonly clock: () => Date = () => new Date(),
  ) {}

  get keys(): Keyring {
    return this.keyring;
  }

  seal(request: SealRequest): Seal {
    const key = this.keyring.active();
    // Never sign a seal that our own verifier would call malformed (an over-long purpose, say).
    const unsigned = this.checked(this.unsigned(request, key.alg, key.keyId));
    const signature = key.material.signer(signedMessage(unsigned)).toString('base64');
    return { ...unsigned, signature };
  }

  /**
   * What a seal of this payload would say, not signed (keyId PREVIEW_KEY_ID, empty signature): a dry
   * run shows it, and the verifier answers it is never valid. No key is used, so none can be misused.
   */
  preview(request: SealRequest): Seal {
    return { ...this.checked(this.unsigned(request, this.config.algorithm, PREVIEW_KEY_ID)), signature: '' };
  }

  private unsigned(request: SealRequest, alg: SealAlgorithm, keyId: string): Omit<Seal, 'signature'> {
    if ((request.payloadBytes === undefined) === (request.document === undefined)) throw new TypeError('seal() needs payloadBytes or document, not both');
    const digestAlg = DIGEST_OF[alg];
    const digest = (bytes: Uint8Array) => digestHex(digestAlg, bytes);
    const salt = freshSalt();
    const bytes = request.payloadBytes ?? jcsBytes(request.document);
    const json = request.payloadBytes ? parseJsonPayload(request.payloadBytes) : { document: request.document };
    const fields = json && !request.withoutFieldDigests ? fieldDigests(json.document, saltedDigest(digest, salt), this.config.maxFieldDigests) : undefined;
    // Whole seconds: the timestamps read as the contract shows them, in Beijing time.
    const issued = new Date(Math.floor((request.now ?? this.clock()).getTime() / 1000) * 1000);
    return {
      v: 1,
      alg,
      keyId,
      origin: request.origin ?? this.config.origin,
      purpose: request.purpose,
      caseId: request.caseId,
      systemId: request.systemId,
      issuedAt: shanghai(issued),
      expiresAt: shanghai(new Date(issued.getTime() + validityMs(this.config))),
      digestAlg,
      digest: digest(bytes),
      salt: salt.toString('base64'),
      ...(fields ? { fieldDigests: fields } : {}),
      ...(request.materials ? { materials: request.materials.map((m) => ({ kind: m.kind, digest: digestAlg === 'SM3' ? m.sm3 : m.sha256 })) } : {}),
    };
  }

  /**
   * What a seal says from outside its own making (configuration, the case, the key) is held to the
   * seal schema's limits before anything is signed. The rest (stamps, digests, salt, signature) is
   * this class's own arithmetic, right by construction: checking it again was a sixth of a seal.
   */
  private checked(seal: Omit<Seal, 'signature'>): Omit<Seal, 'signature'> {
    const { keyId, origin, purpose, caseId, systemId, materials } = seal;
    const checked = suppliedSchema.safeParse({ keyId, origin, purpose, caseId, systemId, materials });
    if (!checked.success) throw new TypeError(`cannot seal: ${checked.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    return seal;
  }

  verify(request: VerifyRequest): Verification {
    return verifySeal(this.keyring, this.config, { ...request, now: request.now ?? this.clock() });
  }
}

/** What verifying needs of a keyring: each key's algorithm, public half and when it was retired. */
export interface VerifyingKeys {
  get(keyId: string): { alg: SealAlgorithm; material: Pick<KeyMaterial, 'verify'>; retiredAt?: string } | undefined;
}

/**
 * Whether a seal holds for a payload, on these keys and this configuration: the one verifier, for
 * the sealer, the CLI and the verify endpoint's thread.
 */
export function verifySeal(keys: VerifyingKeys, config: SealConfig, request: VerifyRequest & { now: Date }): Verification {
  const { seal, now } = request;
  if (request.payloadBase64 === undefined && !('payload' in request)) throw new TypeError('verify() needs payload or payloadBase64');
  const expired = now.getTime() > Date.parse(seal.expiresAt);
  const answer = (valid: boolean, changed: string[], reason?: string): Verification => ({
    valid,
    keyId: seal.keyId,
    alg: seal.alg,
    origin: seal.origin,
    purpose: seal.purpose,
    expiresAt: seal.expiresAt,
    expired,
    changed,
    ...(reason ? { reason } : {}),
  });

  if (seal.keyId === PREVIEW_KEY_ID) return answer(false, [], "preview: a dry run's seal is never valid (it shows what a delivery's seal would say, and is not signed)");
  const key = keys.get(seal.keyId);
  if (!key) return answer(false, [], `unknown_key: no seal key ${seal.keyId} here (GET /api/v1/seal/keys lists them)`);
  if (key.alg !== seal.alg || DIGEST_OF[seal.alg] !== seal.digestAlg) return answer(false, [], `algorithm_mismatch: key ${seal.keyId} is ${key.alg} with ${DIGEST_OF[key.alg]}`);
  // The signature first: until it holds, nothing in the seal (field digests included) is to be believed.
  if (!key.material.verify(signedMessage(seal), Buffer.from(seal.signature, 'base64'))) return answer(false, [], 'bad_signature: the seal was not signed by this key, or was altered');
  // A retired key that leaks must not vouch for anything new: what it signs now is dated after its
  // retirement, or backdated and so expired once the configured validity has passed.
  const retiredAt = key.retiredAt;
  if (retiredAt !== undefined && Date.parse(seal.issuedAt) > Date.parse(retiredAt) + CLOCK_SKEW_MS) return answer(false, [], `retired_key: key ${seal.keyId} was retired at ${retiredAt}, before this seal says it was issued`);
  if (Date.parse(seal.expiresAt) - Date.parse(seal.issuedAt) > validityMs(config)) return answer(false, [], `validity_too_long: the seal runs from ${seal.issuedAt} to ${seal.expiresAt}, longer than the ${config.validity} seals are issued for`);

  const digest = (bytes: Uint8Array) => digestHex(seal.digestAlg as DigestAlgorithm, bytes);
  const fieldDigest = saltedDigest(digest, seal.salt === undefined ? undefined : Buffer.from(seal.salt, 'base64'));
  const bytes = request.payloadBase64 !== undefined ? Buffer.from(request.payloadBase64, 'base64') : jcsBytes(request.payload);
  if (digest(bytes) !== seal.digest) {
    const json = request.payloadBase64 !== undefined ? parseJsonPayload(bytes) : { document: request.payload };
    if (!seal.fieldDigests || !json) return answer(false, [''], 'payload_changed: the payload differs from the sealed one');
    // Fields are compared only as far as seals list them (seal.maxFieldDigests): a payload of a
    // hundred thousand fields must not buy a second of digests and a megabyte of answer.
    const max = config.maxFieldDigests;
    const actual = Object.keys(seal.fieldDigests).length <= max ? fieldDigests(json.document, fieldDigest, max) : undefined;
    if (!actual) return answer(false, [''], `payload_changed: the payload differs from the sealed one (more than ${max} fields, too many to compare one by one)`);
    const changed = changedFields(seal.fieldDigests, actual);
    if (changed.length === 0) return answer(false, [], 'payload_changed: every field is as sealed, but the bytes differ (formatting or key order; send payloadBase64 with the exact bytes)');
    const listed = changed.length > MAX_CHANGED_LISTED ? ` (the first ${MAX_CHANGED_LISTED} listed)` : '';
    return answer(false, changed.slice(0, MAX_CHANGED_LISTED), `payload_changed: ${changed.length} field${changed.length === 1 ? '' : 's'} changed${listed}`);
  }
  if (Date.parse(seal.issuedAt) > now.getTime() + CLOCK_SKEW_MS) return answer(false, [], 'not_yet_valid: issued in the future');
  if (expired) return answer(false, [], `expired: the seal expired at ${seal.expiresAt}`);
  return answer(true, []);
}

/** Past this an `X-OW-Seal` would not pass common HTTP header limits (8 KB a line). */
const MAX_SEAL_HEADER = 6 * 1024;

/**
 * The `X-OW-Seal` of a delivery over the exact bytes the adapter sends: origin the gateway, purpose
 * the case's item. A seal too large for a header leaves out its field digests. One
 * maker for the worker and for dry runs, so what ops preview is what the system receives; a dry
 * run's (`preview`) is not signed and never verifies.
 */
export function deliverySeal(sealer: Sealer, systemId: string, kase: { caseId: string; itemCode: string; itemName: string }, options: { preview?: boolean; materials?: SealedMaterial[] } = {}): (payload: Buffer) => string {
  const request = { purpose: `办理${kase.itemName}（${kase.itemCode}）`, caseId: kase.caseId, systemId, ...(options.materials?.length ? { materials: options.materials } : {}) };
  const make = (r: SealRequest) => (options.preview ? sealer.preview(r) : sealer.seal(r));
  return (payload) => {
    const header = sealHeader(make({ ...request, payloadBytes: payload }));
    return header.length <= MAX_SEAL_HEADER ? header : sealHeader(make({ ...request, payloadBytes: payload, withoutFieldDigests: true }));
  };
}

/** `X-OW-Seal`: base64url of the seal's JSON (canonical, so the same seal is the same header). */
export function sealHeader(seal: Seal): string {
  return Buffer.from(jcs(seal), 'utf8').toString('base64url');
}

/** The JSON of an `X-OW-Seal` header, still to be checked against sealObjectSchema. */
export function parseSealHeader(value: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** 国办函〔2016〕108号 watermark in the wording docs/security.md gives: 此件由{origin}提供，仅供办理{purpose}使用，有效期至{YYYY年M月D日}. */
export function watermark(seal: Pick<Seal, 'origin' | 'purpose' | 'expiresAt'>): string {
  const until = DateTime.fromISO(seal.expiresAt, { setZone: true }).setZone('Asia/Shanghai');
  return `此件由${seal.origin}提供，仅供办理${seal.purpose}使用，有效期至${until.year}年${until.month}月${until.day}日`;
}
