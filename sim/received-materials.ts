/**
 * What a simulated legacy system checks of the materials it receives, as a real one would before
 * filing them: for `attach`, a multipart body (multipart/form-data for REST, MTOM/XOP
 * multipart/related for SOAP) read part by part as it streams in (formidable's multipart reader,
 * which takes both), each part's SHA-256 and length computed and compared with what its own headers
 * say (`Content-Digest`, `Content-Length`) and with what the body says of it; for `inline`, each
 * material's base64 decoded and compared with the `sha256` and `size` beside it. A material that does
 * not check out is a client error, answered like any unreadable submission.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import formidable from 'formidable';
import type { SystemConfig } from '../src/config/schema';

/** A material as the simulated system filed it (tests and the demo read these). */
export interface ReceivedMaterial {
  kind: string;
  name: string;
  size: number;
  sha256: string;
  via: 'inline' | 'form-data' | 'mtom';
  /** Whether a seal (a look-up document's own) came with it. */
  sealed: boolean;
}

/** One part of a multipart body: its headers, digest and length; the bytes kept only for the body part. */
export interface ReceivedPart {
  headers: Record<string, string>;
  /** Form field name (form-data), else undefined. */
  name?: string;
  /** Content-ID without the angle brackets (MTOM), else undefined. */
  contentId?: string;
  size: number;
  sha256: string;
  bytes?: Buffer;
}

export class MaterialCheckError extends Error {}

/** Whether a request carries a multipart body (left unread by the raw body parser, read here). */
export function isMultipart(req: http.IncomingMessage): boolean {
  return /^multipart\//i.test(req.headers['content-type'] ?? '');
}

/** The `start` parameter of a multipart/related Content-Type: the root part's Content-ID. */
function startOf(contentType: string): string | undefined {
  return /;\s*start="?<([^>"]+)>"?/i.exec(contentType)?.[1];
}

/**
 * Reads a multipart body part by part, never holding a material whole: `keep` says which parts'
 * bytes are wanted (the JSON `body` part, the SOAP envelope); every other part is only digested.
 */
export async function readMultipart(req: http.IncomingMessage, maxBytes: number): Promise<{ parts: ReceivedPart[]; root?: ReceivedPart }> {
  const type = req.headers['content-type'] ?? '';
  const related = /^multipart\/related/i.test(type);
  const start = related ? startOf(type) : undefined;
  const parts: ReceivedPart[] = [];
  let total = 0;
  const form = formidable({});
  const done: Array<Promise<void>> = [];
  form.onPart = (incoming) => {
    const part = incoming as formidable.Part & { headers: Record<string, string> };
    const headers = { ...part.headers };
    const contentId = headers['content-id']?.trim().replace(/^<|>$/g, '');
    const name = part.name ?? undefined;
    const keep = related ? (start ? contentId === start : parts.length === 0) : name === 'body';
    const hash = crypto.createHash('sha256');
    const chunks: Buffer[] = [];
    const received: ReceivedPart = { headers, ...(name ? { name } : {}), ...(contentId ? { contentId } : {}), size: 0, sha256: '' };
    parts.push(received);
    done.push(
      new Promise<void>((resolve) => {
        part.on('data', (chunk: Buffer) => {
          received.size += chunk.length;
          total += chunk.length;
          if (total > maxBytes) form.emit('error', new MaterialCheckError(`the body is more than the ${maxBytes} bytes taken`));
          hash.update(chunk);
          if (keep) chunks.push(chunk);
        });
        part.on('end', () => {
          received.sha256 = hash.digest('hex');
          if (keep) received.bytes = Buffer.concat(chunks);
          resolve();
        });
      }),
    );
  };
  try {
    await form.parse(req);
  } catch (err) {
    throw err instanceof MaterialCheckError ? err : new MaterialCheckError(`the multipart body cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  await Promise.all(done);
  for (const part of parts) checkPartHeaders(part);
  return { parts, root: parts.find((p) => p.bytes !== undefined) };
}

/** A part's own word on its bytes: `Content-Digest: sha-256=:<base64>:` and `Content-Length`, when given. */
function checkPartHeaders(part: ReceivedPart): void {
  const label = part.name ?? part.contentId ?? 'a part';
  const digest = part.headers['content-digest'];
  if (digest !== undefined) {
    const said = /sha-256=:([A-Za-z0-9+/=]+):/.exec(digest)?.[1];
    if (!said) throw new MaterialCheckError(`part ${label}: Content-Digest has no sha-256`);
    if (Buffer.from(said, 'base64').toString('hex') !== part.sha256) throw new MaterialCheckError(`part ${label}: its bytes do not match its Content-Digest`);
  }
  const length = part.headers['content-length'];
  if (length !== undefined && Number(length) !== part.size) throw new MaterialCheckError(`part ${label}: ${part.size} bytes, not the ${length} its Content-Length says`);
}

/** The value at a JSON Pointer of a parsed body. */
function at(body: unknown, pointer: string): unknown {
  let value = body;
  for (const token of pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}

/** The materials described at the system's `materials.field` (one XML element reads as one object). */
function entriesOf(system: SystemConfig, body: unknown): Array<Record<string, unknown>> {
  const value = at(body, system.materials?.field ?? '/materials');
  const list = value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value];
  return list.map((entry, i) => {
    if (entry === null || typeof entry !== 'object') throw new MaterialCheckError(`material ${i}: not an object`);
    return entry as Record<string, unknown>;
  });
}

/** What an entry vouches for: its kind, name, sha256 and size (XML and SOAP carry the size as text). */
function vouched(entry: Record<string, unknown>, i: number): { kind: string; name: string; sha256: string; size: number; sealed: boolean } {
  const { kind, name, sha256 } = entry;
  const size = Number(entry.size);
  if (typeof kind !== 'string' || typeof name !== 'string' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256) || !Number.isInteger(size)) {
    throw new MaterialCheckError(`material ${i}: kind, name, sha256 and size are required`);
  }
  return { kind, name, sha256, size, sealed: entry.seal !== undefined && entry.seal !== '' };
}

function compare(label: string, said: { sha256: string; size: number }, got: { sha256: string; size: number }): void {
  if (got.size !== said.size) throw new MaterialCheckError(`${label}: ${got.size} bytes received, ${said.size} declared`);
  if (got.sha256 !== said.sha256) throw new MaterialCheckError(`${label}: sha256 of the bytes received is not the one declared`);
}

/** inline: each entry's base64 `content` is the material whose sha256 and size stand beside it. */
export function checkInline(system: SystemConfig, body: unknown): ReceivedMaterial[] {
  return entriesOf(system, body).map((entry, i) => {
    const said = vouched(entry, i);
    if (typeof entry.content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(entry.content)) throw new MaterialCheckError(`material ${i} (${said.kind}): content is not base64`);
    const bytes = Buffer.from(entry.content, 'base64');
    compare(`material ${i} (${said.kind})`, said, { size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    return { kind: said.kind, name: said.name, size: said.size, sha256: said.sha256, via: 'inline', sealed: said.sealed };
  });
}

/**
 * attach: every entry names its part (form-data: `part`, the field name; MTOM: `content`, the
 * `cid:` the xop:Include pointed at) and that part is the material it describes; no part is left over.
 */
export function checkAttached(system: SystemConfig, body: unknown, parts: ReceivedPart[], via: 'form-data' | 'mtom'): ReceivedMaterial[] {
  const attached = parts.filter((p) => p.bytes === undefined);
  const used = new Set<ReceivedPart>();
  const materials = entriesOf(system, body).map((entry, i) => {
    const said = vouched(entry, i);
    const ref = via === 'form-data' ? entry.part : entry.content;
    const part = typeof ref !== 'string' ? undefined : via === 'form-data' ? attached.find((p) => p.name === ref && !used.has(p)) : attached.find((p) => `cid:${encodeURIComponent(p.contentId ?? '')}` === ref || `cid:${p.contentId}` === ref);
    if (!part) throw new MaterialCheckError(`material ${i} (${said.kind}): no part ${String(ref)}`);
    used.add(part);
    compare(`material ${i} (${said.kind})`, said, part);
    return { kind: said.kind, name: said.name, size: part.size, sha256: part.sha256, via, sealed: said.sealed || part.headers['x-ow-seal'] !== undefined };
  });
  const extra = attached.filter((p) => !used.has(p));
  if (extra.length) throw new MaterialCheckError(`${extra.length} part(s) no material refers to`);
  return materials;
}
