/**
 * The one hardened XML reader. Every place that reads XML from outside (the XML adapter's replies,
 * the XML and SOAP result endpoints, SOAP replies) goes through `inspectXml` before any parser sees
 * the text, so no input can make us expand an entity, recurse without end, or pollute a prototype.
 *
 * `inspectXml` is one linear pass over the text: it refuses DOCTYPE and ENTITY declarations outright
 * (refused, never expanded: billion laughs, quadratic blowup and external entities all need one),
 * and enforces limits on size, depth, element and attribute counts and attribute length. Predefined
 * entities (`&amp;`) and character references still decode as usual in `readXml`.
 */
import { XMLParser } from 'fast-xml-parser';

export interface XmlLimits {
  /** Characters of XML text. */
  maxLength: number;
  maxDepth: number;
  maxElements: number;
  maxAttributesPerElement: number;
  maxAttributeLength: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxLength: 1024 * 1024,
  maxDepth: 64,
  maxElements: 20_000,
  maxAttributesPerElement: 64,
  maxAttributeLength: 8 * 1024,
};

export type XmlRejection = 'doctype' | 'too_long' | 'too_deep' | 'too_many_elements' | 'too_many_attributes' | 'attribute_too_long' | 'forbidden_name' | 'malformed';

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
  const colon = qualified.indexOf(':');
  return colon >= 0 ? qualified.slice(colon + 1) : qualified;
}

function checkName(name: string, what: string): void {
  if (FORBIDDEN_NAMES.has(localName(name))) throw new XmlRejectedError('forbidden_name', `XML ${what} name "${name}" is not allowed`);
}

/** Index just past the `>` closing a start tag that begins at `from`, honouring quoted values. */
function endOfTag(text: string, from: number): number {
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '>') {
      return i + 1;
    } else if (ch === '<') {
      break;
    }
  }
  throw new XmlRejectedError('malformed', 'XML start tag is not closed');
}

function skipPast(text: string, from: number, terminator: string, what: string): number {
  const end = text.indexOf(terminator, from);
  if (end < 0) throw new XmlRejectedError('malformed', `XML ${what} is not closed`);
  return end + terminator.length;
}

const ATTRIBUTE = /([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

/** Refuses what must never reach a parser; returns quietly when the text is safe to parse. */
export function inspectXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  if (text.length > limits.maxLength) throw new XmlRejectedError('too_long', `XML is longer than ${limits.maxLength} characters`);
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlRejectedError('doctype', 'XML with a DOCTYPE or ENTITY declaration is refused');
  }
  let depth = 0;
  let elements = 0;
  let i = text.indexOf('<');
  while (i >= 0) {
    if (text.startsWith('<!--', i)) i = skipPast(text, i + 4, '-->', 'comment');
    else if (text.startsWith('<![CDATA[', i)) i = skipPast(text, i + 9, ']]>', 'CDATA section');
    else if (text.startsWith('<?', i)) i = skipPast(text, i + 2, '?>', 'processing instruction');
    else if (text.startsWith('<!', i)) throw new XmlRejectedError('malformed', 'XML markup declaration is not allowed');
    else if (text.startsWith('</', i)) {
      depth--;
      i = skipPast(text, i + 2, '>', 'end tag');
    } else {
      const end = endOfTag(text, i + 1);
      const tag = text.slice(i + 1, end - 1);
      const name = /^[^\s/>]+/.exec(tag)?.[0];
      if (!name) throw new XmlRejectedError('malformed', 'XML element without a name');
      checkName(name, 'element');
      if (++elements > limits.maxElements) throw new XmlRejectedError('too_many_elements', `XML has more than ${limits.maxElements} elements`);
      let attributes = 0;
      for (const match of tag.slice(name.length).matchAll(ATTRIBUTE)) {
        checkName(match[1]!, 'attribute');
        if (++attributes > limits.maxAttributesPerElement) {
          throw new XmlRejectedError('too_many_attributes', `XML element <${name}> has more than ${limits.maxAttributesPerElement} attributes`);
        }
        const value = match[3] ?? match[4] ?? '';
        if (value.length > limits.maxAttributeLength) {
          throw new XmlRejectedError('attribute_too_long', `XML attribute ${match[1]} is longer than ${limits.maxAttributeLength} characters`);
        }
        // multiRef id="__proto__" is how node-soap was made to pollute Object.prototype.
        if ((match[1] === 'id' || match[1] === 'href') && FORBIDDEN_NAMES.has(value.replace(/^#/, ''))) {
          throw new XmlRejectedError('forbidden_name', `XML attribute ${match[1]}="${value}" is not allowed`);
        }
      }
      if (!tag.endsWith('/') && ++depth > limits.maxDepth) throw new XmlRejectedError('too_deep', `XML is nested deeper than ${limits.maxDepth} levels`);
      i = end;
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
