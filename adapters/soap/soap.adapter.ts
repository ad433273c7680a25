/**
 * SOAP over HTTP, on the `soap` package: the system's WSDL (a file under the config folder or a
 * URL) is loaded once per config version, the mapped body is the operation's arguments, and the
 * operation's output (the children of e.g. `SubmitCaseResponse`) is the reply the `response.*`
 * expressions read. What the package sends and reads passes the guard in soap.http.ts.
 */
import path from 'node:path';
import { PermanentError } from '../../src/platform/failure';
import { charsetLabel } from '../../src/platform/charset';
import type { SystemOf } from '../../src/config/schema';
import type { Adapter, AdapterFactory } from '../adapter';
import { SoapOperation } from './soap.client';

/** Where the WSDL is: a URL as written, a file relative to the configuration folder (the loader keeps it inside). */
export function wsdlLocation(wsdl: string, configDir: string): string {
  return /^https?:\/\//i.test(wsdl) ? wsdl : path.resolve(configDir, wsdl);
}

/** The operation's arguments: the mapped body as plain JSON (JSONata's arrays carry extra properties). */
function operationArguments(systemId: string, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    // The mapping builds the same thing on every attempt: permanent, like a failing mapping.
    throw new PermanentError(`${systemId}: request.body must produce an object (the operation's arguments), not ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
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

  const adapter: Adapter = {
    async preview(body, ctx) {
      const framed = await operationNamed(ctx.operation ?? settings.operation).preview(operationArguments(system.id, body), { 'Idempotency-Key': ctx.idempotencyKey }, ctx.seal);
      return { endpoint: framed.url, method: 'POST', headers: framed.headers, charset: charsetLabel(system.charset), body: framed.body };
    },
    async send(body, ctx) {
      return operationNamed(ctx.operation ?? settings.operation).call(operationArguments(system.id, body), { 'Idempotency-Key': ctx.idempotencyKey }, { signal: ctx.signal, seal: ctx.seal });
    },
    async close() {
      for (const operation of operations.values()) operation.close();
    },
  };
  return adapter;
};
