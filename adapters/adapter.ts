/**
 * What every protocol adapter is: a factory that turns one configured legacy system into a sender
 * (Camel's component → endpoint → producer). Adapters are the only code that knows a protocol:
 * they put the mapped body on the wire and hand back the system's reply as a plain object for the
 * `response.*` expressions, or throw RetryableError / PermanentError for what went wrong on the way.
 */
import type { Egress, SystemConfig } from '../src/config/schema';
import type { Readable } from 'node:stream';
import type { Logger } from '../src/platform/logger';

export interface DeliveryContext {
  caseId: string;
  systemId: string;
  /** `caseId:systemId`, sent so the legacy system can drop a redelivery. */
  idempotencyKey: string;
  /** What the attempt logs through: its lines name the case, system, attempt and request id. */
  log: Logger;
  /** The request id of the case (X-Request-Id of its intake, or of what queued the work), sent as X-Request-Id. */
  requestId?: string;
  /** Somewhere other than the system's endpoint, e.g. its result-polling URL; GET sends no body. */
  target?: { endpoint: string; method: 'GET' | 'POST' | 'PUT' };
  /** SOAP: an operation of the system's WSDL other than `soap.operation`, e.g. its look-up operation. */
  operation?: string;
  /** Aborts the exchange (a look-up past its deadline): the socket is let go and nothing more is read. */
  signal?: AbortSignal;
  /** The `X-OW-Seal` value for the exact bytes about to be sent, when the system is sealed. */
  seal?: (payload: Buffer) => string;
  /** The case's materials this system takes inline or attached, fetched and verified (absent: by reference, in the body as mapped). */
  materials?: MaterialHandover;
}

/** One material to hand over: what it is, and its bytes in the cache (read as a stream, never whole unless inline). */
export interface MaterialPart {
  kind: string;
  name: string;
  mime: string;
  size: number;
  sha256: string;
  /** Opens its bytes. */
  open(): Readable;
  /** A look-up document's own seal, as its X-OW-Seal value (base64url of the seal's JSON). */
  sealHeader?: string;
  /** The same seal as an object, for a body that carries it beside the bytes. */
  seal?: unknown;
}

export interface MaterialHandover {
  /** inline: base64 inside the body; attach: multipart (REST) or MTOM/XOP (SOAP). */
  mode: 'inline' | 'attach';
  /** JSON Pointer into the mapped body where the materials (or the references to their parts) go. */
  field: string;
  parts: MaterialPart[];
}

/** What `send` would put on the wire for a body, built the same way, nothing sent (dry runs). */
export interface RequestPreview {
  /** As configured: callers redact credentials in it before showing it. */
  endpoint: string;
  method: string;
  /** Every header that would be sent, credentials already redacted. */
  headers: Record<string, string>;
  /** The charset `body` is in (its label as sent). */
  charset: string;
  /** The exact bytes of the body. */
  body: Buffer;
}

export interface Adapter {
  /** Sends the mapped body; resolves with the parsed reply a `response.*` expression reads. */
  send(body: unknown, ctx: DeliveryContext): Promise<unknown>;
  /**
   * What `send` would send for this body, without sending it: only the adapter knows how its
   * protocol frames a body (JSON, XML in GBK, a SOAP envelope). May read the system's WSDL.
   */
  preview(body: unknown, ctx: DeliveryContext): Promise<RequestPreview>;
  /** Releases what the adapter holds (agents, clients); called when its config version retires. */
  close?(): Promise<void>;
}

export interface AdapterOptions {
  /** The configuration folder, for files a system refers to by a relative path (e.g. a WSDL). */
  configDir: string;
  /** Largest reply read from the system (`limits.maxReplyBytes`); a longer one is cut off and retried. */
  maxReplyBytes: number;
  /** gateway.yaml's `egress.allow`: also checked for what no configuration names, e.g. a WSDL's imports. */
  egress?: Egress;
}

export type AdapterFactory<S extends SystemConfig = SystemConfig> = (system: S, options: AdapterOptions) => Adapter;
