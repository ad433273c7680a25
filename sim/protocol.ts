/**
 * The seam between the simulators' protocol-neutral core (faults, stats, receipts, idempotency,
 * result decisions) and each protocol's wire format. A protocol simulator only translates: it reads
 * a submission off the wire, asks the core for a verdict, and writes the verdict back in its format;
 * and it pushes decided results to the gateway the way that protocol's systems do.
 */
import type http from 'node:http';
import type express from 'express';
import type { SystemConfig } from '../src/config/schema';
import type { ReceivedMaterial } from './received-materials';

/** What the core decided about one submission. */
export type Verdict =
  | { kind: 'accepted'; receiptNo: string }
  /** A redelivery (same Idempotency-Key) of an accepted case: answer as accepted, same receipt. */
  | { kind: 'duplicate'; receiptNo: string }
  /** A permanent business refusal (材料不齐全). */
  | { kind: 'refused'; message: string }
  /** A refusal the system says is worth retrying (系统繁忙). */
  | { kind: 'retry_later'; message: string }
  /** The back end failed: HTTP 500, or a SOAP Server fault. */
  | { kind: 'broken'; message: string }
  | { kind: 'unauthorized'; message: string }
  /** The body could not be read: a client error (HTTP 400, SOAP Client fault). */
  | { kind: 'invalid'; message: string }
  /** The system is down: cut the connection without an answer. */
  | { kind: 'down' };

export interface Submission {
  systemId: string;
  /** The submission as parsed (JSON value, SOAP arguments, XML object); undefined when unreadable. */
  body: unknown;
  idempotencyKey?: string;
  /** Whether the credentials the protocol carries were right (the protocol module checks them). */
  authorized: boolean;
  headers: Record<string, string>;
  /** The materials it carried (inline or attached), each checked against what it said of itself. */
  materials?: ReceivedMaterial[];
}

/** A shared-data look-up as a protocol simulator read it off the wire. */
export interface LookupRequest {
  systemId: string;
  /** The look-up as parsed (JSON value, SOAP arguments, XML root content); undefined when unreadable. */
  body: unknown;
  authorized: boolean;
}

/** What the core answers a look-up: the record (the system's own field names), none, or a failure. */
export type LookupVerdict =
  | { kind: 'found'; record: Readonly<Record<string, string>> }
  | { kind: 'not_found' }
  | { kind: 'broken'; message: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'down' };

/** The reply every simulated look-up endpoint answers in (JSON, XML under <Response>, SOAP output). */
export function lookupReply(verdict: Extract<LookupVerdict, { kind: 'found' | 'not_found' }>): Record<string, unknown> {
  return verdict.kind === 'found' ? { code: '0', msg: '成功', data: { ...verdict.record } } : { code: '404', msg: '查无记录' };
}

/** With what could not be read, when the protocol can say it. */
const withWhy = (message: string, why: string | undefined): string => (why ? `${message}: ${why}` : message);

/** The replies a dialect of an HTTP protocol (REST's JSON, XML) writes, each in its own body type. */
export interface ReplyDialect<Body> {
  accepted(receiptNo: string): Body;
  refused(message: string): Body;
  retryLater(message: string): Body;
  /** Sent with an HTTP 500. */
  broken(message: string): Body;
}

/**
 * The HTTP answer of a verdict in a dialect, the same for every HTTP protocol (SOAP answers in
 * faults instead); undefined: cut the connection. `why`: what could not be read, for `invalid`.
 */
export function verdictAnswer<Body>(dialect: ReplyDialect<Body>, verdict: Verdict, why?: string): { status: number; body: Body } | undefined {
  switch (verdict.kind) {
    case 'accepted':
    case 'duplicate':
      return { status: 200, body: dialect.accepted(verdict.receiptNo) };
    case 'refused':
      return { status: 200, body: dialect.refused(verdict.message) };
    case 'retry_later':
      return { status: 200, body: dialect.retryLater(verdict.message) };
    case 'broken':
      return { status: 500, body: dialect.broken(verdict.message) };
    case 'unauthorized':
      return { status: 401, body: dialect.refused(verdict.message) };
    case 'invalid':
      return { status: 400, body: dialect.refused(withWhy(verdict.message, why)) };
    case 'down':
      return undefined;
  }
}

/** The HTTP answer of a look-up verdict (`{code, msg, data?}`, as JSON or under XML <Response>); undefined: cut the connection. */
export function lookupAnswer(verdict: LookupVerdict, why?: string): { status: number; body: Record<string, unknown> } | undefined {
  switch (verdict.kind) {
    case 'found':
    case 'not_found':
      return { status: 200, body: lookupReply(verdict) };
    case 'broken':
      return { status: 500, body: { code: '500', msg: verdict.message } };
    case 'unauthorized':
      return { status: 401, body: { code: '401', msg: verdict.message } };
    case 'invalid':
      return { status: 400, body: { code: '400', msg: withWhy(verdict.message, why) } };
    case 'down':
      return undefined;
  }
}

/** The request's single-valued headers, as a submission carries them (less the one named, if any). */
export function flatHeaders(headers: http.IncomingHttpHeaders, except?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string' && name !== except) out[name] = value;
  return out;
}

export interface SimContext {
  /** The configured systems that speak this protocol. */
  systems: readonly SystemConfig[];
  /** The configuration folder, for files a system refers to by a relative path (e.g. a WSDL). */
  configDir?: string;
  /**
   * Decides, counts and logs one submission, waits the system's configured latency, and answers the
   * verdict. A system that is `down` answers `{kind: 'down'}` at once.
   */
  submit(submission: Submission): Promise<Verdict>;
  /**
   * What a polling system answers about one of its receipts: `pending` until the system has decided,
   * then `done` with the reply its `result.poll.until` and result map read; undefined for a receipt
   * it never issued. The bodies are JSON-shaped (REST dialect A: `{code, msg, data: {status, …}}`).
   */
  pollResult?(systemId: string, receiptNo: string): PolledResult | undefined;
  /** Answers a shared-data look-up from the sample people, after the system's latency (and the person's). */
  lookup?(request: LookupRequest): Promise<LookupVerdict>;
}

export interface PolledResult {
  state: 'pending' | 'done';
  body: Record<string, unknown>;
}

/**
 * What `ProtocolSimulator.push` throws when the gateway did not take a result. The core tries again
 * a few times with backoff unless `retryable` is false (e.g. a 4xx, or no token to push with).
 */
export class PushError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'PushError';
  }
}

export interface ProtocolSimulator {
  protocol: SystemConfig['protocol'];
  /** Adds the routes (or listeners) of this protocol's systems to the simulators' server. */
  mount(app: express.Express, server: http.Server, ctx: SimContext): void | Promise<void>;
  /**
   * Pushes a decided result to the gateway as this protocol's systems do. `body` is what the
   * system's `result.map` reads (the core builds it from the map), `gatewayUrl` the gateway's base.
   */
  push(system: SystemConfig, body: Record<string, unknown>, gatewayUrl: string): Promise<void>;
  /**
   * The gateway reads this protocol's pushed values as strings (SOAP arguments, XML text): the
   * core then builds push bodies of strings only, so `result.map` is checked as it will really run.
   */
  pushesStrings?: boolean;
}
