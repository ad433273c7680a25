/**
 * The SOAP wire matters the `soap` package leaves to us. It reads every body as UTF-8 and writes
 * `encoding="utf-8"`, so GBK and GB18030 systems are transcoded here, around it. And it must never
 * parse text the hardened reader has not passed (soap 1.13.0 lets a multiRef `id="__proto__"`
 * pollute Object.prototype, CVE-2026-133243), so every envelope, both ways, goes through
 * `screenEnvelope` first.
 */
import type { Charset } from '../../src/platform/charset';
import { CharsetError, charsetLabel, decodeBody, encodeXml } from '../../src/platform/charset';
import { inspectXml } from '../../src/platform/xml';

export type SoapVersion = '1.1' | '1.2';

export const ENVELOPE_NS: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

/** The media type each version travels as (SOAP 1.2 carries its action as a parameter of it). */
export const MEDIA_TYPE: Record<SoapVersion, string> = { '1.1': 'text/xml', '1.2': 'application/soap+xml' };

/** The version a request speaks, by its media type. */
export function versionOfContentType(contentType: string | undefined): SoapVersion {
  return /^\s*application\/soap\+xml/i.test(contentType ?? '') ? '1.2' : '1.1';
}

/** A Content-Type with its charset parameter set to `charset` (kept in place, or added after the media type). */
export function withCharset(contentType: string, charset: Charset): string {
  if (/;\s*charset\s*=/i.test(contentType)) return contentType.replace(/(;\s*charset\s*=\s*)("?)[^";\s]*\2/i, `$1${charsetLabel(charset)}`);
  const [media, ...params] = contentType.split(';');
  return [media.trim(), `charset=${charsetLabel(charset)}`, ...params.map((p) => p.trim())].join('; ');
}

/** XML text as bytes in `charset`, its declaration saying so (the soap package always writes utf-8). */
export function encodeEnvelope(xml: string, charset: Charset): Buffer {
  const declaration = /^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])/;
  const text = declaration.test(xml)
    ? xml.replace(declaration, `$1${charsetLabel(charset)}$2`)
    : charset === 'utf-8'
      ? xml
      : `<?xml version="1.0" encoding="${charsetLabel(charset)}"?>${xml}`;
  return encodeXml(text, charset);
}

/**
 * Bytes to text: by the Content-Type charset, else the XML declaration, else the configured charset.
 * Legacy servers often label GBK bytes as UTF-8 (or not at all), so when the label does not decode
 * cleanly the declaration and then the configured charset are tried before giving up.
 */
export function decodeEnvelope(bytes: Buffer, contentType: string | undefined, configured: Charset): { text: string; charset: Charset } {
  try {
    return decodeBody(bytes, contentType, configured);
  } catch (first) {
    if (!(first instanceof CharsetError)) throw first;
    for (const fallback of [undefined, `text/xml; charset=${configured}`]) {
      try {
        return decodeBody(bytes, fallback, configured);
      } catch {
        // try the next way of reading it
      }
    }
    throw first;
  }
}

/**
 * The local name of the document element, found by a look at the text only (declaration, comments,
 * processing instructions and a DOCTYPE skipped). A sniff, not a parse: deciding "is this SOAP at
 * all" for a clear error; `inspectXml` is what guards the parser.
 */
export function rootElementName(text: string): string | undefined {
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0 || text.slice(i, lt).trim() !== '') return undefined;
    const close = text.startsWith('<?', lt) ? '?>' : text.startsWith('<!--', lt) ? '-->' : text.startsWith('<!', lt) ? '>' : undefined;
    if (close) {
      const end = text.indexOf(close, lt + 2);
      if (end < 0) return undefined;
      i = end + close.length;
      continue;
    }
    return /^<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(text.slice(lt, lt + 300))?.[1];
  }
}

export function isEnvelope(text: string): boolean {
  return rootElementName(text) === 'Envelope';
}

/** Whether an envelope carries a Body, and whether that Body is a Fault (a sniff, as above). */
export function hasBody(text: string): boolean {
  return /<(?:[\w.-]+:)?Body[\s/>]/.test(text);
}

export function hasFault(text: string): boolean {
  return /<(?:[\w.-]+:)?Fault[\s/>]/.test(text);
}

/**
 * The input filter in front of the soap package: throws XmlRejectedError for DOCTYPE or ENTITY
 * declarations, nesting, size and count limits, and `__proto__` / `constructor` / `prototype`
 * names or multiRef ids. Text that passes is safe to hand to node-soap.
 */
export function screenEnvelope(text: string): void {
  inspectXml(text);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
