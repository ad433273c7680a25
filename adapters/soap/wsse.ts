/**
 * WS-Security UsernameToken, as a receiving server checks it (the sending side is the soap
 * package's WSSecurity). PasswordText compares the password; PasswordDigest recomputes
 * Base64(SHA-1(nonce + created + password)), refuses a `Created` outside the allowed skew and a
 * nonce seen before within it (by any process sharing the nonce store), so a captured message
 * cannot be replayed. Comparisons are in constant time.
 */
import crypto from 'node:crypto';
import { safeEqual } from '../../src/platform/signing';

export interface UsernameCredentials {
  username: string;
  password: string;
}

export interface PresentedToken {
  username: string;
  /** The password as sent: the password itself, or its digest. */
  password: string;
  passwordType: 'PasswordText' | 'PasswordDigest';
  nonce?: string;
  created?: string;
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** An element's text and attributes as the soap package parses them (`{attributes, $value}` when it had attributes). */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const inner = field(value, '$value');
  return typeof inner === 'string' ? inner : undefined;
}

/** The UsernameToken in a parsed SOAP Header (`Header.Security.UsernameToken`), if there is exactly one. */
export function presentedToken(soapHeader: unknown): PresentedToken | undefined {
  const token = field(field(soapHeader, 'Security'), 'UsernameToken');
  const username = textOf(field(token, 'Username'));
  const passwordElement = field(token, 'Password');
  const password = textOf(passwordElement);
  if (username === undefined || password === undefined) return undefined;
  const type = field(field(passwordElement, 'attributes'), 'Type');
  return {
    username,
    password,
    passwordType: typeof type === 'string' && type.endsWith('#PasswordDigest') ? 'PasswordDigest' : 'PasswordText',
    nonce: textOf(field(token, 'Nonce')),
    created: textOf(field(token, 'Created')),
  };
}

/** Base64(SHA-1(Base64-decoded nonce + created + password)), per the UsernameToken Profile 1.0. */
export function passwordDigest(nonce: string, created: string, password: string): string {
  return crypto
    .createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/**
 * Where the nonces of accepted digests are remembered. The gateway keeps them in Redis, shared by
 * every api process, so a captured message cannot be replayed once on each replica.
 */
export interface SeenNonces {
  /** True the first time `key` is offered within `ttlMs`, false ever after within it. */
  firstUse(key: string, ttlMs: number): Promise<boolean>;
}

/** Nonces remembered in this process only: for a single process (the simulators, unit tests). */
export class NoncesInMemory implements SeenNonces {
  /** Nonce → until when it is remembered; insertion order is expiry order when the ttl is fixed. */
  private readonly nonces = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async firstUse(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    for (const [old, until] of this.nonces) {
      if (until >= now) break;
      this.nonces.delete(old);
    }
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, now + ttlMs);
    return true;
  }
}

export interface VerifierOptions {
  /** How far `Created` of a digest may be from our clock, either way. */
  maxSkewMs?: number;
  now?: () => number;
  /** Where accepted nonces are remembered; in this process only by default. */
  nonces?: SeenNonces;
}

export class UsernameTokenVerifier {
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  private readonly nonces: SeenNonces;

  constructor(options: VerifierOptions = {}) {
    this.maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.nonces = options.nonces ?? new NoncesInMemory(this.now);
  }

  /** Rejects when the nonces cannot be consulted: the caller answers "try again later", never "accepted". */
  async verify(token: PresentedToken, expected: UsernameCredentials): Promise<boolean> {
    // Both checks run whatever the first says, so the time taken does not tell which one failed.
    const userOk = safeEqual(token.username, expected.username);
    if (token.passwordType === 'PasswordText') return safeEqual(token.password, expected.password) && userOk;
    if (!token.nonce || !token.created) return false;
    const digestOk = safeEqual(token.password, passwordDigest(token.nonce, token.created, expected.password));
    if (!(digestOk && userOk)) return false;
    const created = Date.parse(token.created);
    if (Number.isNaN(created) || Math.abs(this.now() - created) > this.maxSkewMs) return false;
    // Remembered only once the digest is genuine (a stranger cannot fill the store), for twice the
    // skew: longer than any process whose clock is within the skew would accept this Created.
    const key = crypto.createHash('sha256').update(`${expected.username}\u0000${token.nonce}`).digest('hex');
    return this.nonces.firstUse(key, 2 * this.maxSkewMs);
  }
}
