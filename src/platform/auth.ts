/**
 * Bearer-token roles: the intake platform and ops staff. A request without a known token is 401;
 * a known token used where its role may not go is 403.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors';
import { safeEqual } from './signing';

export type Role = 'intake' | 'ops';

export interface Tokens {
  intake: readonly string[];
  ops: readonly string[];
}

/** `OW_INTAKE_TOKEN` may list several tokens, comma-separated, so they can be rotated without downtime. */
export function tokensFromEnv(env: Readonly<Record<string, string | undefined>>): Tokens {
  const list = (v?: string) => (v ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  return { intake: list(env.OW_INTAKE_TOKEN), ops: list(env.OW_OPS_TOKEN) };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function roleOf(tokens: Tokens, token: string | undefined): Role | undefined {
  if (!token) return undefined;
  // Check every token of every role so the time taken does not tell which one matched.
  let role: Role | undefined;
  for (const r of ['ops', 'intake'] as const) for (const t of tokens[r]) if (safeEqual(t, token) && !role) role = r;
  return role;
}

export function requireRole(tokens: Tokens, ...allowed: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = roleOf(tokens, bearerToken(req.get('authorization')));
    if (!role) return next(new ApiError('unauthorized'));
    if (!allowed.includes(role)) return next(new ApiError('forbidden'));
    next();
  };
}
