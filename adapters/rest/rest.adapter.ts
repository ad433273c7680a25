/**
 * REST/JSON over HTTP: the mapped body is POSTed as JSON and the JSON reply is handed back.
 * Materials go inline (base64 in the JSON at `materials.field`) or attached: multipart/form-data
 * with the JSON as part `body` and one part per material, streamed from the cache.
 */
import type { Readable } from 'node:stream';
import { RetryableError } from '../../src/platform/failure';
import type { SystemOf } from '../../src/config/schema';
import type { Adapter, AdapterFactory, DeliveryContext } from '../adapter';
import { authHeaders, sealHeaders, classifyHttpStatus, httpClient, redactedHeaders } from '../http';
import { formData, withInlineMaterials, withPartReferences } from '../materials';

export const createRestAdapter: AdapterFactory<SystemOf<'rest'>> = (system, options) => {
  const client = httpClient(system, options.maxReplyBytes);

  /**
   * The one way a request is framed, for sending and for a dry run alike. With attached materials
   * the JSON is the multipart's `body` part: the seal and an hmac signature cover it, and the seal
   * lists each material's digest.
   */
  const frame = async (mapped: unknown, ctx: DeliveryContext) => {
    const method = ctx.target?.method ?? system.method;
    const handover = method === 'GET' ? undefined : ctx.materials;
    let body = mapped;
    if (handover?.mode === 'inline') body = await withInlineMaterials(system.id, mapped, handover, 'object');
    if (handover?.mode === 'attach') body = withPartReferences(system.id, mapped, handover, 'object', (part) => ({ part: part.kind }));
    const payload = Buffer.from(method === 'GET' ? '' : JSON.stringify(body), 'utf8');
    const attached = handover?.mode === 'attach' ? formData(payload, handover.parts) : undefined;
    const headers: Record<string, string> = {
      ...(method === 'GET' ? {} : { 'Content-Type': attached ? attached.contentType : 'application/json; charset=utf-8' }),
      ...(attached ? { 'Content-Length': String(attached.length) } : {}),
      Accept: 'application/json',
      'Idempotency-Key': ctx.idempotencyKey,
      ...authHeaders(system.auth, payload),
      ...(method === 'GET' ? {} : sealHeaders(ctx.seal, payload)),
    };
    const data: Buffer | Readable | undefined = method === 'GET' ? undefined : (attached?.stream ?? payload);
    return { method, url: ctx.target?.endpoint ?? system.endpoint, payload, data, headers };
  };

  const adapter: Adapter = {
    async preview(body, ctx) {
      const { method, url, payload, headers } = await frame(body, ctx);
      return { endpoint: url, method, headers: redactedHeaders(headers), charset: 'utf-8', body: payload };
    },
    async send(body, ctx) {
      const { method, url, data, headers } = await frame(body, ctx);
      const reply = await client.request({ method, url, body: data, headers, signal: ctx.signal, requestId: ctx.requestId });
      const text = reply.body.toString('utf8');
      classifyHttpStatus(system, reply.status, reply.headers['retry-after'], text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // A 2xx that is not JSON is usually a proxy or maintenance page in front of the system.
        throw new RetryableError(`${system.id} answered HTTP ${reply.status} with a body that is not JSON`);
      }
    },
    async close() {
      await client.close();
    },
  };
  return adapter;
};
