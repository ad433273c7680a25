/**
 * The XML-over-HTTP protocol simulator: every `protocol: xml` system at `POST /sim/<systemId>/xml`,
 * speaking only its own charset's bytes as a real GBK or GB18030 server does, answering in its XML
 * reply dialect (dialects.ts) with the verdict of the core; and results pushed as XML to the
 * gateway's `POST /xml/results/<systemId>` in the system's charset, with its bearer inbound token.
 *
 * A submission is readable when it is labelled (Content-Type, XML declaration) with the system's
 * own charset or not at all, decodes without U+FFFD in that charset, passes the hardened XML
 * reader, and has the system's `xml.root` as its root element; the core sees the root's content.
 */
import express, { type Request } from 'express';
import iconv from 'iconv-lite';
import { compileExpression } from '../../src/platform/expressions';
import { speaks, type SystemConfig, type SystemOf } from '../../src/config/schema';
import { CharsetError, charsetLabel, charsetOfContentType, charsetOfXmlDeclaration, decodeBody, knownCharset } from '../../src/platform/charset';
import { encodeXmlDocument, readXml, type XmlObject } from '../../src/platform/xml';
import { httpAuthorized } from '../auth';
import { flatHeaders, lookupAnswer, PushError, verdictAnswer, type ProtocolSimulator } from '../protocol';
import { xmlDialectOf, type XmlDialect } from './dialects';
import { checkInline, MaterialCheckError, type ReceivedMaterial } from '../received-materials';

/** How long one push may take before it counts as failed (and is retried). */
const PUSH_TIMEOUT_MS = 10_000;

/** The root element of a pushed result. */
export const PUSH_ROOT = 'Result';

function contentType(system: SystemConfig): string {
  return `text/xml; charset=${charsetLabel(system.charset)}`;
}

/** Reads a submission as a server that speaks only `system.charset` would; a string says why it cannot. */
export function readSubmission(system: SystemOf<'xml'>, raw: Buffer, type: string | undefined): XmlObject | string {
  for (const [where, label] of [
    ['Content-Type', charsetOfContentType(type)],
    ['XML declaration', charsetOfXmlDeclaration(raw)],
  ] as const) {
    if (label !== undefined && knownCharset(label) !== system.charset) return `${where} says ${label}, this system speaks ${charsetLabel(system.charset)}`;
  }
  let document: XmlObject;
  try {
    document = readXml(decodeBody(raw, undefined, system.charset).text);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const root = system.xml.root;
  const content = document[root];
  if (content === undefined) return `the root element must be <${root}>, not <${Object.keys(document)[0]}>`;
  if (typeof content === 'string' || Array.isArray(content)) return `<${root}> must contain elements`;
  return content;
}

async function evaluateMap(source: string, input: unknown): Promise<string> {
  return JSON.stringify(await compileExpression(source).evaluate(input));
}

/**
 * The gateway reads a pushed XML body with every value a string. A map that compares numbers
 * (`status = 1`) or converts epoch milliseconds would read it differently from the body it was
 * built for: say so instead of pushing a result that would be refused or mean something else.
 */
function rootOf(body: Record<string, unknown>): [string, Record<string, unknown>] {
  const keys = Object.keys(body);
  const only = keys.length === 1 ? body[keys[0]!] : undefined;
  if (only && typeof only === 'object' && !Array.isArray(only)) return [keys[0]!, only as Record<string, unknown>];
  return [PUSH_ROOT, body];
}

async function checkMapReadsXml(system: SystemConfig, body: Record<string, unknown>, bytes: Buffer): Promise<void> {
  const asSent = readXml(iconv.decode(bytes, system.charset));
  // Pushes come only from systems that receive cases, which have a result map.
  const map = system.result?.map ?? '$';
  const intended = await evaluateMap(map, body);
  let read: string;
  try {
    read = await evaluateMap(map, asSent);
  } catch (err) {
    read = `an error (${err instanceof Error ? err.message : String(err)})`;
  }
  if (read !== intended) {
    throw new PushError(
      `result.map of ${system.id} reads the pushed XML, where every value is a string, as ${read} instead of ${intended}; convert its numbers with $number()`,
      false,
    );
  }
}

export const xmlSimulator: ProtocolSimulator = {
  protocol: 'xml',

  async mount(app, _server, ctx) {
    const served = new Map<string, { system: SystemOf<'xml'>; dialect: XmlDialect }>();
    for (const system of ctx.systems) if (speaks(system, 'xml')) served.set(system.id, { system, dialect: await xmlDialectOf(system) });
    const rawBody = express.raw({ type: () => true, limit: '10mb' });

    app.post('/sim/:systemId/xml', rawBody, async (req: Request, res, next) => {
      const entry = served.get(String(req.params.systemId));
      if (!entry) return next();
      const { system, dialect } = entry;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let read = readSubmission(system, raw, req.get('content-type'));
      // Inline materials: base64 elements at materials.field, each checked against its sha256 and size.
      let materials: ReceivedMaterial[] | undefined;
      if (typeof read !== 'string' && system.materials?.mode === 'inline') {
        try {
          materials = checkInline(system, read);
        } catch (err) {
          if (!(err instanceof MaterialCheckError)) throw err;
          read = err.message;
        }
      }
      const verdict = await ctx.submit({
        systemId: system.id,
        body: typeof read === 'string' ? undefined : read,
        idempotencyKey: req.get('idempotency-key'),
        authorized: httpAuthorized(system.auth, (name) => req.get(name), raw),
        headers: flatHeaders(req.headers),
        ...(materials?.length ? { materials } : {}),
      });
      const reply = verdictAnswer(dialect, verdict, typeof read === 'string' ? read : undefined);
      if (!reply) {
        req.socket.destroy();
        return;
      }
      res.status(reply.status).type(contentType(system)).send(encodeXmlDocument(dialect.root, reply.body, system.charset));
    });

    // Shared-data look-ups, at the path of each system's lookup.endpoint, in the system's charset.
    for (const { system } of served.values()) {
      const endpoint = system.lookup?.endpoint;
      const lookup = ctx.lookup;
      if (!endpoint || !lookup) continue;
      app.post(new URL(endpoint).pathname, rawBody, async (req: Request, res) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const read = readSubmission(system, raw, req.get('content-type'));
        const verdict = await lookup({ systemId: system.id, body: typeof read === 'string' ? undefined : read, authorized: httpAuthorized(system.auth, (name) => req.get(name), raw) });
        const reply = lookupAnswer(verdict, typeof read === 'string' ? read : undefined);
        if (!reply) {
          req.socket.destroy();
          return;
        }
        res.status(reply.status).type(contentType(system)).send(encodeXmlDocument('Response', reply.body, system.charset));
      });
    }
  },

  async push(system, body, gatewayUrl) {
    const token = system.result?.inboundToken;
    if (!token) throw new PushError(`system ${system.id} has no result.inboundToken to push with`, false);
    // result.map reads the document with its root element, e.g. Result.{…}: the body
    // built from it is then {Result: {…}}, whose one key names the root.
    const [root, content] = rootOf(body);
    let bytes: Buffer;
    try {
      bytes = encodeXmlDocument(root, content, system.charset);
    } catch (err) {
      throw new PushError(`system ${system.id}: the result cannot be written as XML: ${err instanceof Error ? err.message : String(err)}`, false);
    }
    await checkMapReadsXml(system, body, bytes);
    const url = `${gatewayUrl.replace(/\/+$/, '')}/xml/results/${encodeURIComponent(system.id)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType(system), authorization: `Bearer ${token}` },
        body: bytes,
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new PushError(`could not reach ${url} (${err instanceof Error ? err.message : String(err)}${cause})`, true);
    }
    const ack = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.ok) return;
    let said: string;
    try {
      said = decodeBody(ack, res.headers.get('content-type') ?? undefined, system.charset).text;
    } catch (err) {
      said = err instanceof CharsetError ? `(an ack that cannot be decoded: ${err.message})` : String(err);
    }
    // The gateway's ack says why; a 5xx, 408 or 429 may pass, anything else will not.
    throw new PushError(`${url} answered HTTP ${res.status} ${said.slice(0, 300)}`, res.status >= 500 || res.status === 408 || res.status === 429);
  },
};
