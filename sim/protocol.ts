/**
 * The seam between the simulators' protocol-neutral core (faults, stats, receipts, idempotency,
 * result decisions) and each protocol's wire format. A protocol simulator only translates: it reads
 * a submission off the wire, asks the core for a verdict, and writes the verdict back in its format;
 * and it pushes decided results to the gateway the way that protocol's systems do.
 */
import type http from 'node:http';
import type express from 'express';
import type { SystemConfig } from '../src/config/schema';

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
}

export interface SimContext {
  /** The configured systems that speak this protocol. */
  systems: readonly SystemConfig[];
  /**
   * Decides, counts and logs one submission, waits the system's configured latency, and answers the
   * verdict. A system that is `down` answers `{kind: 'down'}` at once.
   */
  submit(submission: Submission): Promise<Verdict>;
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
}
