/**
 * Bytes ⇄ text for the legacy systems that speak GBK or GB18030 (iconv-lite). Two rules hold
 * everywhere: a character the target charset cannot hold is never silently turned into "?", and
 * a decoded text containing U+FFFD (bytes that were not valid in the charset) is an error, not data.
 */
import iconv from 'iconv-lite';
import type { Charset } from '../config/schema';

export class CharsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CharsetError';
  }
}

/** Normalises a charset label (`GBK`, `gb2312`, `UTF8`) to one we speak, or undefined. */
export function knownCharset(label: string | undefined): Charset | undefined {
  const l = label?.trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (!l) return undefined;
  if (l === 'utf-8' || l === 'utf8') return 'utf-8';
  // GB2312 is a subset of GBK, and GBK decoders read it; senders often still label GBK as GB2312.
  if (l === 'gbk' || l === 'gb2312' || l === 'cp936' || l === 'x-gbk') return 'gbk';
  if (l === 'gb18030') return 'gb18030';
  return undefined;
}

export function charsetOfContentType(contentType: string | undefined): string | undefined {
  return /charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType ?? '')?.[2];
}

/** The `encoding` of an XML declaration; the declaration is ASCII in every charset we speak. */
export function charsetOfXmlDeclaration(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 200).toString('latin1');
  return /^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(head)?.[1];
}

export interface Decoded {
  text: string;
  charset: Charset;
  /** Where the charset came from: the header, the XML declaration, or the system's configuration. */
  source: 'content-type' | 'declaration' | 'configured';
}

/**
 * Decodes a body by, in order, its Content-Type charset, its XML declaration, the configured
 * charset. When header and declaration disagree the header wins (as HTTP says it should).
 */
export function decodeBody(bytes: Buffer, contentType: string | undefined, configured: Charset): Decoded {
  const fromHeader = charsetOfContentType(contentType);
  const fromDeclaration = fromHeader ? undefined : charsetOfXmlDeclaration(bytes);
  const label = fromHeader ?? fromDeclaration;
  const charset = label === undefined ? configured : knownCharset(label);
  if (!charset) throw new CharsetError(`unsupported charset "${label}"`);
  const text = iconv.decode(bytes, charset, { stripBOM: true });
  if (text.includes('\uFFFD')) throw new CharsetError(`the body is not valid ${charset} (undecodable bytes)`);
  return { text, charset, source: fromHeader ? 'content-type' : fromDeclaration ? 'declaration' : 'configured' };
}

function encodable(char: string, charset: Charset): boolean {
  return iconv.decode(iconv.encode(char, charset), charset) === char;
}

/**
 * Encodes XML text; characters the charset cannot hold (生僻字 outside GBK) become numeric
 * character references, which every XML reader turns back into the same character.
 */
export function encodeXml(text: string, charset: Charset): Buffer {
  if (charset !== 'gbk') return iconv.encode(text, charset); // UTF-8 and GB18030 hold all of Unicode
  const whole = iconv.encode(text, charset);
  if (iconv.decode(whole, charset) === text) return whole;
  let out = '';
  for (const char of text) out += encodable(char, charset) ? char : `&#x${char.codePointAt(0)!.toString(16).toUpperCase()};`;
  return iconv.encode(out, charset);
}

/** Encodes text where references are not available; an unencodable character is an error naming `field`. */
export function encodeStrict(text: string, charset: Charset, field: string): Buffer {
  const bytes = iconv.encode(text, charset);
  if (iconv.decode(bytes, charset) === text) return bytes;
  const bad = [...text].find((c) => !encodable(c, charset));
  throw new CharsetError(`${field}: "${bad}" (U+${bad?.codePointAt(0)?.toString(16).toUpperCase()}) cannot be written in ${charset}`);
}
