/**
 * XML over HTTP, in the system's charset (UTF-8, GBK or GB18030). The mapped body object is written
 * under `xml.root` (`@name` keys are attributes, `#text` an element's own text, arrays repeat their
 * element) after an XML declaration naming the charset, and sent in that charset's bytes. The reply
 * is decoded by its Content-Type charset, else its XML declaration, else the system's charset, and
 * read by the one hardened reader (src/platform/xml.ts) into `{Root: {...}}`, every value a string.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosResponse } from 'axios';
import iconv from 'iconv-lite';
import type { Auth, SystemConfig } from '../../src/config/schema';
import { PermanentError, RetryableError, errorMessage } from '../../src/delivery/errors';
import { CharsetError, charsetLabel, decodeBody } from '../../src/platform/charset';
import { XmlRejectedError, XmlWriteError, encodeXmlDocument, readXml, type XmlObject } from '../../src/platform/xml';
import type { Adapter, AdapterFactory } from '../adapter';
import { authHeaders, classifyHttpStatus, transportError } from '../http';

/** Largest reply read: the XML reader takes 1 Mi characters, which is at most 4 MiB in any charset we speak. */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/** The Content-Type of requests and acknowledgements in `charset`. */
export function xmlContentType(system: Pick<SystemConfig, 'charset'>): string {
  return `text/xml; charset=${charsetLabel(system.charset)}`;
}

/** The request body's bytes; a body that cannot be XML in this charset will never be, so it is permanent. */
export function buildRequest(system: SystemConfig, body: unknown): Buffer {
  try {
    return encodeXmlDocument(system.xml!.root, body, system.charset);
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
  if (auth.type !== 'hmac') return authHeaders(auth, '');
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = crypto.createHmac('sha256', auth.secret).update(`${timestamp}.`).update(payload).digest('hex');
  return { 'X-OW-Timestamp': String(timestamp), 'X-OW-Nonce': crypto.randomUUID(), 'X-OW-Signature': `sha256=${signature}` };
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

/** A short, readable excerpt of an error reply for the delivery's history, however it is encoded. */
function snippet(system: SystemConfig, bytes: Buffer, contentType: string | undefined): string {
  const head = bytes.subarray(0, 400);
  try {
    return decodeBody(head, contentType, system.charset).text.slice(0, 200);
  } catch {
    return iconv.decode(head, system.charset).slice(0, 200);
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

export const createXmlAdapter: AdapterFactory = (system) => {
  if (!system.xml) throw new Error(`system ${system.id}: protocol xml needs an xml section ({root})`);
  // One keep-alive pool per configured system, so a slow system cannot starve another's sockets.
  const client = axios.create({
    timeout: system.timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: system.concurrency }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: system.concurrency }),
    responseType: 'arraybuffer',
    transformResponse: (data: unknown) => data,
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: MAX_REPLY_BYTES,
  });

  const adapter: Adapter = {
    async send(body, ctx) {
      const payload = buildRequest(system, body);
      const headers = {
        'Content-Type': xmlContentType(system),
        Accept: 'text/xml, application/xml',
        'Idempotency-Key': ctx.idempotencyKey,
        ...signedHeaders(system, system.auth, payload),
      };
      checkHeaders(system, headers);
      let reply: AxiosResponse<ArrayBuffer>;
      try {
        reply = await client.request<ArrayBuffer>({ method: system.method, url: system.endpoint, data: payload, headers });
      } catch (err) {
        if (axios.isAxiosError(err) && /maxContentLength/.test(err.message)) {
          throw new RetryableError(`${system.id} answered with more than ${MAX_REPLY_BYTES} bytes`, undefined, { cause: err });
        }
        throw transportError(system.id, system.timeoutMs, err);
      }
      const bytes = Buffer.from(reply.data ?? new ArrayBuffer(0));
      const contentType = typeof reply.headers['content-type'] === 'string' ? reply.headers['content-type'] : undefined;
      if (reply.status < 200 || reply.status >= 300) {
        classifyHttpStatus(system.id, reply.status, reply.headers['retry-after'], snippet(system, bytes, contentType));
      }
      try {
        return parseReply(system, reply.status, bytes, contentType);
      } catch (err) {
        ctx.log.warn({ status: reply.status, contentType, bytes: bytes.length, err: errorMessage(err) }, 'unreadable XML reply');
        throw err;
      }
    },
    async close() {
      client.defaults.httpAgent?.destroy();
      client.defaults.httpsAgent?.destroy();
    },
  };
  return adapter;
};
