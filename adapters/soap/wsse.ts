/**
 * WS-Security UsernameToken, as a receiving server checks it (the sending side is the soap
 * package's WSSecurity). PasswordText compares the password; PasswordDigest recomputes
 * Base64(SHA-1(nonce + created + password)), refuses a `Created` outside the allowed skew and a
 * nonce seen before within it, so a captured message cannot be replayed. Comparisons are in
 * constant time.
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

export interface VerifierOptions {
  /** How far `Created` of a digest may be from our clock, either way. */
  maxSkewMs?: number;
  now?: () => number;
}

export class UsernameTokenVerifier {
  private readonly maxSkewMs: number;
  private readonly now: () => number;
  /** Nonces of accepted digests, until they are too old to be accepted anyway. */
  private readonly nonces = new Map<string, number>();

  constructor(options: VerifierOptions = {}) {
    this.maxSkewMs = options.maxSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  verify(token: PresentedToken, expected: UsernameCredentials): boolean {
    // Both checks run whatever the first says, so the time taken does not tell which one failed.
    const userOk = safeEqual(token.username, expected.username);
    if (token.passwordType === 'PasswordText') return safeEqual(token.password, expected.password) && userOk;
    if (!token.nonce || !token.created) return false;
    const digestOk = safeEqual(token.password, passwordDigest(token.nonce, token.created, expected.password));
    if (!(digestOk && userOk)) return false;
    const created = Date.parse(token.created);
    const now = this.now();
    if (Number.isNaN(created) || Math.abs(now - created) > this.maxSkewMs) return false;
    this.forgetOld(now);
    const key = `${expected.username}\u0000${token.nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, now + 2 * this.maxSkewMs);
    return true;
  }

  private forgetOld(now: number): void {
    // Insertion order is expiry order, so the old ones are at the front.
    for (const [key, until] of this.nonces) {
      if (until >= now) break;
      this.nonces.delete(key);
    }
  }
}
