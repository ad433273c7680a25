/** REST/JSON over HTTP: the mapped body is POSTed as JSON and the JSON reply is handed back. */
import type { AxiosResponse } from 'axios';
import { RetryableError } from '../../src/platform/failure';
import type { SystemOf } from '../../src/config/schema';
import type { Adapter, AdapterFactory, DeliveryContext } from '../adapter';
import { authHeaders, sealHeaders, classifyHttpStatus, closeHttpClient, httpClient, redactedHeaders, transportError } from '../http';

export const createRestAdapter: AdapterFactory<SystemOf<'rest'>> = (system, options) => {
  const client = httpClient(system, options.maxReplyBytes);

  /** The one way a request is framed, for sending and for a dry run alike. */
  const frame = (body: unknown, ctx: DeliveryContext) => {
    const method = ctx.target?.method ?? system.method;
    const payload = Buffer.from(method === 'GET' ? '' : JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = {
      ...(method === 'GET' ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      Accept: 'application/json',
      'Idempotency-Key': ctx.idempotencyKey,
      ...authHeaders(system.auth, payload),
      ...(method === 'GET' ? {} : sealHeaders(ctx.seal, payload)),
    };
    return { method, url: ctx.target?.endpoint ?? system.endpoint, payload, headers };
  };

  const adapter: Adapter = {
    async preview(body, ctx) {
      const { method, url, payload, headers } = frame(body, ctx);
      return { endpoint: url, method, headers: redactedHeaders(headers), charset: 'utf-8', body: payload };
    },
    async send(body, ctx) {
      const { method, url, payload, headers } = frame(body, ctx);
      let reply: AxiosResponse<ArrayBuffer>;
      try {
        reply = await client.request<ArrayBuffer>({ method, url, data: method === 'GET' ? undefined : payload, headers, signal: ctx.signal });
      } catch (err) {
        throw transportError(system.id, system.timeoutMs, err);
      }
      const text = Buffer.from(reply.data ?? new ArrayBuffer(0)).toString('utf8');
      classifyHttpStatus(system, reply.status, reply.headers['retry-after'], text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // A 2xx that is not JSON is usually a proxy or maintenance page in front of the system.
        throw new RetryableError(`${system.id} answered HTTP ${reply.status} with a body that is not JSON`);
      }
    },
    async close() {
      closeHttpClient(client);
    },
  };
  return adapter;
};
