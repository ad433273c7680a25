/**
 * Results pushed as plain XML (`POST /xml/results/:systemId`), the protocol half: the body read in
 * the system's charset by the one hardened reader, and the acknowledgement written back in it.
 * The route itself (credentials, the receiver) lives in src/results/xml-endpoint.ts.
 *
 *   200 <Ack><code>0</code><msg>成功</msg><caseId>…</caseId><duplicate>false</duplicate></Ack>
 *   4xx <Ack><code>invalid_xml</code><msg>…</msg>[<details><detail><path/><message/></detail>…</details>]</Ack>
 */
import { CharsetError, charsetLabel, decodeBody, type Charset } from '../../src/platform/charset';
import { XmlRejectedError, encodeXmlDocument, readXml, xmlSafeText, type XmlObject } from '../../src/platform/xml';

export interface XmlAck {
  /** "0" when the result was recorded; otherwise the API's error code (e.g. `invalid_xml`). */
  code: string;
  msg: string;
  caseId?: string;
  duplicate?: 'true' | 'false';
  details?: Array<{ path: string; message: string }>;
}

/** A pushed body that is not acceptable XML; `reason` is for logs. */
export class XmlPushRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'XmlPushRefused';
  }
}

/**
 * The pushed document, root element included, every value a string. Decoded by the Content-Type
 * charset, else the XML declaration, else the system's own.
 */
export function readPushedXml(bytes: Buffer, contentType: string | undefined, charset: Charset): XmlObject {
  try {
    return readXml(decodeBody(bytes, contentType, charset).text);
  } catch (err) {
    if (err instanceof CharsetError || err instanceof XmlRejectedError) {
      throw new XmlPushRefused(err instanceof XmlRejectedError ? err.reason : 'charset', `The body is not acceptable XML: ${err.message}`);
    }
    throw err;
  }
}

/**
 * The acknowledgement in `charset` (UTF-8 when the caller has not proved who it is). A message may
 * quote the refused body (a UTF-16 one read as UTF-8 is full of NULs): made safe for XML first.
 */
export function ackReply(ack: XmlAck, charset: Charset = 'utf-8'): { contentType: string; body: Buffer } {
  const safe = (text: string) => xmlSafeText(text);
  const content = {
    code: ack.code,
    msg: safe(ack.msg),
    ...(ack.caseId ? { caseId: ack.caseId } : {}),
    ...(ack.duplicate ? { duplicate: ack.duplicate } : {}),
    ...(ack.details?.length ? { details: { detail: ack.details.map((d) => ({ path: safe(d.path), message: safe(d.message) })) } } : {}),
  };
  return { contentType: `text/xml; charset=${charsetLabel(charset)}`, body: encodeXmlDocument('Ack', content, charset) };
}
