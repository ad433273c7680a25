/**
 * SOAP over HTTP, on the `soap` package: the system's WSDL (a file under the config folder or a
 * URL) is loaded once per config version, the mapped body is the operation's arguments, and the
 * operation's output (the children of e.g. `SubmitCaseResponse`) is the reply the `response.*`
 * expressions read. What the package sends and reads passes the guard in soap.http.ts.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { PermanentError } from '../../src/platform/failure';
import { CharsetError, charsetLabel, encodeStrict, type Charset } from '../../src/platform/charset';
import { isMarkupKey, shown, xmlNameProblem } from '../../src/platform/xml';
import type { SystemOf } from '../../src/config/schema';
import type { Adapter, AdapterFactory, DeliveryContext } from '../adapter';
import { withInlineMaterials, withPartReferences } from '../materials';
import { SoapOperation } from './soap.client';
import type { MtomParts } from './soap.http';

/** Where the WSDL is: a URL as written, a file relative to the configuration folder (the loader keeps it inside). */
export function wsdlLocation(wsdl: string, configDir: string): string {
  return /^https?:\/\//i.test(wsdl) ? wsdl : path.resolve(configDir, wsdl);
}

/**
 * What in `args` the soap package would not write as text, or undefined: it writes `$xml` and a
 * string shaped like a CDATA section unescaped, reads its other special keys (`attributes`,
 * `$value`…) as markup, and writes every other key as an element name unchecked. Intake refuses such
 * keys in case data; a mapping can still build one from a case's values, or a case may predate that.
 */
function notText(args: Record<string, unknown>, charset: Charset): string | undefined {
  const stack: Array<{ field: string; value: unknown }> = [{ field: '', value: args }];
  while (stack.length > 0) {
    const { field, value } = stack.pop()!;
    if (typeof value === 'string' && value.startsWith('<![CDATA[') && value.endsWith(']]>')) {
      return `${shown(field)}: a value shaped like a CDATA section would be written unescaped`;
    }
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ field: `${field}[${i}]`, value: item }));
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const at = field ? `${field}.${key}` : key;
      if (isMarkupKey(key)) return `${shown(at)}: "${shown(key)}" is markup to the soap package, not an element name`;
      const problem = xmlNameProblem(key);
      if (problem) return `${shown(at)}: ${problem}`;
      try {
        encodeStrict(key, charset, shown(at));
      } catch (err) {
        if (err instanceof CharsetError) return err.message;
        throw err;
      }
      stack.push({ field: at, value: child });
    }
  }
  return undefined;
}

/** The operation's arguments: the mapped body as plain JSON (JSONata's arrays carry extra properties), elements and text only. */
function operationArguments(system: SystemOf<'soap'>, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    // The mapping builds the same thing on every attempt: permanent, like a failing mapping.
    throw new PermanentError(`${system.id}: request.body must produce an object (the operation's arguments), not ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  const args = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const problem = notText(args, system.charset);
  if (problem) throw new PermanentError(`${system.id}: request.body cannot be written as SOAP: ${problem}`);
  return args;
}

export const createSoapAdapter: AdapterFactory<SystemOf<'soap'>> = (system, options) => {
  const settings = system.soap;
  // One client per operation of the WSDL that is called (deliveries' and, e.g., look-ups'), made on first use.
  const operations = new Map<string, SoapOperation>();
  const operationNamed = (name: string): SoapOperation => {
    let operation = operations.get(name);
    if (!operation) {
      operation = new SoapOperation({
        systemId: system.id,
        wsdl: wsdlLocation(settings.wsdl, options.configDir),
        folder: options.configDir,
        egress: options.egress,
        endpoint: system.endpoint,
        service: settings.service,
        port: settings.port,
        operation: name,
        version: settings.version,
        charset: system.charset,
        auth: system.auth,
        timeoutMs: system.timeoutMs,
        concurrency: system.concurrency,
        maxReplyBytes: options.maxReplyBytes,
      });
      operations.set(name, operation);
    }
    return operation;
  };

  /**
   * The operation's arguments with the materials in them: inline, base64 text at `materials.field`;
   * attached (MTOM/XOP), a marker there that the wire replaces with an xop:Include of the part.
   */
  const argumentsFor = async (body: unknown, ctx: DeliveryContext): Promise<{ args: Record<string, unknown>; mtom?: MtomParts }> => {
    const handover = ctx.materials;
    if (handover?.mode === 'inline') return { args: operationArguments(system, await withInlineMaterials(system.id, body, handover, 'header')) };
    if (handover?.mode !== 'attach') return { args: operationArguments(system, body) };
    const markers = handover.parts.map(() => `ow-xop-${crypto.randomBytes(12).toString('hex')}`);
    const args = operationArguments(system, withPartReferences(system.id, body, handover, 'header', (_part, i) => ({ content: markers[i] })));
    return { args, mtom: { parts: handover.parts, markers } };
  };

  const adapter: Adapter = {
    async preview(body, ctx) {
      const { args, mtom } = await argumentsFor(body, ctx);
      const framed = await operationNamed(ctx.operation ?? settings.operation).preview(args, { 'Idempotency-Key': ctx.idempotencyKey }, ctx.seal, mtom);
      return { endpoint: framed.url, method: 'POST', headers: framed.headers, charset: charsetLabel(system.charset), body: framed.body };
    },
    async send(body, ctx) {
      const { args, mtom } = await argumentsFor(body, ctx);
      return operationNamed(ctx.operation ?? settings.operation).call(args, { 'Idempotency-Key': ctx.idempotencyKey }, { signal: ctx.signal, seal: ctx.seal, requestId: ctx.requestId, ...(mtom ? { mtom } : {}) });
    },
    async close() {
      await Promise.all([...operations.values()].map((operation) => operation.close()));
    },
  };
  return adapter;
};
