/**
 * XML over HTTP, in the system's charset (UTF-8, GBK or GB18030). The mapped body object is written
 * under `xml.root` (`@name` keys are attributes, `#text` an element's own text, arrays repeat their
 * element) after an XML declaration naming the charset, and sent in that charset's bytes. The reply
 * is decoded by its Content-Type charset, else its XML declaration, else the system's charset, and
 * read by the one hardened reader (src/platform/xml.ts) into `{Root: {...}}`, every value a string.
 */
import iconv from 'iconv-lite';
import type { Auth, SystemConfig, SystemOf } from '../../src/config/schema';
import { PermanentError, RetryableError, errorMessage } from '../../src/platform/failure';
import { CharsetError, charsetLabel, decodeBody } from '../../src/platform/charset';
import { XmlRejectedError, XmlWriteError, encodeXmlDocument, readXml, type XmlObject } from '../../src/platform/xml';
import type { Adapter, AdapterFactory, DeliveryContext } from '../adapter';
import { withInlineMaterials } from '../materials';
import { authHeaders, classifyHttpStatus, httpClient, redactedHeaders, sealHeaders } from '../http';

/** The Content-Type of requests and acknowledgements in `charset`. */
export function xmlContentType(system: Pick<SystemConfig, 'charset'>): string {
  return `text/xml; charset=${charsetLabel(system.charset)}`;
}

/** The request body's bytes; a body that cannot be XML in this charset will never be, so it is permanent. */
export function buildRequest(system: SystemOf<'xml'>, body: unknown): Buffer {
  try {
    return encodeXmlDocument(system.xml.root, body, system.charset);
  } catch (err) {
    if (err instanceof XmlWriteError || err instanceof CharsetError) {
      throw new PermanentError(`${system.id}: request body cannot be written as ${charsetLabel(system.charset)} XML: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Authentication headers; HMAC signs the exact bytes sent, which for GBK are not the string's UTF-8. */
function signedHeaders(system: SystemConfig, auth: Auth, payload: Buffer): Record<string, string> {
  if (auth.type === 'wsse') throw new PermanentError(`${system.id}: auth type wsse (WS-Security) needs SOAP; an XML system uses none, bearer, basic or hmac`);
  return authHeaders(auth, payload);
}

/** HTTP headers carry no charset and no character references: what does not fit is refused, naming the header. */
function checkHeaders(system: SystemConfig, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    const bad = /[^\t\x20-\x7e]/.exec(value)?.[0];
    if (bad !== undefined) {
      const code = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new PermanentError(`${system.id}: header ${name}: U+${code} cannot be sent in an HTTP header`);
    }
  }
}

/** The start of an error reply as text, however it is encoded (classifyHttpStatus excerpts and masks it). */
function replyHead(system: SystemConfig, bytes: Buffer, contentType: string | undefined): string {
  const head = bytes.subarray(0, 8 * 1024);
  try {
    return decodeBody(head, contentType, system.charset).text;
  } catch {
    return iconv.decode(head, system.charset);
  }
}

/** Reads a 2xx reply. A reply that is not XML, or not in a charset we can trust, is the system's trouble: retried. */
export function parseReply(system: SystemConfig, status: number, bytes: Buffer, contentType: string | undefined): XmlObject {
  if (bytes.length === 0) throw new RetryableError(`${system.id} answered HTTP ${status} with an empty body instead of XML`);
  let text: string;
  try {
    text = decodeBody(bytes, contentType, system.charset).text;
  } catch (err) {
    throw new RetryableError(`${system.id} answered HTTP ${status} with a body that cannot be decoded: ${errorMessage(err)}`, undefined, { cause: err });
  }
  try {
    return readXml(text);
  } catch (err) {
    if (err instanceof XmlRejectedError) {
      throw new RetryableError(`${system.id} answered HTTP ${status} with a body that is not acceptable XML: ${err.message}`, undefined, { cause: err });
    }
    throw err;
  }
}

export const createXmlAdapter: AdapterFactory<SystemOf<'xml'>> = (system, options) => {
  const client = httpClient(system, options.maxReplyBytes);

  /** The one way a request is framed, for sending and for a dry run alike; inline materials are base64 elements at `materials.field`. */
  const frame = async (mapped: unknown, ctx: DeliveryContext) => {
    const body = ctx.materials ? await withInlineMaterials(system.id, mapped, ctx.materials, 'header') : mapped;
    const payload = buildRequest(system, body);
    const headers: Record<string, string> = {
      'Content-Type': xmlContentType(system),
      Accept: 'text/xml, application/xml',
      'Idempotency-Key': ctx.idempotencyKey,
      ...signedHeaders(system, system.auth, payload),
      ...sealHeaders(ctx.seal, payload),
    };
    checkHeaders(system, headers);
    return { payload, headers };
  };

  const adapter: Adapter = {
    async preview(body, ctx) {
      const { payload, headers } = await frame(body, ctx);
      return { endpoint: system.endpoint, method: system.method, headers: redactedHeaders(headers), charset: charsetLabel(system.charset), body: payload };
    },
    async send(body, ctx) {
      const { payload, headers } = await frame(body, ctx);
      const method = ctx.target?.method === 'PUT' ? 'PUT' : ctx.target ? 'POST' : system.method;
      const reply = await client.request({ method, url: ctx.target?.endpoint ?? system.endpoint, body: payload, headers, signal: ctx.signal, requestId: ctx.requestId });
      const bytes = reply.body;
      const contentType = typeof reply.headers['content-type'] === 'string' ? reply.headers['content-type'] : undefined;
      if (reply.status < 200 || reply.status >= 300) {
        classifyHttpStatus(system, reply.status, reply.headers['retry-after'], replyHead(system, bytes, contentType));
      }
      try {
        return parseReply(system, reply.status, bytes, contentType);
      } catch (err) {
        ctx.log.warn({ status: reply.status, contentType, bytes: bytes.length, err: errorMessage(err) }, 'unreadable XML reply');
        throw err;
      }
    },
    async close() {
      await client.close();
    },
  };
  return adapter;
};
