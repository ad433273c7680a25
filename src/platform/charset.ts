/**
 * Bytes ⇄ text for the legacy systems that speak GBK or GB18030 (iconv-lite). Two rules hold
 * everywhere: a character the target charset cannot hold is never silently turned into "?", and
 * a decoded text containing U+FFFD (bytes that were not valid in the charset) is an error, not data.
 */
import iconv from 'iconv-lite';

/** The charsets the gateway speaks, both directions. */
export const CHARSETS = ['utf-8', 'gbk', 'gb18030'] as const;
export type Charset = (typeof CHARSETS)[number];

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
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const head = bytes.subarray(bom, bom + 200).toString('latin1');
  return /^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(head)?.[1];
}

/** The label a charset goes by in a Content-Type or an XML declaration. */
export function charsetLabel(charset: Charset): string {
  return { 'utf-8': 'UTF-8', gbk: 'GBK', 'gb18030': 'GB18030' }[charset];
}

export interface Decoded {
  text: string;
  charset: Charset;
  /** Where the charset came from: the header, the XML declaration, or the system's configuration. */
  source: 'content-type' | 'declaration' | 'configured';
}

function strictDecode(bytes: Buffer, charset: Charset): string {
  const text = iconv.decode(bytes, charset, { stripBOM: true });
  if (text.includes('\uFFFD')) throw new CharsetError(`the body is not valid ${charsetLabel(charset)} (undecodable bytes)`);
  return text;
}

function supported(label: string, where: string): Charset {
  const charset = knownCharset(label);
  if (!charset) throw new CharsetError(`unsupported charset "${label}" in the ${where}`);
  return charset;
}

/**
 * Decodes a body by, in order, its Content-Type charset, its XML declaration, the configured
 * charset. A text containing U+FFFD (bytes not valid in the charset) is a CharsetError.
 *
 * When the header and the declaration name different charsets, one of them is wrong and guessing
 * could turn a name into plausible-looking mojibake (UTF-8 bytes read as GBK rarely fail).
 * So: GBK against GB18030 is read as GB18030, which reads every GBK text the same; otherwise the
 * body is read only if it reads the same in both (plain ASCII, e.g. codes and numbers), and is a
 * CharsetError naming both labels when it does not.
 */
export function decodeBody(bytes: Buffer, contentType: string | undefined, configured: Charset): Decoded {
  const headerLabel = charsetOfContentType(contentType);
  const declarationLabel = charsetOfXmlDeclaration(bytes);
  const fromHeader = headerLabel === undefined ? undefined : supported(headerLabel, 'Content-Type');
  const fromDeclaration = declarationLabel === undefined ? undefined : supported(declarationLabel, 'XML declaration');
  if (fromHeader && fromDeclaration && fromHeader !== fromDeclaration) {
    const pair = new Set([fromHeader, fromDeclaration]);
    if (pair.has('gbk') && pair.has('gb18030')) {
      return { text: strictDecode(bytes, 'gb18030'), charset: 'gb18030', source: fromHeader === 'gb18030' ? 'content-type' : 'declaration' };
    }
    const disagreement = `the Content-Type says ${headerLabel} but the XML declaration says ${declarationLabel}`;
    let asHeader: string;
    let asDeclaration: string;
    try {
      asHeader = strictDecode(bytes, fromHeader);
      asDeclaration = strictDecode(bytes, fromDeclaration);
    } catch (err) {
      throw new CharsetError(`${disagreement}, and the body is not valid in both: ${(err as Error).message}`);
    }
    if (asHeader !== asDeclaration) throw new CharsetError(`${disagreement}, and the body reads differently in each`);
    return { text: asHeader, charset: fromHeader, source: 'content-type' };
  }
  if (fromHeader) return { text: strictDecode(bytes, fromHeader), charset: fromHeader, source: 'content-type' };
  if (fromDeclaration) return { text: strictDecode(bytes, fromDeclaration), charset: fromDeclaration, source: 'declaration' };
  return { text: strictDecode(bytes, configured), charset: configured, source: 'configured' };
}

/**
 * What each charset is written with. GBK proper is code page 936 without its one-byte euro (0x80):
 * iconv-lite's 'gbk' also writes GB18030's mappings (䶮 as FE 9F, private-use characters in the
 * user-defined areas), and strict GBK decoders (glibc, Python, libxml2) refuse the whole document.
 */
const ENCODER: Record<Charset, string> = { 'utf-8': 'utf-8', gbk: 'cp936', 'gb18030': 'gb18030' };
const EURO = '\u20AC';

/** ASCII is the same in every charset we speak; other characters are tried once each and remembered. */
const ENCODABLE = { gbk: new Map<string, boolean>(), 'gb18030': new Map<string, boolean>(), 'utf-8': new Map<string, boolean>() };

/** Whether `char` (one code point) can be written in `charset` as itself. */
function encodable(char: string, charset: Charset): boolean {
  if (char.charCodeAt(0) < 0x80) return true;
  const known = ENCODABLE[charset].get(char);
  if (known !== undefined) return known;
  const ok = !(charset === 'gbk' && char === EURO) && iconv.decode(iconv.encode(char, ENCODER[charset]), ENCODER[charset]) === char;
  if (ENCODABLE[charset].size < 65_536) ENCODABLE[charset].set(char, ok);
  return ok;
}

/** `text` in `charset`'s bytes when every character of it can be written as itself. */
function encodedWhole(text: string, charset: Charset): Buffer | undefined {
  if (charset === 'gbk' && text.includes(EURO)) return undefined;
  const bytes = iconv.encode(text, ENCODER[charset]);
  return iconv.decode(bytes, ENCODER[charset]) === text ? bytes : undefined;
}

/**
 * Encodes XML text; characters the charset cannot hold (生僻字 outside GBK) become numeric
 * character references, which every XML reader turns back into the same character. Only for
 * text and attribute values: a reference in a name or markup is not XML (see encodeStrict).
 */
export function encodeXml(text: string, charset: Charset): Buffer {
  if (charset !== 'gbk') return iconv.encode(text, charset); // UTF-8 and GB18030 hold all of Unicode
  const whole = encodedWhole(text, charset);
  if (whole) return whole;
  let out = '';
  for (const char of text) out += encodable(char, charset) ? char : `&#x${char.codePointAt(0)!.toString(16).toUpperCase()};`;
  return iconv.encode(out, ENCODER[charset]);
}

/** Encodes text where references are not available; an unencodable character is an error naming `field`. */
export function encodeStrict(text: string, charset: Charset, field: string): Buffer {
  const whole = encodedWhole(text, charset);
  if (whole) return whole;
  const bad = [...text].find((c) => !encodable(c, charset));
  throw new CharsetError(`${field}: "${bad}" (U+${bad?.codePointAt(0)?.toString(16).toUpperCase()}) cannot be written in ${charsetLabel(charset)}`);
}
