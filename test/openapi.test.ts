/** docs/openapi.yaml: generated from the code, never drifting from it, and describing exactly what is served. */
import pino from 'pino';
import { createMetrics } from '../src/platform/metrics';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../src/app';
import { ApiError, ERROR_CATALOGUE } from '../src/platform/errors';
import { sign } from '../src/platform/signing';
import { buildOpenApi, declaredOperations, openApiFile, renderOpenApi } from '../scripts/openapi';
import { openApiContract, pointerSegment } from './support/openapi-contract';

const doc = buildOpenApi();

interface Documented {
  method: string;
  path: string;
  security: string | undefined;
  query: string;
}

/** Every operation of the document, with the first security scheme it takes and its required query. */
function documentedOperations(): Documented[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      security: Object.keys(op.security?.[0] ?? {})[0],
      query: (op.parameters ?? [])
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => p.name)
        .join('&'),
    })),
  );
}

/** Static files of the console, served beside `GET /console` but no part of the interface. */
const NOT_API = ['GET /console/', 'GET /console/index.html', 'GET /console/{file}'];

interface Layer {
  slash?: boolean;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route the express app serves, as `METHOD /path/{param}`. */
function servedRoutes(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = ([] as string[]).concat(layer.route.path).map((p) => p.replace(/:(\w+)/g, '{$1}'));
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      return methods.flatMap((m) => paths.map((p) => `${m.toUpperCase()} ${p}`));
    }
    if (!layer.handle?.stack) return [];
    if (!layer.slash) throw new Error('a router is mounted below a path: teach servedRoutes() to prefix it');
    return servedRoutes(layer.handle.stack);
  });
}

const TOKENS = { intake: ['intake-token'], ops: ['ops-token'] };
const TOKEN_OF: Record<string, string> = { intakeToken: 'intake-token', opsToken: 'ops-token', systemToken: 'system-token' };

/** Stand-in collaborators: whatever a handler asks of them answers `unavailable`. */
function unavailable<T>(): T {
  return new Proxy({} as object, {
    get: (_target, name) =>
      name === 'then'
        ? undefined
        : () => {
            throw new ApiError('unavailable');
          },
  }) as T;
}

function app() {
  // Real ones: the HTTP edge (the request line, the request counters) needs a whole logger and registry.
  const log = pino({ level: 'silent' });
  const deps = {
    config: () => ({ gateway: { server: { bodyLimit: '1mb', trustProxy: [] }, limits: { failedAuthPerMinute: 1000, requestsPerMinute: 100_000 } }, systems: new Map([['x', {}]]) }),
    store: unavailable(),
    queues: unavailable(),
    operations: unavailable(),
    results: {
      system: () => {
        throw new ApiError('unknown_system');
      },
      receive: async () => {
        throw new ApiError('unknown_system');
      },
      unmatched: async () => ({ items: [{ id: 'QZ-OPENAPI-1' }] }),
      rematchOne: async () => false,
    },
    // Every optional room mounted, as the document describes them all.
    seals: unavailable(),
    sealVerifier: unavailable(),
    ledger: unavailable(),
    sharedData: unavailable(),
    redis: { ping: async () => 'PONG' },
    tokens: TOKENS,
    log,
    metrics: createMetrics(),
  } as unknown as AppDeps;
  return createApp(deps);
}

describe('docs/openapi.yaml', () => {
  it('is exactly what scripts/openapi.ts generates', () => {
    const committed = fs.existsSync(openApiFile()) ? fs.readFileSync(openApiFile(), 'utf8').replace(/\r\n/g, '\n') : '';
    if (committed !== renderOpenApi()) {
      throw new Error('docs/openapi.yaml is out of date with the code: run `npm run openapi` and commit the result.');
    }
  });

  it("lists every error code of the catalogue in the Error schema's enum", () => {
    const errorSchema = doc.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } };
    const codeEnum = errorSchema.properties.error.properties.code.enum;
    expect([...codeEnum].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });

  it('names every declared operation once, at one method and path, under a tag of the document', () => {
    const declared = declaredOperations();
    const ids = declared.map((op) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const routes = declared.map((op) => `${op.method} ${op.path}`);
    expect(routes.filter((r, i) => routes.indexOf(r) !== i)).toEqual([]);
    const tags = doc.tags.map((t) => t.name);
    expect(declared.filter((op) => op.tags.some((t) => !tags.includes(t))).map((op) => op.operationId)).toEqual([]);
    // The document holds each of them (a second declaration of a path would have merged into the first).
    expect(documentedOperations().length).toBe(declared.length);
  });

  it('documents exactly the routes the app serves', () => {
    const router = (app() as unknown as { router: { stack: Layer[] } }).router;
    const served = servedRoutes(router.stack).filter((route) => !NOT_API.includes(route));
    const documented = documentedOperations().map((op) => `${op.method} ${op.path}`);
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
  });

  it('reaches a handler for every operation it documents', async () => {
    // The app's own answer for a path nothing serves; a served one answers anything else.
    const unrouted = JSON.stringify(new ApiError('not_found').toBody());
    const server = http.createServer(app());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const { method, path, security, query } of documentedOperations()) {
        const url = base + path.replace(/\{[^}]+\}/g, 'QZ-OPENAPI-1') + (query ? `?${query}` : '');
        const res = await fetch(url, { method, headers: security ? { authorization: `Bearer ${TOKEN_OF[security]}` } : {} });
        const body = await res.text();
        expect({ method, path, unrouted: res.status === 404 && body === unrouted }).toEqual({ method, path, unrouted: false });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('documents as refused every empty query value its handler refuses, from the zod schema the handler parses', async () => {
    // The handler's own verdict on `?name=`: 400 when its schema refuses the value, else it goes on (and finds nothing to ask).
    const contract = openApiContract();
    const server = http.createServer(app());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const disagreements: string[] = [];
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const op of contract.operations) {
        const security = Object.keys(op.security[0] ?? {})[0];
        for (const [i, p] of (op.parameters ?? []).entries()) {
          if (p.in !== 'query' || p.name === 'wsdl') continue;
          const res = await fetch(`${base}${op.path}?${p.name}=`, { headers: security ? { authorization: `Bearer ${TOKEN_OF[security]}` } : {} });
          const refused = res.status === 400;
          const documented = contract.invalid(`#/paths/${pointerSegment(op.path)}/${op.method.toLowerCase()}/parameters/${i}/schema`, '') !== undefined;
          if (refused !== documented) disagreements.push(`${op.operationId} ?${p.name}= is ${res.status}, documented as ${documented ? 'refused' : 'accepted'}`);
        }
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(disagreements).toEqual([]);
  });

  it('describes the callbacks as a webhook carrying the CaseEvent and the signature headers', () => {
    const callback = doc.webhooks.caseEvent.post;
    expect(callback.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/CaseEvent' });
    const headers = Object.fromEntries((callback.parameters ?? []).filter((p) => p.in === 'header').map((p) => [p.name, p.schema]));
    expect(Object.keys(headers).sort()).toEqual(['X-OW-Event-Id', 'X-OW-Signature', 'X-OW-Timestamp']);
    const timestamp = 1_790_000_000;
    expect(String(timestamp)).toMatch(new RegExp(String(headers['X-OW-Timestamp']!.pattern)));
    expect(sign('secret', timestamp, '{"eventId":"e"}')).toMatch(new RegExp(String(headers['X-OW-Signature']!.pattern)));
  });
});
