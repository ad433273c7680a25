/**
 * The one hardened XML reader. Every place that reads XML from outside (the XML adapter's replies,
 * the XML and SOAP result endpoints, SOAP replies) goes through `inspectXml` before any parser sees
 * the text, so no input can make us expand an entity, recurse without end, or pollute a prototype.
 *
 * `inspectXml` is one linear pass over the text: it refuses DOCTYPE and ENTITY declarations outright
 * (refused, never expanded: billion laughs, quadratic blowup and external entities all need one),
 * and enforces limits on size, depth, element and attribute counts, attribute and name length. Predefined
 * entities (`&amp;`) and character references still decode as usual in `readXml`.
 *
 * `writeXml` / `encodeXmlDocument` are its counterpart for what the gateway sends: a body object
 * written under a root element, escaped, in the bytes of a system's charset (docs/xml.md).
 */
import { XMLParser } from 'fast-xml-parser';
import type { Charset } from './charset';
import { charsetLabel, encodeStrict, encodeXml } from './charset';

export interface XmlLimits {
  /** Characters of XML text. */
  maxLength: number;
  maxDepth: number;
  maxElements: number;
  maxAttributesPerElement: number;
  maxAttributeLength: number;
  /** Characters of an element or attribute name (optional for callers' own limits; 256 by default). */
  maxNameLength?: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxLength: 1024 * 1024,
  maxDepth: 64,
  maxElements: 20_000,
  maxAttributesPerElement: 64,
  maxAttributeLength: 8 * 1024,
  maxNameLength: 256,
};

export type XmlRejection = 'doctype' | 'too_long' | 'name_too_long' | 'too_deep' | 'too_many_elements' | 'too_many_attributes' | 'attribute_too_long' | 'forbidden_name' | 'malformed';

/** XML we will not read. `reason` is for logs and tests; the message is safe to show the sender. */
export class XmlRejectedError extends Error {
  constructor(
    readonly reason: XmlRejection,
    message: string,
  ) {
    super(message);
    this.name = 'XmlRejectedError';
  }
}

/** Names that would reach Object.prototype if an object were built from them. */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function localName(qualified: string): string {
  const colon = qualified.lastIndexOf(':');
  return colon >= 0 ? qualified.slice(colon + 1) : qualified;
}

/** A name as a message may quote it: an attacker's megabyte-long name is not echoed back. */
export function shown(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

function checkName(name: string, what: string, limits: XmlLimits): void {
  const max = limits.maxNameLength ?? 256;
  if (name.length > max) throw new XmlRejectedError('name_too_long', `XML ${what} name "${shown(name)}" is longer than ${max} characters`);
  // Every part of a prefixed name: a parser that drops prefixes may keep any one of them.
  const forbidden = name.includes(':') ? name.split(':').some((part) => FORBIDDEN_NAMES.has(part)) : FORBIDDEN_NAMES.has(name);
  if (forbidden) throw new XmlRejectedError('forbidden_name', `XML ${what} name "${shown(name)}" is not allowed`);
}

/** XML 1.0's Char: tab, LF, CR and U+0020 up, no surrogates, no U+FFFE/U+FFFF (NaN is not one either). */
function isXmlCharCode(code: number): boolean {
  if (code === 0x9 || code === 0xa || code === 0xd) return true;
  return (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

const CHAR_REFERENCE = /&#(?:x([0-9a-f]{1,8})|([0-9]{1,10}));/gi;

/**
 * A character XML 1.0 cannot carry (a NUL, another C0 control), written or as a reference a parser
 * would decode (`&#0;`, `&#x1F;`): refused, so none reaches a case's result or the ledger.
 */
function checkCharacters(text: string): void {
  const literal = NOT_XML_CHAR.exec(text)?.[0];
  if (literal !== undefined) throw new XmlRejectedError('malformed', `XML contains the character ${codePointName(literal.codePointAt(0)!)}, which XML cannot carry`);
  for (const m of text.matchAll(CHAR_REFERENCE)) {
    const code = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    if (!isXmlCharCode(code)) throw new XmlRejectedError('malformed', `XML contains the reference ${shown(m[0])}, a character XML cannot carry`);
  }
}

function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * An attribute value as a parser reads it: the five predefined entities and decimal or hex
 * character references decoded. Without a DTD no other entity exists, so any other `&name;`, or a
 * reference to no character, is malformed XML. One pass, linear in the value.
 */
export function decodeAttributeValue(raw: string, attribute: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp);
    // A real reference is short: `&#x10FFFF;` is the longest; anything longer is refused unread.
    if (semi < 0 || semi - amp > 12) throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} has an unterminated reference`);
    const name = raw.slice(amp + 1, semi);
    let decoded = Object.hasOwn(PREDEFINED_ENTITIES, name) ? PREDEFINED_ENTITIES[name] : undefined;
    if (decoded === undefined) {
      const code = /^#x[0-9a-f]{1,6}$/i.test(name) ? parseInt(name.slice(2), 16) : /^#[0-9]{1,7}$/.test(name) ? parseInt(name.slice(1), 10) : NaN;
      if (!isXmlCharCode(code)) {
        throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} has an unknown reference &${shown(name)};`);
      }
      decoded = String.fromCodePoint(code);
    }
    out += raw.slice(from, amp) + decoded;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/**
 * Runs of characters, matched from a given index (sticky): the engine's own loop is linear and
 * fast, and nothing follows the run, so nothing can backtrack.
 */
const SPACES = /[ \t\n\r]*/y;
const ELEMENT_NAME = /[^ \t\n\r/><]*/y;
const ATTRIBUTE_NAME = /[^ \t\n\r=/><"']*/y;

/** Where the run of `pattern` starting at `from` ends. */
function runEnd(pattern: RegExp, text: string, from: number): number {
  pattern.lastIndex = from;
  pattern.test(text);
  return pattern.lastIndex;
}

function skipPast(text: string, from: number, terminator: string, what: string): number {
  const end = text.indexOf(terminator, from);
  if (end < 0) throw new XmlRejectedError('malformed', `XML ${what} is not closed`);
  return end + terminator.length;
}

/**
 * Checks the start tag whose name begins at `from` (just past its `<`) and answers where it ends.
 * A scan that looks at every character a bounded number of times: one regular expression for a
 * whole attribute (`name\s*=\s*"…"`) backtracks quadratically over a long name without `=`.
 */
function inspectStartTag(text: string, from: number, limits: XmlLimits): { end: number; selfClosing: boolean } {
  let i = runEnd(ELEMENT_NAME, text, from);
  const name = text.slice(from, i);
  if (!name) throw new XmlRejectedError('malformed', 'XML element without a name');
  checkName(name, 'element', limits);
  let attributes = 0;
  for (;;) {
    i = runEnd(SPACES, text, i);
    if (i >= text.length) throw new XmlRejectedError('malformed', 'XML start tag is not closed');
    if (text[i] === '>') return { end: i + 1, selfClosing: false };
    if (text[i] === '/') {
      if (text[i + 1] === '>') return { end: i + 2, selfClosing: true };
      throw new XmlRejectedError('malformed', `XML start tag <${shown(name)}> is malformed`);
    }
    const nameStart = i;
    i = runEnd(ATTRIBUTE_NAME, text, i);
    const attribute = text.slice(nameStart, i);
    if (!attribute) throw new XmlRejectedError('malformed', `XML start tag <${shown(name)}> is malformed`);
    checkName(attribute, 'attribute', limits);
    if (++attributes > limits.maxAttributesPerElement) {
      throw new XmlRejectedError('too_many_attributes', `XML element <${shown(name)}> has more than ${limits.maxAttributesPerElement} attributes`);
    }
    i = runEnd(SPACES, text, i);
    if (text[i] !== '=') throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} has no value`);
    i = runEnd(SPACES, text, i + 1);
    const quote = text[i];
    if (quote !== '"' && quote !== "'") throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} is not quoted`);
    const close = text.indexOf(quote, i + 1);
    if (close < 0) throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} is not closed`);
    if (close - i - 1 > limits.maxAttributeLength) {
      throw new XmlRejectedError('attribute_too_long', `XML attribute ${shown(attribute)} is longer than ${limits.maxAttributeLength} characters`);
    }
    const raw = text.slice(i + 1, close);
    if (raw.includes('<')) throw new XmlRejectedError('malformed', `XML attribute ${shown(attribute)} contains "<"`);
    // multiRef id="__proto__" is how node-soap was made to pollute Object.prototype. Parsers decode
    // references before they use a value, so the check is on the decoded value (`&#95;_proto__`),
    // and on every attribute, not only id and href.
    const value = decodeAttributeValue(raw, attribute);
    if (FORBIDDEN_NAMES.has(localName(value.trim().replace(/^#/, '')))) {
      throw new XmlRejectedError('forbidden_name', `XML attribute ${shown(attribute)}="${shown(value)}" is not allowed`);
    }
    i = close + 1;
  }
}

/** Refuses what must never reach a parser; returns quietly when the text is safe to parse. */
export function inspectXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  if (text.length > limits.maxLength) throw new XmlRejectedError('too_long', `XML is longer than ${limits.maxLength} characters`);
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlRejectedError('doctype', 'XML with a DOCTYPE or ENTITY declaration is refused');
  }
  checkCharacters(text);
  let depth = 0;
  let elements = 0;
  let i = text.indexOf('<');
  while (i >= 0) {
    if (text.startsWith('<!--', i)) i = skipPast(text, i + 4, '-->', 'comment');
    else if (text.startsWith('<![CDATA[', i)) i = skipPast(text, i + 9, ']]>', 'CDATA section');
    else if (text.startsWith('<?', i)) i = skipPast(text, i + 2, '?>', 'processing instruction');
    else if (text.startsWith('<!', i)) throw new XmlRejectedError('malformed', 'XML markup declaration is not allowed');
    else if (text.startsWith('</', i)) {
      if (--depth < 0) throw new XmlRejectedError('malformed', 'XML end tag without a start tag');
      i = skipPast(text, i + 2, '>', 'end tag');
    } else {
      if (++elements > limits.maxElements) throw new XmlRejectedError('too_many_elements', `XML has more than ${limits.maxElements} elements`);
      const tag = inspectStartTag(text, i + 1, limits);
      if (!tag.selfClosing && ++depth > limits.maxDepth) throw new XmlRejectedError('too_deep', `XML is nested deeper than ${limits.maxDepth} levels`);
      i = tag.end;
    }
    i = text.indexOf('<', i);
  }
  if (depth !== 0) throw new XmlRejectedError('malformed', 'XML elements are not balanced');
}

export type XmlObject = { [name: string]: XmlValue };
export type XmlValue = string | XmlObject | XmlValue[];

export interface ReadXmlOptions {
  limits?: XmlLimits;
  /** Drop namespace prefixes from names (`soap:Body` → `Body`). */
  removeNamespacePrefixes?: boolean;
}

const parsers = new Map<boolean, XMLParser>();
function parserFor(removeNSPrefix: boolean): XMLParser {
  let parser = parsers.get(removeNSPrefix);
  if (!parser) {
    parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@',
      textNodeName: '#text',
      // Every value stays a string: "0012300" and "33080219900101123X" must survive exactly.
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: true,
      processEntities: true,
      // Needed for numeric character references (&#x20000;), which is how 生僻字 travel in GBK XML.
      // It also reads HTML's named entities (&nbsp;), a harmless leniency.
      htmlEntities: true,
      removeNSPrefix,
      ignoreDeclaration: true,
      ignorePiTags: true,
    });
    parsers.set(removeNSPrefix, parser);
  }
  return parser;
}

/**
 * Inspects, then parses into plain objects: elements become keys, attributes `@name`, mixed text
 * `#text`; repeated elements become arrays; every value is a string.
 */
export function readXml(text: string, options: ReadXmlOptions = {}): XmlObject {
  inspectXml(text, options.limits);
  let parsed: unknown;
  try {
    parsed = parserFor(options.removeNamespacePrefixes ?? false).parse(text, true);
  } catch (err) {
    throw new XmlRejectedError('malformed', `XML is not well-formed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || Object.keys(parsed).length === 0) throw new XmlRejectedError('malformed', 'XML has no root element');
  return parsed as XmlObject;
}

/** A body that cannot be written as XML; `field` is the path of the offending value or name. */
export class XmlWriteError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'XmlWriteError';
  }
}

export interface WriteXmlOptions {
  /** Deepest nesting written, so that we never send what our own reader would refuse (default 64). */
  maxDepth?: number;
  /** Further checks on every element and attribute name, e.g. that the charset can hold it. */
  checkName?: (name: string, field: string) => void;
}

// XML 1.0 names, with at most one prefix: `Request`, `ns:Request`, `申请人`.
const NAME_START = 'A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u203F-\\u2040`; // combining marks (U+0300–036F) are left out: rare in element names
const XML_NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*(:[${NAME_START}][${NAME_CHAR}]*)?$`, 'u');
/** What XML 1.0 cannot carry at all, not even as a character reference (controls, lone surrogates). */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Why `name` cannot be an element or attribute name, or undefined when it can. */
export function xmlNameProblem(name: string): string | undefined {
  if (!XML_NAME.test(name)) return `"${shown(name)}" is not a valid XML name`;
  const forbidden = name.includes(':') ? name.split(':').some((part) => FORBIDDEN_NAMES.has(part)) : FORBIDDEN_NAMES.has(name);
  return forbidden ? `"${name}" is not allowed as an XML name` : undefined;
}

/**
 * Keys that XML writers read as markup, not as an element's name: ours (`@name` an attribute, `#text`
 * the element's text); the soap package's (`$xml` written raw, `$value`, `attributes` whose keys
 * become attribute names unescaped, `_xml` raw arguments, `_xmlns`, a leading `:` dropping the
 * namespace; its schema keys `$type`, `$name`…); fast-xml-parser's builder (`@_name`, `#text`,
 * `?name` a processing instruction, `:@`). Case data holds none (intake refuses them), so what a case
 * says reaches a legacy system as text only.
 */
export function isMarkupKey(key: string): boolean {
  return /^[$@#?:]/.test(key) || key === 'attributes' || key === '_xml' || key === '_xmlns';
}

/** `text` with every character XML cannot carry replaced by U+FFFD: for messages that quote input. */
export function xmlSafeText(text: string): string {
  return text.replace(new RegExp(NOT_XML_CHAR.source, 'gu'), '\uFFFD');
}

function escapeText(value: string): string {
  // \r would otherwise be read back as \n (line-end normalisation).
  return value.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);
}

function escapeAttribute(value: string): string {
  // Tabs and line ends in attributes would otherwise be read back as spaces.
  return value.replace(/[&<>"\t\n\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c]!);
}

class XmlWriter {
  private readonly parts: string[] = [];
  private readonly maxDepth: number;

  constructor(private readonly options: WriteXmlOptions) {
    this.maxDepth = options.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth;
  }

  text(): string {
    return this.parts.join('');
  }

  private name(name: string, field: string): string {
    const problem = xmlNameProblem(name);
    if (problem) throw new XmlWriteError(field, problem);
    this.options.checkName?.(name, field);
    return name;
  }

  private scalar(value: unknown, field: string): string | undefined {
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'boolean') text = String(value);
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new XmlWriteError(field, `${value} cannot be written as XML`);
      text = String(value);
    } else return undefined;
    const bad = NOT_XML_CHAR.exec(text)?.[0];
    if (bad !== undefined) {
      const code = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new XmlWriteError(field, `U+${code} cannot be carried by XML 1.0`);
    }
    return text;
  }

  element(name: string, value: unknown, field: string, depth: number): void {
    if (value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (Array.isArray(item)) throw new XmlWriteError(`${field}[${i}]`, 'an array inside an array has no XML form; wrap the inner one in an object');
        this.element(name, item, `${field}[${i}]`, depth);
      });
      return;
    }
    if (depth > this.maxDepth) throw new XmlWriteError(field, `is nested deeper than ${this.maxDepth} levels`);
    const tag = this.name(name, field);
    if (value === null) {
      this.parts.push(`<${tag}/>`);
      return;
    }
    const text = this.scalar(value, field);
    if (text !== undefined) {
      this.parts.push(`<${tag}>${escapeText(text)}</${tag}>`);
      return;
    }
    if (typeof value !== 'object') throw new XmlWriteError(field, `a ${typeof value} cannot be written as XML`);
    const entries = Object.entries(value as Record<string, unknown>);
    let open = `<${tag}`;
    for (const [key, attributeValue] of entries) {
      if (!key.startsWith('@') || attributeValue === undefined || attributeValue === null) continue;
      const attributeField = `${field}.${key}`;
      const attribute = this.name(key.slice(1), attributeField);
      const attributeText = this.scalar(attributeValue, attributeField);
      if (attributeText === undefined) throw new XmlWriteError(attributeField, 'an attribute must be a string, number or boolean');
      open += ` ${attribute}="${escapeAttribute(attributeText)}"`;
    }
    const children = entries.filter(([key]) => !key.startsWith('@'));
    if (children.length === 0) {
      this.parts.push(`${open}/>`);
      return;
    }
    this.parts.push(`${open}>`);
    for (const [key, child] of children) {
      if (key === '#text') {
        if (child === undefined || child === null) continue;
        const childText = this.scalar(child, `${field}.#text`);
        if (childText === undefined) throw new XmlWriteError(`${field}.#text`, 'a text node must be a string, number or boolean');
        this.parts.push(escapeText(childText));
      } else {
        this.element(key, child, `${field}.${key}`, depth + 1);
      }
    }
    this.parts.push(`</${tag}>`);
  }
}

/**
 * Writes `content` as the element `root`: object keys become child elements, `@name` keys
 * attributes, `#text` the element's own text; an array repeats its element; null is an empty
 * element. Text is escaped; names that are not XML names and characters XML cannot carry are
 * refused with an XmlWriteError naming the field.
 */
export function writeXml(root: string, content: unknown, options: WriteXmlOptions = {}): string {
  if (Array.isArray(content)) throw new XmlWriteError(root, 'the root element cannot be an array');
  const writer = new XmlWriter(options);
  writer.element(root, content ?? null, root, 1);
  return writer.text();
}

export function xmlDeclaration(charset: Charset): string {
  return `<?xml version="1.0" encoding="${charsetLabel(charset)}"?>`;
}

/**
 * A whole document in the bytes of `charset`: the declaration, then `content` under `root`.
 * Characters the charset cannot hold become character references in text and attribute values;
 * in a name, where references are impossible, they are a CharsetError naming the field.
 */
export function encodeXmlDocument(root: string, content: unknown, charset: Charset): Buffer {
  const text = writeXml(root, content, { checkName: (name, field) => void encodeStrict(name, charset, field) });
  return encodeXml(xmlDeclaration(charset) + text, charset);
}
