/**
 * One operation of a WSDL-described service, called through the `soap` package's client. The WSDL
 * is loaded on first use and kept (a load that fails is forgotten, so the next call tries again);
 * every byte goes through GuardedHttpClient; every failure comes out as a RetryableError or a
 * PermanentError. The SOAP adapter holds one per configured system and config version; the
 * simulators use one to push results to the gateway.
 */
import path from 'node:path';
import * as soap from 'soap';
import type { IHttpClient, SoapMethod } from 'soap';
import type { Auth, Egress } from '../../src/config/schema';
import { fileRefusal } from '../../src/config/egress';
import { redactUrl } from '../../src/platform/privacy';
import type { Charset } from '../../src/platform/charset';
import { PermanentError, RetryableError } from '../../src/platform/failure';
import { secretsOf } from '../../src/config/schema';
import { redactedHeaders } from '../http';
import { classifySoapError } from './soap.faults';
import { CapturingHttpClient, GuardedHttpClient, NotSent, originOf, type CapturedRequest, type GuardedCallOptions } from './soap.http';
import type { SoapVersion } from './soap.wire';

export interface SoapOperationOptions {
  /** Who is called, for every error message. */
  systemId: string;
  /** The WSDL: an absolute file path (inside `folder`) or an http(s) URL. */
  wsdl: string;
  /** The folder a WSDL file and the files it imports must lie in; without one, a WSDL imports no file. */
  folder?: string;
  /** gateway.yaml's `egress.allow`, which the WSDL's imports must pass too. */
  egress?: Egress;
  /** Where calls go, whatever address the WSDL names. */
  endpoint: string;
  service: string;
  port: string;
  operation: string;
  version: SoapVersion;
  charset: Charset;
  /** `wsse` becomes a UsernameToken in the envelope; bearer, basic and hmac go in HTTP headers. */
  auth: Auth;
  timeoutMs: number;
  /** Sockets kept open to the service. */
  concurrency: number;
  /** Largest reply (or WSDL) read. */
  maxReplyBytes: number;
}

/** What a call may carry besides its arguments and headers. */
export type CallOptions = Pick<GuardedCallOptions, 'signal' | 'seal' | 'mtom' | 'requestId'>;

type Call = (args: Record<string, unknown>, headers: Record<string, string>, options: CallOptions) => Promise<unknown>;

const isUrl = (location: string): boolean => /^https?:\/\//i.test(location);

/**
 * Why the soap package could not load a WSDL, in words that quote nothing of the document: its own
 * complaints quote the bytes it choked on. Ours (the guarded client's) are kept, less the system id.
 */
function loadFailure(systemId: string, err: unknown): string {
  if (err instanceof RetryableError || err instanceof PermanentError) return err.message.startsWith(`${systemId}: `) ? err.message.slice(systemId.length + 2) : err.message;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `the file could not be read (${code})`;
  return 'it is not a WSDL document the soap client can read';
}

export class SoapOperation {
  private readonly http: GuardedHttpClient;
  private loading?: Promise<Call>;

  constructor(private readonly options: SoapOperationOptions) {
    this.http = new GuardedHttpClient({
      systemId: options.systemId,
      charset: options.charset,
      timeoutMs: options.timeoutMs,
      concurrency: options.concurrency,
      maxReplyBytes: options.maxReplyBytes,
      auth: options.auth,
      egress: options.egress,
      credentialOrigins: new Set([options.endpoint, options.wsdl].filter(isUrl).map(originOf).filter((o): o is string => o !== undefined)),
    });
  }

  /**
   * Calls the operation with `args` (the children of its input element) and extra HTTP headers;
   * resolves with its output (the children of the output element).
   */
  async call(args: Record<string, unknown>, headers: Record<string, string> = {}, options: CallOptions = {}): Promise<unknown> {
    const call = await this.ready();
    let output: unknown;
    try {
      output = await call(args, headers, options);
    } catch (err) {
      throw classifySoapError(this.options.systemId, err, secretsOf(this.options.auth));
    }
    // A Body without the output element cannot be read: retried. An empty one (`<SubmitCaseResponse/>`,
    // which the package reads as null) is an answer with no fields: response.* decides what it means.
    if (output === undefined) throw new RetryableError(`${this.options.systemId} answered without a ${this.options.operation} output`);
    return output ?? {};
  }

  /**
   * The request `call` would send, captured instead of sent (dry runs): the same WSDL, envelope,
   * charset and headers; a WS-Security password is written as `[redacted]`, credentials in headers
   * are redacted.
   */
  async preview(args: Record<string, unknown>, headers: Record<string, string> = {}, seal?: (payload: Buffer) => string, mtom?: GuardedCallOptions['mtom']): Promise<CapturedRequest> {
    const capturing = new CapturingHttpClient(this.http);
    const method = await this.method(capturing, true);
    await new Promise<void>((resolve, reject) => {
      const callOptions: GuardedCallOptions = { onUnexpected: reject, ...(seal ? { seal } : {}), ...(mtom ? { mtom } : {}) };
      method(args, (err) => (err && !(err instanceof NotSent) && !capturing.captured ? reject(classifySoapError(this.options.systemId, err, secretsOf(this.options.auth))) : resolve()), callOptions, headers);
    });
    if (!capturing.captured) throw new PermanentError(`${this.options.systemId}: the soap client wrote no request`);
    return { ...capturing.captured, headers: redactedHeaders(capturing.captured.headers) };
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private ready(): Promise<Call> {
    return (this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    }));
  }

  private async load(): Promise<Call> {
    const method = await this.method(this.http, false);
    return (args, headers, options) =>
      new Promise((resolve, reject) => {
        const callOptions: GuardedCallOptions = { onUnexpected: reject, ...options };
        method(args, (err, result) => (err ? reject(err) : resolve(result)), callOptions, headers);
      });
  }

  /** The operation's method on a soap client sending through `http`; `redacted`: the WS-Security password written as `[redacted]`. */
  private async method(http: IHttpClient, redacted: boolean): Promise<SoapMethod> {
    const { systemId, wsdl, folder, endpoint, service, port, operation, version, auth } = this.options;
    // The package reads imported files itself: only those inside the folder (a URL goes through `http`).
    const overrideImportLocation = (location: string): string => {
      if (isUrl(location) || (folder && path.isAbsolute(location) && !fileRefusal(location, folder))) return location;
      throw new RetryableError(`${systemId}: it imports a file outside the configuration folder, which is not read`);
    };
    let client: soap.Client;
    try {
      // The package's own WSDL cache would outlive a config reload; ours is this object.
      client = await soap.createClientAsync(wsdl, { httpClient: http, disableCache: true, forceSoap12Headers: version === '1.2', wsdl_options: { overrideImportLocation } }, endpoint);
    } catch (err) {
      const shown = isUrl(wsdl) ? redactUrl(wsdl) : folder ? path.relative(folder, wsdl) : wsdl;
      throw new RetryableError(`${systemId}: the WSDL ${shown} could not be loaded: ${loadFailure(systemId, err)}`);
    }
    if (auth.type === 'wsse') {
      client.setSecurity(new soap.WSSecurity(auth.username, redacted ? '[redacted]' : auth.password, { passwordType: auth.passwordType, hasTokenCreated: true }));
    }
    const services = client as unknown as Record<string, Record<string, Record<string, SoapMethod> | undefined> | undefined>;
    const method = services[service]?.[port]?.[operation];
    if (typeof method !== 'function') {
      const described = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
      const offered = Object.entries(described).flatMap(([s, ports]) => Object.entries(ports).flatMap(([p, ops]) => Object.keys(ops).map((o) => `${s}/${p}/${o}`)));
      throw new RetryableError(`${systemId}: the WSDL has no operation ${service}/${port}/${operation} (it has ${offered.join(', ') || 'none'})`);
    }
    return method;
  }
}
