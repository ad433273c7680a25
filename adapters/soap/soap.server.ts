/**
 * A SOAP server from the `soap` package, behind the same guard as the adapter's replies: the body is
 * decoded from its charset, refused with a Fault unless it is a SOAP envelope the hardened reader
 * passes and whose Body is an operation of the WSDL, and only then handed to the package (its
 * serverless `processRequest`, so that we hold the bytes both ways). The answer goes back in the
 * charset the request came in. Used by the gateway's `/soap/results` and by the simulators.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as soap from 'soap';
import type { Charset } from '../../src/platform/charset';
import { CharsetError } from '../../src/platform/charset';
import { XmlRejectedError, readXml } from '../../src/platform/xml';
import { faultEnvelope, faultStatus, type FaultParty } from './soap.faults';
import { MEDIA_TYPE, decodeEnvelope, encodeEnvelope, isEnvelope, screenEnvelope, withCharset, type SoapVersion } from './soap.wire';

export interface GuardedSoapServerOptions {
  /** The WSDL's text. */
  wsdl: string;
  /** service → port → operation → implementation, as the soap package takes them. */
  services: soap.IServices;
  /** The version this server answers in (its envelopes and fault codes). */
  version: SoapVersion;
  /** The charset of a request that declares none (default UTF-8). */
  charset?: Charset;
  /** The charset of every answer; by default the one the request came in. */
  replyCharset?: Charset;
}

export interface SoapHttpRequest {
  body: Buffer;
  headers: IncomingHttpHeaders;
  url: string;
  /** This request's own state, handed to the operation it calls (see `callOf`). */
  call?: object;
}

/**
 * The package hands an operation the request it was given (`(args, callback, headers, req)`), its
 * headers the very object passed in: each request's state is found by that object.
 */
const calls = new WeakMap<object, object>();

/** The `call` of the request an operation was called for (its fourth argument), if one was given. */
export function callOf(req: unknown): object | undefined {
  const headers = (req as { headers?: unknown } | null | undefined)?.headers;
  return headers !== null && typeof headers === 'object' ? calls.get(headers) : undefined;
}

export interface SoapHttpAnswer {
  status: number;
  contentType: string;
  body: Buffer;
  /** Why the request was refused before any operation ran (the sender's fault), for logs and tests. */
  refused?: string;
}

interface Binding {
  topElements?: Record<string, unknown>;
}

export class GuardedSoapServer {
  private constructor(
    private readonly server: soap.Server,
    private readonly options: GuardedSoapServerOptions,
    /** The local names of the elements an operation's request Body may hold. */
    private readonly operations: ReadonlySet<string>,
  ) {}

  static async create(options: GuardedSoapServerOptions): Promise<GuardedSoapServer> {
    const server = await new Promise<soap.Server>((resolve, reject) => {
      soap.listen(null, {
        path: '/',
        services: options.services,
        xml: options.wsdl,
        forceSoap12Headers: options.version === '1.2',
        suppressStack: true,
        callback: (err: unknown, ready: soap.Server) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(ready)),
      });
    });
    // The package keeps its parsed WSDL private; the input element of each document operation is there.
    const bindings = (server as unknown as { wsdl: { definitions: { bindings: Record<string, Binding> } } }).wsdl.definitions.bindings;
    const operations = new Set(Object.values(bindings).flatMap((b) => Object.keys(b.topElements ?? {})));
    return new GuardedSoapServer(server, options, operations);
  }

  async handle(request: SoapHttpRequest): Promise<SoapHttpAnswer> {
    let decoded: { text: string; charset: Charset };
    try {
      decoded = decodeEnvelope(request.body, request.headers['content-type'], this.options.charset ?? 'utf-8');
    } catch (err) {
      if (err instanceof CharsetError) return this.refuse('sender', `The body could not be decoded: ${err.message}`, this.options.replyCharset ?? 'utf-8');
      throw err;
    }
    const { text } = decoded;
    const charset = this.options.replyCharset ?? decoded.charset;
    const refusal = this.screen(text);
    if (refusal) return this.refuse('sender', refusal, charset);

    // The Body element picks the operation (document/literal), so a SOAPAction is not consulted:
    // the package would fail with a stack-less TypeError on one it does not know.
    const { soapaction: _action, ...headers } = request.headers;
    if (request.call) calls.set(headers, request.call);
    const out = await this.server.processRequest(text, { method: 'POST', url: request.url, headers: headers as Record<string, string> });
    if (!isEnvelope(out.body)) {
      // The package answers its own internal errors as plain text: not for the sender's eyes.
      return { ...this.refuse('receiver', 'The request could not be processed; try again later.', charset), refused: undefined };
    }
    return { status: out.statusCode, contentType: withCharset(MEDIA_TYPE[this.options.version], charset), body: encodeEnvelope(out.body, charset) };
  }

  /** Why `text` may not reach the soap package, or undefined when it may. */
  private screen(text: string): string | undefined {
    // The hardened reader first: what it refuses (a DOCTYPE above all) is said as such.
    try {
      screenEnvelope(text);
    } catch (err) {
      if (err instanceof XmlRejectedError) return `The request is refused unread: ${err.message}.`;
      throw err;
    }
    if (!isEnvelope(text)) return 'The body is not a SOAP envelope.';
    let body: unknown;
    try {
      body = readXml(text, { removeNamespacePrefixes: true }).Envelope;
    } catch (err) {
      if (err instanceof XmlRejectedError) return `The envelope is malformed: ${err.message}.`;
      throw err;
    }
    const content = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).Body : undefined;
    const elements = content !== null && typeof content === 'object' ? Object.keys(content).filter((k) => !k.startsWith('@') && k !== '#text') : [];
    if (elements.length !== 1) return 'The envelope must have a Body with exactly one operation element.';
    if (!this.operations.has(elements[0])) return `The operation ${elements[0]} is not offered here (${[...this.operations].join(', ')}).`;
    return undefined;
  }

  private refuse(party: FaultParty, message: string, charset: Charset): SoapHttpAnswer {
    const { version } = this.options;
    return {
      status: faultStatus(version, party),
      contentType: withCharset(MEDIA_TYPE[version], charset),
      body: encodeEnvelope(faultEnvelope(version, party, message), charset),
      refused: message,
    };
  }
}
