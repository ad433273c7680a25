/**
 * The HTTP client the soap package sends through (its `httpClient` option). It is where the SOAP
 * adapter meets the wire: requests are transcoded to the system's charset; every reply is decoded,
 * checked to be a SOAP envelope and screened by the hardened XML reader before the soap package may
 * parse it; and whatever went wrong on the way is already a RetryableError or a PermanentError.
 */
import type { AxiosInstance, AxiosPromise, AxiosResponse } from 'axios';
import type { IExOptions, IHeaders, IHttpClient } from 'soap';
import type { Auth } from '../../src/config/schema';
import type { Charset } from '../../src/platform/charset';
import { RetryableError } from '../../src/platform/failure';
import { CharsetError } from '../../src/platform/charset';
import { XmlRejectedError } from '../../src/platform/xml';
import { legacyExcerpt, redactUrl } from '../../src/platform/privacy';
import { secretsOf } from '../../src/config/schema';
import { authHeaders, sealHeaders, classifyHttpStatus, closeHttpClient, httpClient, httpStatusError, transportError } from '../http';
import { decodeEnvelope, encodeEnvelope, hasBody, hasFault, isEnvelope, screenEnvelope, withCharset } from './soap.wire';

export interface GuardedHttpOptions {
  systemId: string;
  charset: Charset;
  timeoutMs: number;
  /** Sockets kept for this system: its delivery concurrency. */
  concurrency: number;
  auth: Auth;
  /** Largest reply (or WSDL) read. */
  maxReplyBytes: number;
}

/** What the soap package is handed for a reply: it reads `status`, `headers` and `data`. */
export interface SoapHttpReply {
  status: number;
  headers: Record<string, unknown>;
  data: string;
}

/** Per-call options the adapter passes through the soap package to here. */
export interface GuardedCallOptions extends IExOptions {
  /**
   * Told when the soap package throws while handling a reply we gave it (e.g. an envelope whose
   * Body is empty), which would otherwise be lost in a promise nobody awaits, and the delivery hung.
   */
  onUnexpected?: (err: unknown) => void;
  /** Aborts the HTTP exchange (a look-up past its deadline). */
  signal?: AbortSignal;
  /** The `X-OW-Seal` value for the envelope's bytes in the system's charset. */
  seal?: (payload: Buffer) => string;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

export class GuardedHttpClient implements IHttpClient {
  private readonly client: AxiosInstance;

  constructor(private readonly options: GuardedHttpOptions) {
    this.client = httpClient(options, options.maxReplyBytes);
  }

  request(url: string, data: unknown, callback: (error: unknown, res?: unknown, body?: unknown) => unknown, exheaders?: IHeaders, exoptions?: GuardedCallOptions): AxiosPromise {
    const exchange = data === null || data === undefined ? this.fetchWsdl(url, exheaders ?? {}) : this.post(url, String(data), exheaders ?? {}, exoptions);
    // The soap package drops the promise it gets back: the callback carries the outcome, and the
    // promise must never reject.
    const settled = exchange
      .then(
        (reply) => {
          callback(null, reply, reply.data);
        },
        (err: unknown) => {
          callback(err);
        },
      )
      .catch((err: unknown) => exoptions?.onUnexpected?.(err));
    return settled as unknown as AxiosPromise;
  }

  close(): void {
    closeHttpClient(this.client);
  }

  private async exchange(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: Buffer, signal?: AbortSignal): Promise<AxiosResponse<ArrayBuffer>> {
    const { systemId, timeoutMs } = this.options;
    try {
      return await this.client.request<ArrayBuffer>({ url, method, data: body, headers, signal });
    } catch (err) {
      throw transportError(systemId, timeoutMs, err);
    }
  }

  private decode(res: AxiosResponse<ArrayBuffer>, what: string): string {
    const { systemId, charset } = this.options;
    try {
      return decodeEnvelope(Buffer.from(res.data), header(res.headers, 'content-type'), charset).text;
    } catch (err) {
      if (err instanceof CharsetError) throw new RetryableError(`${systemId} answered ${what} that could not be decoded: ${err.message}`);
      throw err;
    }
  }

  /** The WSDL, when it is a URL: fetched (once per config version, by the adapter) and screened. */
  private async fetchWsdl(url: string, headers: IHeaders): Promise<SoapHttpReply> {
    const { systemId, auth } = this.options;
    const res = await this.exchange(url, 'GET', { Accept: 'text/xml, application/xml, */*', ...(headers as Record<string, string>), ...authHeaders(auth, Buffer.alloc(0)) });
    if (res.status !== 200) throw new RetryableError(`${systemId}: the WSDL at ${redactUrl(url)} answered HTTP ${res.status}`);
    const text = this.decode(res, 'a WSDL');
    try {
      screenEnvelope(text);
    } catch (err) {
      if (err instanceof XmlRejectedError) throw new RetryableError(`${systemId}: the WSDL at ${redactUrl(url)} is refused unread: ${err.message}`);
      throw err;
    }
    return { status: res.status, headers: res.headers as Record<string, unknown>, data: text };
  }

  /** An envelope the soap package wrote, as bytes in the system's charset, with the headers that go with it. */
  frame(xml: string, headers: IHeaders, seal?: (payload: Buffer) => string): { body: Buffer; headers: Record<string, string> } {
    const { charset, auth } = this.options;
    const contentType = typeof headers['Content-Type'] === 'string' ? headers['Content-Type'] : 'text/xml; charset=utf-8';
    const body = encodeEnvelope(xml, charset);
    return {
      body,
      headers: {
        ...(headers as Record<string, string>),
        'Content-Type': withCharset(contentType, charset),
        Accept: 'text/xml, application/soap+xml, */*;q=0.1',
        // WS-Security goes in the envelope; bearer, basic and hmac go in headers as for REST.
        ...authHeaders(auth, body),
        ...sealHeaders(seal, body),
      },
    };
  }

  private async post(url: string, xml: string, headers: IHeaders, options: GuardedCallOptions = {}): Promise<SoapHttpReply> {
    const { systemId, auth } = this.options;
    const framed = this.frame(xml, headers, options.seal);
    const res = await this.exchange(url, 'POST', framed.headers, framed.body, options.signal);
    const text = this.decode(res, `HTTP ${res.status} with a body`);
    if (!isEnvelope(text) || !hasBody(text)) this.notSoap(res, text);
    try {
      screenEnvelope(text);
    } catch (err) {
      if (err instanceof XmlRejectedError) throw new RetryableError(`${systemId} answered with a SOAP reply that was refused unread: ${err.message}`);
      throw err;
    }
    // A fault decides for itself whatever its status; a plain envelope with an error status does not.
    if (!hasFault(text)) classifyHttpStatus({ id: systemId, auth }, res.status, res.headers['retry-after'], '');
    return { status: res.status, headers: res.headers as Record<string, unknown>, data: text };
  }

  /**
   * A reply that is not SOAP at all: a proxy's or a maintenance page, an empty body. Retried like a
   * 5xx, except for a 4xx that the HTTP rule says will be refused again (404 wrong path, 401).
   */
  private notSoap(res: AxiosResponse<ArrayBuffer>, text: string): never {
    const { systemId } = this.options;
    const type = header(res.headers, 'content-type') ?? 'no content type';
    const what = text.trim() === '' ? 'an empty body' : `a reply that is not SOAP (${type}): ${legacyExcerpt(text, { secrets: secretsOf(this.options.auth) })}`;
    // A 2xx that is not SOAP is retried like a 5xx (a proxy page); other statuses as for REST.
    throw httpStatusError(`${systemId} answered HTTP ${res.status} with ${what}`, res.status, res.headers['retry-after']);
  }
}

/** What a dry run captured instead of sending. */
export interface CapturedRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Said to the soap package in place of a reply: the request was captured, not sent. */
export class NotSent extends Error {
  constructor() {
    super('dry run: not sent');
  }
}

/**
 * The soap package's HTTP client for a dry run: the WSDL is read through the guarded client (as for
 * a delivery), the envelope is framed exactly as `post` frames it and kept, and nothing is posted.
 */
export class CapturingHttpClient implements IHttpClient {
  captured?: CapturedRequest;

  constructor(private readonly guarded: GuardedHttpClient) {}

  request(url: string, data: unknown, callback: (error: unknown, res?: unknown, body?: unknown) => unknown, exheaders?: IHeaders, exoptions?: GuardedCallOptions): AxiosPromise {
    if (data === null || data === undefined) return this.guarded.request(url, data, callback, exheaders, exoptions);
    const framed = this.guarded.frame(String(data), exheaders ?? {}, exoptions?.seal);
    this.captured = { url, headers: framed.headers, body: framed.body };
    callback(new NotSent());
    return Promise.resolve() as unknown as AxiosPromise;
  }
}
