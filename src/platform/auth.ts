/**
 * Who is calling. The intake platform and ops staff present bearer tokens; ops come
 * in three roles, each allowed what the one below may do and more: `viewer` reads (ID and phone
 * numbers masked), `operator` also pauses, replays, discards, re-matches and dry-runs, `admin` also
 * changes configuration and sees full case data. Tokens are kept only as SHA-256 hashes and every
 * one is compared, in constant time, so neither memory nor timing tells a token. Legacy systems
 * have their own credential per system, checked by their result endpoints.
 */
import crypto from 'node:crypto';

export type OpsRole = 'viewer' | 'operator' | 'admin';
export type Role = 'intake' | OpsRole;

export const OPS_ROLES: readonly OpsRole[] = ['viewer', 'operator', 'admin'];

export interface Tokens {
  intake: readonly string[];
  /** `OW_OPS_TOKEN`: role admin. */
  ops: readonly string[];
  operator?: readonly string[];
  viewer?: readonly string[];
}

/** Each variable may list several tokens, comma-separated, so they can be rotated without downtime. */
export function tokensFromEnv(env: Readonly<Record<string, string | undefined>>): Tokens {
  const list = (v?: string) => (v ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  return { intake: list(env.OW_INTAKE_TOKEN), ops: list(env.OW_OPS_TOKEN), operator: list(env.OW_OPERATOR_TOKEN), viewer: list(env.OW_VIEWER_TOKEN) };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** A token's fingerprint, for logs and the audit trail: never the token. */
export function fingerprint(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex').slice(0, 8);
}

function hash(token: string): Buffer {
  return crypto.createHash('sha256').update(token).digest();
}

export class Callers {
  private readonly known: Array<{ hash: Buffer; role: Role }> = [];

  constructor(tokens: Tokens) {
    const add = (role: Role, list: readonly string[] = []) => list.forEach((t) => this.known.push({ hash: hash(t), role }));
    add('intake', tokens.intake);
    add('admin', tokens.ops);
    add('operator', tokens.operator);
    add('viewer', tokens.viewer);
  }

  /** The role of a presented token, or undefined; every known hash is compared whatever matches. */
  roleOf(token: string | undefined): Role | undefined {
    if (!token) return undefined;
    const presented = hash(token);
    let role: Role | undefined;
    for (const k of this.known) if (crypto.timingSafeEqual(k.hash, presented) && !role) role = k.role;
    return role;
  }
}

/** Whether `role` may do what `needed` may (ops roles nest; intake is a role of its own). */
export function grants(role: Role, needed: Role): boolean {
  if (role === 'intake' || needed === 'intake') return role === needed;
  return OPS_ROLES.indexOf(role) >= OPS_ROLES.indexOf(needed);
}

/** Whether a caller in `role` sees full case data (the intake platform and admin). */
export function seesFullData(role: Role | undefined): boolean {
  return role === 'intake' || role === 'admin';
}
