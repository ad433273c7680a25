/** REST/JSON over HTTP: the mapped body is POSTed as JSON and the JSON reply is handed back. */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosResponse } from 'axios';
import { RetryableError } from '../../src/delivery/errors';
import type { Adapter, AdapterFactory } from '../adapter';
import { authHeaders, classifyHttpStatus, transportError } from '../http';

export const createRestAdapter: AdapterFactory = (system) => {
  // One keep-alive pool per configured system, so a slow system cannot starve another's sockets.
  const client = axios.create({
    timeout: system.timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: system.concurrency }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: system.concurrency }),
    responseType: 'text',
    transformResponse: (data: unknown) => data,
    validateStatus: () => true,
    maxRedirects: 0,
  });

  const adapter: Adapter = {
    async send(body, ctx) {
      const method = ctx.target?.method ?? system.method;
      const payload = method === 'GET' ? '' : JSON.stringify(body);
      let reply: AxiosResponse<string>;
      try {
        reply = await client.request<string>({
          method,
          url: ctx.target?.endpoint ?? system.endpoint,
          data: method === 'GET' ? undefined : payload,
          headers: {
            ...(method === 'GET' ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
            Accept: 'application/json',
            'Idempotency-Key': ctx.idempotencyKey,
            ...authHeaders(system.auth, payload),
          },
        });
      } catch (err) {
        throw transportError(system.id, system.timeoutMs, err);
      }
      classifyHttpStatus(system.id, reply.status, reply.headers['retry-after'], String(reply.data ?? '').slice(0, 200));
      try {
        return JSON.parse(reply.data) as unknown;
      } catch {
        // A 2xx that is not JSON is usually a proxy or maintenance page in front of the system.
        throw new RetryableError(`${system.id} answered HTTP ${reply.status} with a body that is not JSON`);
      }
    },
    async close() {
      client.defaults.httpAgent?.destroy();
      client.defaults.httpsAgent?.destroy();
    },
  };
  return adapter;
};

