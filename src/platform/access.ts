/**
 * Who may do what, in one table, checked before anything else: a stranger gets 401
 * whatever path they guess, a caller in the wrong role 403. Failed authentications (legacy systems'
 * included, which their endpoints report here) are limited per address and per presented token in
 * Redis, so the limit holds across processes, and hold back only callers without a valid credential;
 * a stranger's refusals are audited once per address and minute. Every valid credential has a
 * request budget of its own; everyone else shares their address's. Intake requests may also have to
 * be HMAC-signed (`OW_INTAKE_HMAC_SECRET`), over timestamp, nonce, method, path with query and the
 * exact body bytes, with a nonce seen twice refused.
 */
import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { bearerToken, Callers, fingerprint, grants, type Role } from './auth';
import { ApiError } from './errors';
import { signIntakeRequest } from './signing';
import type { RedisClient } from './redis';

/**
 * The least role that may (for ops, the roles above it may too), any of several, anyone, or a
 * legacy system, whose credential its own endpoint checks (and reports with `credentialRefused`).
 */
type Need = Role | readonly Role[] | 'public' | 'system';

/** First match wins; paths are matched case-insensitively, as express routes them. */
const RULES: ReadonlyArray<{ method: string; path: RegExp; need: Need }> = [
  { method: 'POST', path: /^\/api\/v1\/cases\/?$/i, need: 'intake' },
  { method: 'GET', path: /^\/api\/v1\/cases\/[^/]+\/?$/i, need: ['intake', 'viewer'] },
  { method: 'POST', path: /^\/api\/v1\/shared-data\/query\/?$/i, need: 'intake' },
  // Legacy systems authenticate per system at their own endpoints; the seal keys are for anyone.
  { method: 'POST', path: /^\/api\/v1\/results\/[^/]+\/?$/i, need: 'system' },
  { method: '*', path: /^\/api\/v1\/seal\/(keys|verify)\/?$/i, need: 'public' },
  { method: 'POST', path: /^\/(soap\/results|xml\/results\/[^/]+)\/?$/i, need: 'system' },
  { method: 'GET', path: /^\/api\/v1\/admin\/config\/export\/?$/i, need: 'admin' },
  { method: 'GET', path: /^\/api\/v1\/admin\/dead-letters\/[^/]+\/case\/?$/i, need: 'admin' },
  { method: 'GET', path: /^\/api\/v1\/admin\//i, need: 'viewer' },
  { method: 'GET', path: /^\/api\/v1\/reports\/(timeliness|cases\.gbt39046)\/?$/i, need: 'viewer' },
  { method: 'PUT', path: /^\/api\/v1\/admin\/systems\/[^/]+\/?$/i, need: 'admin' },
  { method: 'DELETE', path: /^\/api\/v1\/admin\/systems\/[^/]+\/?$/i, need: 'admin' },
  { method: 'PUT', path: /^\/api\/v1\/admin\/routes\/?$/i, need: 'admin' },
  { method: 'POST', path: /^\/api\/v1\/admin\/routes\/rollback\/?$/i, need: 'admin' },
  { method: 'POST', path: /^\/api\/v1\/admin\/config\/reload\/?$/i, need: 'admin' },
  { method: 'POST', path: /^\/api\/v1\/admin\/systems\/[^/]+\/(rollback|reset)\/?$/i, need: 'admin' },
  { method: '*', path: /^\/api\/v1\/admin\//i, need: 'operator' },
];

/** What a request needs, or undefined outside the API (console, probes, SOAP and XML pushes). */
export function needOf(method: string, path: string): Need | 'none' | undefined {
  for (const rule of RULES) if ((rule.method === '*' || rule.method === method) && rule.path.test(path)) return rule.need;
  // Anything else under /api is no route at all: refused before a handler could answer it.
  return /\/api\//i.test(path) ? 'none' : undefined;
}

export interface Caller {
  role?: Role;
  /** For logs and the audit trail: the token's fingerprint, or the address of a stranger. */
  who: string;
}

export interface AccessOptions {
  callers: Callers;
  redis: RedisClient;
  prefix: string;
  /** Failed authentications an address may make per minute before it is refused for a minute. */
  failuresPerMinute: number;
  /** Requests one caller (token, or address when there is none) may make per minute. */
  requestsPerMinute: number;
  intakeHmacSecret?: string;
  /** Told of every refused credential, for the audit trail. */
  onRefused(caller: Caller, req: Request, why: string): void;
  now?: () => number;
}

/** The caller of a request that passed `access` (undefined on public routes). */
export function callerOf(res: { locals: Record<string, unknown> }): Caller | undefined {
  return res.locals.caller as Caller | undefined;
}

// Where access leaves, for an endpoint that checks its own credential, what to do when it refuses one.
const CREDENTIAL_REFUSED = 'credentialRefused';

/**
 * Tells the access layer that the credential an endpoint checks itself (a legacy system's) was
 * refused: it counts against the caller's address and is audited, as any failed authentication.
 * Answers what to refuse with: `refusal`, or 429 when the address is held back already.
 */
export async function credentialRefused(res: { locals: Record<string, unknown> }, why: string, refusal: ApiError): Promise<ApiError> {
  const report = res.locals[CREDENTIAL_REFUSED] as ((why: string, refusal: ApiError) => Promise<ApiError>) | undefined;
  return report ? report(why, refusal) : refusal;
}

/** Refusals from one address audited per minute: a guesser cannot fill the audit trail. */
const AUDITED_PER_ADDRESS_S = 60;

const SIGNATURE_WINDOW_S = 300;

function tooMany(limited: unknown): ApiError | undefined {
  if (!(limited instanceof RateLimiterRes)) return undefined;
  return new ApiError('too_many_requests', `Too many requests; try again in ${Math.ceil(limited.msBeforeNext / 1000)} s.`);
}

/**
 * A caller's request budget, taken from Redis in leases of several requests rather than one command
 * per request. Every leased request is counted in Redis before it is served, so the limit still
 * holds in total across processes (a process may refuse a little early, by what its lease has left,
 * never late). Near the limit a lease is what the window has left.
 */
export class LeasedBudget {
  private readonly leases = new Map<string, { left: number; until: number }>();
  private readonly taking = new Map<string, Promise<void>>();

  constructor(
    private readonly limiter: RateLimiterRedis,
    private readonly points: number,
    /** Requests per lease: 1 is a Redis command per request. */
    readonly lease: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws the limiter's RateLimiterRes when the caller is over budget. */
  async consume(key: string): Promise<void> {
    for (;;) {
      const held = this.leases.get(key);
      if (held && held.left > 0 && this.now() < held.until) {
        held.left--;
        return;
      }
      // One lease in flight per caller: concurrent requests wait for it rather than each taking a
      // lease of its own (which would spend the budget many times faster than it is used).
      const pending = this.taking.get(key);
      if (!pending) break;
      await pending;
    }
    const taking = this.take(key);
    this.taking.set(key, taking);
    try {
      await taking;
    } finally {
      this.taking.delete(key);
    }
  }

  /** Takes a lease from Redis; the request that took it is its first. */
  private async take(key: string): Promise<void> {
    const t = this.now();
    let granted: number;
    let until: number;
    try {
      const taken = await this.limiter.consume(key, this.lease);
      [granted, until] = [this.lease, t + taken.msBeforeNext];
    } catch (err) {
      if (!(err instanceof RateLimiterRes) || this.lease === 1) throw err;
      // Redis counted this lease past the limit: what the window had left before it, if anything,
      // is served, the rest refused as ever. (A refusal from the in-memory block counts nothing.)
      granted = err.consumedPoints > this.points ? this.points - (err.consumedPoints - this.lease) : 0;
      if (granted <= 0) throw err;
      until = t + err.msBeforeNext;
    }
    if (this.leases.size >= MAX_LEASES) this.prune(t);
    this.leases.set(key, { left: granted - 1, until });
  }

  /** Bounded memory whatever the number of callers: expired leases go, and if that is not enough, all. */
  private prune(t: number): void {
    for (const [key, held] of this.leases) if (held.until <= t || held.left <= 0) this.leases.delete(key);
    if (this.leases.size >= MAX_LEASES) this.leases.clear();
  }
}

/** Callers whose leases are kept at once (each lease is a few dozen bytes). */
const MAX_LEASES = 10_000;

/** How long "this address is not blocked for failed authentications" is believed without asking Redis. */
const NOT_BLOCKED_MS = 1000;

export function access(options: AccessOptions): RequestHandler {
  const failures = new RateLimiterRedis({ storeClient: options.redis, keyPrefix: `${options.prefix}:rl:auth`, points: options.failuresPerMinute, duration: 60, blockDuration: 60 });
  const requests = new RateLimiterRedis({ storeClient: options.redis, keyPrefix: `${options.prefix}:rl:req`, points: options.requestsPerMinute, duration: 60, inMemoryBlockOnConsumed: options.requestsPerMinute });
  // One Redis command per 1 % of the budget (at most 50 requests), not per request.
  const budget = new LeasedBudget(requests, options.requestsPerMinute, Math.max(1, Math.min(50, Math.floor(options.requestsPerMinute / 100))), options.now);
  // Keys seen not blocked, until when: a stranger's address is not looked up on every request.
  // A failure this process counts forgets its keys at once; one counted elsewhere is seen within NOT_BLOCKED_MS.
  const notBlocked = new Map<string, number>();
  const clock = options.now ?? Date.now;

  return async (req, res, next) => {
    const need = needOf(req.method, req.path);
    if (need === undefined) return next();
    if (need === 'none') return next(new ApiError('not_found'));
    // The socket's address, or the caller's as a proxy named in server.trustProxy reports it.
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const token = bearerToken(req.get('authorization'));
    const print = token && fingerprint(token);
    const caller: Caller = { who: print ? `token ${print}` : address };
    try {
      // Only a valid credential has a budget of its own: an unknown one (or a legacy system's, checked
      // at its endpoint) spends its address's, so a guesser gains nothing by inventing tokens.
      const role = need === 'public' || need === 'system' ? undefined : options.callers.roleOf(token);
      // A limiter whose Redis is away lets the request on: intake then answers 503 by itself.
      await budget.consume(role ? `t:${print}` : `a:${address}`).catch((err: unknown) => {
        if (err instanceof RateLimiterRes) throw err;
      });
      if (need === 'public') return next();
      // Failures count per address and per presented credential (a guesser gains nothing by changing
      // either alone), and only against callers without a valid one: behind a proxy or a NAT every
      // caller shares an address, and a valid credential is never refused for others' failures.
      const keys = [`a:${address}`, ...(print ? [`t:${print}`] : [])];
      const refuse = async (why: string) => {
        for (const key of keys) {
          notBlocked.delete(key);
          await failures.penalty(key).catch(() => undefined);
        }
        // The first refusal of the minute from an address is audited; the rest are only counted.
        const first = await options.redis.set(`${options.prefix}:auth-audited:${address}`, '1', 'EX', AUDITED_PER_ADDRESS_S, 'NX').catch(() => 'OK');
        if (first === 'OK') options.onRefused(caller, req, why);
      };
      const blocked = async (): Promise<RateLimiterRes | undefined> => {
        for (const key of keys) {
          const t = clock();
          if ((notBlocked.get(key) ?? 0) > t) continue;
          const held = await failures.get(key).catch(() => null);
          if (held && held.consumedPoints >= options.failuresPerMinute) return held;
          if (notBlocked.size >= MAX_LEASES) notBlocked.clear();
          notBlocked.set(key, t + NOT_BLOCKED_MS);
        }
        return undefined;
      };
      // A legacy system's credential is its endpoint's to check, which then reports a refusal here:
      // a held-back address learns 429 only when what it presented is refused.
      if (need === 'system') {
        res.locals[CREDENTIAL_REFUSED] = async (why: string, refusal: ApiError): Promise<ApiError> => {
          const held = await blocked();
          if (held) return tooMany(held) as ApiError;
          await refuse(why);
          return refusal;
        };
        return next();
      }
      caller.role = role;
      if (!caller.role) {
        const held = await blocked();
        if (held) throw held;
        await refuse(token ? 'unknown token' : 'no token');
        return next(new ApiError('unauthorized'));
      }
      if (!(typeof need === 'string' ? [need] : need).some((n) => grants(caller.role!, n))) {
        options.onRefused(caller, req, `role ${caller.role} may not do this`);
        return next(new ApiError('forbidden', `This token (role ${caller.role}) may not use this endpoint.`));
      }
      res.locals.caller = caller;
      if (caller.role === 'intake' && options.intakeHmacSecret) res.locals.intakeSignature = { secret: options.intakeHmacSecret, redis: options.redis, prefix: options.prefix, now: options.now };
      // A GET has no body to wait for: its signature (over an empty body) is checked now.
      if (res.locals.intakeSignature && (req.method === 'GET' || req.method === 'HEAD')) await verifyIntakeSignature(req, Buffer.alloc(0), res.locals.intakeSignature as SignatureCheck);
      next();
    } catch (err) {
      next(tooMany(err) ?? err);
    }
  };
}

export interface SignatureCheck {
  secret: string;
  redis: RedisClient;
  prefix: string;
  now?: () => number;
}

/**
 * `X-OW-Signature` as `signIntakeRequest` makes it (timestamp, nonce, method, path with query and
 * body) within 300 s of `X-OW-Timestamp`, and `X-OW-Nonce` never seen before (kept in Redis for the window).
 */
export async function verifyIntakeSignature(req: Request, body: Buffer, check: SignatureCheck): Promise<void> {
  const timestamp = req.get('x-ow-timestamp') ?? '';
  const nonce = req.get('x-ow-nonce') ?? '';
  const signature = req.get('x-ow-signature') ?? '';
  const refuse = (why: string) => new ApiError('unauthorized', `The request signature is refused: ${why}.`);
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9_-]{8,128}$/.test(nonce) || !/^sha256=[0-9a-f]{64}$/.test(signature)) throw refuse('X-OW-Timestamp, X-OW-Nonce and X-OW-Signature are required');
  const now = Math.floor((check.now?.() ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > SIGNATURE_WINDOW_S) throw refuse(`the timestamp is more than ${SIGNATURE_WINDOW_S} s away`);
  // The path as the request line sent it, query included: what the caller signed.
  const expected = Buffer.from(signIntakeRequest(check.secret, { timestamp, nonce, method: req.method, pathWithQuery: req.originalUrl, body }).slice(7), 'hex');
  if (!crypto.timingSafeEqual(expected, Buffer.from(signature.slice(7), 'hex'))) throw refuse('it does not match the method, path and body');
  const fresh = await check.redis.set(`${check.prefix}:nonce:${nonce}`, '1', 'EX', SIGNATURE_WINDOW_S * 2, 'NX');
  if (fresh !== 'OK') throw refuse('this nonce was used before (a replay)');
}
