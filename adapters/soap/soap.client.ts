/**
 * One operation of a WSDL-described service, called through the `soap` package's client. The WSDL
 * is loaded on first use and kept (a load that fails is forgotten, so the next call tries again);
 * every byte goes through GuardedHttpClient; every failure comes out as a RetryableError or a
 * PermanentError. The SOAP adapter holds one per configured system and config version; the
 * simulators use one to push results to the gateway.
 */
import * as soap from 'soap';
import type { IHttpClient, SoapMethod } from 'soap';
import type { Auth } from '../../src/config/schema';
import type { Charset } from '../../src/platform/charset';
import { PermanentError, RetryableError, errorMessage } from '../../src/platform/failure';
import { secretsOf } from '../../src/config/schema';
import { redactedHeaders } from '../http';
import { classifySoapError } from './soap.faults';
import { CapturingHttpClient, GuardedHttpClient, NotSent, type CapturedRequest, type GuardedCallOptions } from './soap.http';
import type { SoapVersion } from './soap.wire';

export interface SoapOperationOptions {
  /** Who is called, for every error message. */
  systemId: string;
  /** The WSDL: an absolute file path or an http(s) URL. */
  wsdl: string;
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
export type CallOptions = Pick<GuardedCallOptions, 'signal' | 'seal'>;

type Call = (args: Record<string, unknown>, headers: Record<string, string>, options: CallOptions) => Promise<unknown>;

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
    // A Body without the output element (or with an empty one) cannot be read: retried.
    if (output === undefined || output === null) throw new RetryableError(`${this.options.systemId} answered without a ${this.options.operation} output`);
    return output;
  }

  /**
   * The request `call` would send, captured instead of sent (dry runs): the same WSDL, envelope,
   * charset and headers; a WS-Security password is written as `[redacted]`, credentials in headers
   * are redacted.
   */
  async preview(args: Record<string, unknown>, headers: Record<string, string> = {}, seal?: (payload: Buffer) => string): Promise<CapturedRequest> {
    const capturing = new CapturingHttpClient(this.http);
    const method = await this.method(capturing, true);
    await new Promise<void>((resolve, reject) => {
      const callOptions: GuardedCallOptions = { onUnexpected: reject, ...(seal ? { seal } : {}) };
      method(args, (err) => (err && !(err instanceof NotSent) && !capturing.captured ? reject(classifySoapError(this.options.systemId, err, secretsOf(this.options.auth))) : resolve()), callOptions, headers);
    });
    if (!capturing.captured) throw new PermanentError(`${this.options.systemId}: the soap client wrote no request`);
    return { ...capturing.captured, headers: redactedHeaders(capturing.captured.headers) };
  }

  close(): void {
    this.http.close();
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
    const { systemId, wsdl, endpoint, service, port, operation, version, auth } = this.options;
    let client: soap.Client;
    try {
      // The package's own WSDL cache would outlive a config reload; ours is this object.
      client = await soap.createClientAsync(wsdl, { httpClient: http, disableCache: true, forceSoap12Headers: version === '1.2' }, endpoint);
    } catch (err) {
      throw new RetryableError(`${systemId}: the WSDL ${wsdl} could not be loaded: ${errorMessage(err)}`, undefined, { cause: err });
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
