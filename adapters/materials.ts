/**
 * What the adapters share to hand materials over: placing them in a mapped body (inline, or as
 * references to parts), and multipart bodies that stream each material's bytes from the cache
 * behind the body, so that a large drawing goes over the wire without ever being whole in memory.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { PermanentError } from '../src/platform/failure';
import type { MaterialHandover, MaterialPart } from './adapter';

/** RFC 6901 reference tokens of a pointer. */
function tokens(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A copy of `body` (plain JSON) with `value` at `pointer`; the objects on the way are made if missing. */
export function placeAt(systemId: string, body: unknown, pointer: string, value: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new PermanentError(`${systemId}: request.body must produce an object to carry materials at ${pointer}`);
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const path = tokens(pointer);
  let at: Record<string, unknown> | unknown[] = copy;
  for (const [i, token] of path.entries()) {
    const last = i === path.length - 1;
    if (Array.isArray(at)) {
      const index = token === '-' ? at.length : Number(token);
      if (!Number.isInteger(index) || index < 0 || index > at.length) throw new PermanentError(`${systemId}: materials.field ${pointer} does not fit the mapped body`);
      if (last) at[index] = value;
      else at = (at[index] ??= {}) as Record<string, unknown>;
      continue;
    }
    if (['__proto__', 'constructor', 'prototype'].includes(token)) throw new PermanentError(`${systemId}: materials.field ${pointer} does not fit the mapped body`);
    if (last) at[token] = value;
    else {
      const next = at[token];
      if (next === undefined || next === null) at = at[token] = {};
      else if (typeof next === 'object') at = next as Record<string, unknown>;
      else throw new PermanentError(`${systemId}: materials.field ${pointer} does not fit the mapped body`);
    }
  }
  return copy;
}

/** The bytes of a part, read whole: for inline only, where they end up in the body anyway. */
async function readAll(part: MaterialPart): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of part.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * How a look-up document's seal rides beside it: as the seal object in JSON; as its X-OW-Seal text
 * in XML and SOAP, whose element names could not carry the seal's JSON Pointer keys.
 */
export type SealForm = 'object' | 'header';

/** What describes a material wherever it goes; a look-up document's seal rides beside it. */
function described(part: MaterialPart, sealForm: SealForm): Record<string, unknown> {
  const seal = sealForm === 'object' ? part.seal : part.sealHeader;
  return { kind: part.kind, name: part.name, mime: part.mime, sha256: part.sha256, size: part.size, ...(seal ? { seal } : {}) };
}

/** inline: `[{kind, name, mime, sha256, size, content (base64), seal?}]` at the field. */
export async function withInlineMaterials(systemId: string, body: unknown, handover: MaterialHandover, sealForm: SealForm): Promise<Record<string, unknown>> {
  const entries = [];
  for (const part of handover.parts) entries.push({ ...described(part, sealForm), content: (await readAll(part)).toString('base64') });
  return placeAt(systemId, body, handover.field, entries);
}

/** attach: `[{kind, name, mime, sha256, size, <ref>: <ref of its part>}]` at the field. */
export function withPartReferences(systemId: string, body: unknown, handover: MaterialHandover, sealForm: SealForm, ref: (part: MaterialPart, i: number) => Record<string, unknown>): Record<string, unknown> {
  return placeAt(systemId, body, handover.field, handover.parts.map((part, i) => ({ ...described(part, sealForm), ...ref(part, i) })));
}

/** A header parameter value kept to printable ASCII without quotes (what every multipart reader takes). */
function asciiParameter(value: string): string {
  return value.replace(/[^\x20-\x7e]|["\\]/g, '_');
}

/** `Content-Digest` (RFC 9530) of a part: its sha-256, base64. */
function contentDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

interface Section {
  head: Buffer;
  body: Buffer | MaterialPart;
}

/** A multipart body that streams: heads and small bodies as bytes, materials from their files; its length known ahead. */
function multipart(boundary: string, sections: Section[]): { stream: Readable; length: number } {
  const close = Buffer.from(`\r\n--${boundary}--\r\n`);
  const delimiter = (first: boolean) => Buffer.from(`${first ? '' : '\r\n'}--${boundary}\r\n`);
  let length = close.length;
  sections.forEach((s, i) => (length += delimiter(i === 0).length + s.head.length + (Buffer.isBuffer(s.body) ? s.body.length : s.body.size)));
  async function* bytes(): AsyncGenerator<Buffer> {
    for (const [i, s] of sections.entries()) {
      yield delimiter(i === 0);
      yield s.head;
      if (Buffer.isBuffer(s.body)) yield s.body;
      else for await (const chunk of s.body.open()) yield chunk as Buffer;
    }
    yield close;
  }
  return { stream: Readable.from(bytes(), { objectMode: false }), length };
}

const headLines = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

/**
 * REST attach: multipart/form-data with the mapped JSON as part `body` and one part per material,
 * named by its kind, with its file name (RFC 5987 for non-ASCII), type, Content-Digest and, for a
 * look-up document, its X-OW-Seal.
 */
export function formData(json: Buffer, parts: MaterialPart[]): { stream: Readable; length: number; contentType: string } {
  const boundary = `ow-${crypto.randomBytes(12).toString('hex')}`;
  const sections: Section[] = [
    { head: headLines(['Content-Disposition: form-data; name="body"', 'Content-Type: application/json; charset=utf-8']), body: json },
    ...parts.map((part) => ({
      head: headLines([
        `Content-Disposition: form-data; name="${asciiParameter(part.kind)}"; filename="${asciiParameter(part.name)}"; filename*=UTF-8''${encodeURIComponent(part.name)}`,
        `Content-Type: ${part.mime}`,
        `Content-Length: ${part.size}`,
        `Content-Digest: ${contentDigest(part.sha256)}`,
        ...(part.sealHeader ? [`X-OW-Seal: ${part.sealHeader}`] : []),
      ]),
      body: part,
    })),
  ];
  return { ...multipart(boundary, sections), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The Content-ID of a material's MTOM part. */
export function partContentId(i: number, part: MaterialPart): string {
  return `material-${i}-${part.sha256.slice(0, 16)}@onewindow.gateway`;
}

/**
 * SOAP attach: an MTOM/XOP package (multipart/related): the envelope first (`envelope`, already in
 * its charset, its base64 elements replaced by xop:Include references), then one binary part per
 * material under its Content-ID.
 */
export function mtomPackage(envelope: Buffer, envelopeType: 'text/xml' | 'application/soap+xml', charset: string, parts: MaterialPart[], action?: string): { stream: Readable; length: number; contentType: string } {
  const boundary = `ow-mtom-${crypto.randomBytes(12).toString('hex')}`;
  const start = `envelope@onewindow.gateway`;
  const sections: Section[] = [
    { head: headLines([`Content-Type: application/xop+xml; charset=${charset}; type="${envelopeType}"${action ? `; action="${action}"` : ''}`, 'Content-Transfer-Encoding: 8bit', `Content-ID: <${start}>`]), body: envelope },
    ...parts.map((part, i) => ({
      head: headLines([
        `Content-Type: ${part.mime}`,
        'Content-Transfer-Encoding: binary',
        `Content-ID: <${partContentId(i, part)}>`,
        `Content-Disposition: attachment; filename="${asciiParameter(part.name)}"; filename*=UTF-8''${encodeURIComponent(part.name)}`,
        `Content-Digest: ${contentDigest(part.sha256)}`,
        ...(part.sealHeader ? [`X-OW-Seal: ${part.sealHeader}`] : []),
      ]),
      body: part,
    })),
  ];
  const contentType = `multipart/related; type="application/xop+xml"; start="<${start}>"; start-info="${envelopeType}"; boundary=${boundary}${action ? `; action="${action}"` : ''}`;
  return { ...multipart(boundary, sections), contentType };
}
