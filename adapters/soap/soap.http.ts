/**
 * The HTTP client the soap package sends through (its `httpClient` option). It is where the SOAP
 * adapter meets the wire: requests are transcoded to the system's charset; every reply is decoded,
 * checked to be a SOAP envelope and screened by the hardened XML reader before the soap package may
 * parse it; and whatever went wrong on the way is already a RetryableError or a PermanentError.
 * Every URL the package asks for, a WSDL's imports included, must pass `egress.allow`, and the
 * system's credentials go only to the origins of its endpoint and its WSDL.
 */
import type { IExOptions, IHeaders, IHttpClient } from 'soap';
import type { Auth, Egress } from '../../src/config/schema';
import { egressRefusal } from '../../src/config/egress';
import type { Charset } from '../../src/platform/charset';
import type { Readable } from 'node:stream';
import { PermanentError, RetryableError } from '../../src/platform/failure';
import type { MaterialPart } from '../adapter';
import { mtomPackage, partContentId } from '../materials';
import { CharsetError } from '../../src/platform/charset';
import { XmlRejectedError } from '../../src/platform/xml';
import { legacyExcerpt, redactUrl } from '../../src/platform/privacy';
import { secretsOf } from '../../src/config/schema';
import { authHeaders, sealHeaders, classifyHttpStatus, httpClient, httpStatusError, type HttpClient, type HttpReply } from '../http';
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
  /** gateway.yaml's `egress.allow`, which every URL asked for must pass. */
  egress?: Egress;
  /** Where basic, bearer and hmac headers may go: the origins of the system's endpoint and its WSDL. */
  credentialOrigins: ReadonlySet<string>;
}

/** `url`'s scheme, host and port, or undefined when it is not a URL. */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
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
  /** Materials sent as MTOM/XOP parts: the envelope carries `markers[i]` where part i is referenced. */
  mtom?: MtomParts;
  /** Sent as X-Request-Id. */
  requestId?: string;
}

export interface MtomParts {
  parts: MaterialPart[];
  markers: string[];
}

/**
 * The envelope with each marker (the text of an element the mapping filled) replaced by an
 * xop:Include of its part. A marker the soap package did not write as it was given (it never
 * should) is a mapping that cannot carry the materials: permanent.
 */
function xopEnvelope(systemId: string, xml: string, mtom: MtomParts): string {
  let out = xml;
  mtom.parts.forEach((part, i) => {
    const marker = mtom.markers[i]!;
    if (out.split(marker).length !== 2) throw new PermanentError(`${systemId}: the SOAP body does not carry material ${i} where materials.field says`);
    out = out.replace(marker, `<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:${encodeURIComponent(partContentId(i, part))}"/>`);
  });
  return out;
}

/** The charset parameter of a Content-Type (what the envelope was encoded in). */
function charsetOf(contentType: string): string {
  return /charset="?([^";\s]+)"?/i.exec(contentType)?.[1] ?? 'utf-8';
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The documents (WSDLs and what they import) fetched for each system's calls, by system and URL: a
 * dry run reads them here, so it fetches nothing, whatever URL a proposed configuration names.
 */
const fetchedDocuments = new Map<string, Map<string, SoapHttpReply>>();

/** What the soap package's typings say `request` returns; the package itself drops it. */
type Dropped = ReturnType<IHttpClient['request']>;

export class GuardedHttpClient implements IHttpClient {
  private readonly client: HttpClient;

  constructor(private readonly options: GuardedHttpOptions) {
    this.client = httpClient({ ...options, id: options.systemId }, options.maxReplyBytes);
  }

  get systemId(): string {
    return this.options.systemId;
  }

  /** The document at `url` as fetched earlier for this system's calls, if it was. */
  fetched(url: string): SoapHttpReply | undefined {
    return fetchedDocuments.get(this.options.systemId)?.get(url);
  }

  request(url: string, data: unknown, callback: (error: unknown, res?: unknown, body?: unknown) => unknown, exheaders?: IHeaders, exoptions?: GuardedCallOptions): Dropped {
    const refusal = egressRefusal(url, this.options.egress);
    const exchange = refusal
      ? Promise.reject(new RetryableError(`${this.options.systemId}: ${redactUrl(url)} is not fetched: ${refusal}`))
      : data === null || data === undefined
        ? this.fetchWsdl(url, exheaders ?? {})
        : this.post(url, String(data), exheaders ?? {}, exoptions);
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
    return settled as unknown as Dropped;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private decode(res: HttpReply, what: string): string {
    const { systemId, charset } = this.options;
    try {
      return decodeEnvelope(res.body, header(res.headers, 'content-type'), charset).text;
    } catch (err) {
      if (err instanceof CharsetError) throw new RetryableError(`${systemId} answered ${what} that could not be decoded: ${err.message}`);
      throw err;
    }
  }

  /** The system's credentials as headers, for a request to `url`: none to an origin it does not trust. */
  private credentials(url: string, body: Buffer): Record<string, string> {
    const origin = originOf(url);
    return origin && this.options.credentialOrigins.has(origin) ? authHeaders(this.options.auth, body) : {};
  }

  /** The WSDL, or a document it imports: fetched (once per config version, by the adapter) and screened. */
  private async fetchWsdl(url: string, headers: IHeaders): Promise<SoapHttpReply> {
    const { systemId } = this.options;
    const res = await this.client.request({ url, method: 'GET', headers: { Accept: 'text/xml, application/xml, */*', ...(headers as Record<string, string>), ...this.credentials(url, Buffer.alloc(0)) } });
    if (res.status !== 200) throw new RetryableError(`${systemId}: the WSDL at ${redactUrl(url)} answered HTTP ${res.status}`);
    const text = this.decode(res, 'a WSDL');
    try {
      screenEnvelope(text);
    } catch (err) {
      if (err instanceof XmlRejectedError) throw new RetryableError(`${systemId}: the WSDL at ${redactUrl(url)} is refused unread: ${err.message}`);
      throw err;
    }
    const reply = { status: res.status, headers: res.headers, data: text };
    if (!fetchedDocuments.has(systemId)) fetchedDocuments.set(systemId, new Map());
    fetchedDocuments.get(systemId)!.set(url, reply);
    return reply;
  }

  /**
   * An envelope the soap package wrote, as bytes in the system's charset, with the headers that go
   * with it. With MTOM parts, `body` stays the envelope (what the seal and an hmac signature cover)
   * and `package` is the multipart/related stream that is sent.
   */
  frame(url: string, xml: string, headers: IHeaders, seal?: (payload: Buffer) => string, mtom?: MtomParts): { body: Buffer; headers: Record<string, string>; package?: Readable } {
    const { charset, systemId } = this.options;
    const contentType = typeof headers['Content-Type'] === 'string' ? headers['Content-Type'] : 'text/xml; charset=utf-8';
    const body = encodeEnvelope(mtom ? xopEnvelope(systemId, xml, mtom) : xml, charset);
    const common = {
      ...(headers as Record<string, string>),
      'Content-Type': withCharset(contentType, charset),
      Accept: 'text/xml, application/soap+xml, */*;q=0.1',
      // WS-Security goes in the envelope; bearer, basic and hmac go in headers as for REST.
      ...this.credentials(url, body),
      ...sealHeaders(seal, body),
    };
    if (!mtom) return { body, headers: common };
    const soap12 = /^application\/soap\+xml/i.test(contentType);
    const action = /;\s*action="?([^";]+)"?/i.exec(contentType)?.[1];
    const pkg = mtomPackage(body, soap12 ? 'application/soap+xml' : 'text/xml', charsetOf(common['Content-Type']), mtom.parts, action);
    return { body, headers: { ...common, 'Content-Type': pkg.contentType, 'Content-Length': String(pkg.length), 'MIME-Version': '1.0' }, package: pkg.stream };
  }

  private async post(url: string, xml: string, headers: IHeaders, options: GuardedCallOptions = {}): Promise<SoapHttpReply> {
    const { systemId, auth } = this.options;
    const framed = this.frame(url, xml, headers, options.seal, options.mtom);
    const res = await this.client.request({ url, method: 'POST', headers: framed.headers, body: framed.package ?? framed.body, signal: options.signal, requestId: options.requestId });
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
    return { status: res.status, headers: res.headers, data: text };
  }

  /**
   * A reply that is not SOAP at all: a proxy's or a maintenance page, an empty body. Retried like a
   * 5xx, except for a 4xx that the HTTP rule says will be refused again (404 wrong path, 401).
   */
  private notSoap(res: HttpReply, text: string): never {
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
 * The soap package's HTTP client for a dry run, which sends and fetches nothing: a WSDL (or what it
 * imports) is read from what the system's calls already fetched, or the preview is refused; the
 * envelope is framed exactly as `post` frames it and kept.
 */
export class CapturingHttpClient implements IHttpClient {
  captured?: CapturedRequest;

  constructor(private readonly guarded: GuardedHttpClient) {}

  request(url: string, data: unknown, callback: (error: unknown, res?: unknown, body?: unknown) => unknown, exheaders?: IHeaders, exoptions?: GuardedCallOptions): Dropped {
    if (data === null || data === undefined) {
      const fetched = this.guarded.fetched(url);
      if (fetched) callback(null, fetched, fetched.data);
      else callback(new RetryableError(`${this.guarded.systemId}: the envelope cannot be previewed without fetching ${redactUrl(url)}, and a dry run fetches nothing; it can be once a delivery to this system has loaded it (a WSDL file in the configuration folder can be at any time)`));
      return Promise.resolve() as unknown as Dropped;
    }
    // A dry run shows the envelope (with its xop:Include references), never the parts' bytes.
    const framed = this.guarded.frame(url, String(data), exheaders ?? {}, exoptions?.seal, exoptions?.mtom);
    framed.package?.destroy();
    this.captured = { url, headers: framed.headers, body: framed.body };
    callback(new NotSent());
    return Promise.resolve() as unknown as Dropped;
  }
}
