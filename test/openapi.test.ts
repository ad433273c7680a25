/** docs/openapi.yaml: generated from the code, never drifting from it, and describing what is served. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../src/app';
import { ERROR_CATALOGUE } from '../src/platform/errors';
import { buildOpenApi, openApiFile, PLANNED, renderOpenApi } from '../scripts/openapi';

const doc = buildOpenApi();

/** Every operation of the document the gateway serves today (not marked planned). */
function servedOperations(): { method: string; path: string }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => !op.description?.includes(PLANNED))
      .map(([method]) => ({ method: method.toUpperCase(), path })),
  );
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

  it('describes only /api/v1/cases operations the gateway serves', async () => {
    const cases = servedOperations().filter((op) => op.path.startsWith('/api/v1/cases'));
    expect(cases).toEqual([
      { method: 'POST', path: '/api/v1/cases' },
      { method: 'GET', path: '/api/v1/cases/{caseId}' },
    ]);

    // The real app with stand-ins that nothing on these paths reaches before the token check.
    const deps = {
      config: () => ({ gateway: { server: { bodyLimit: '1mb' } }, systems: new Map([['x', {}]]) }),
      store: {},
      queues: {},
      redis: { ping: async () => 'PONG' },
      tokens: { intake: [], ops: [] },
      log: { error: () => undefined, info: () => undefined },
      metrics: { registry: { contentType: 'text/plain', metrics: async () => '' } },
    } as unknown as AppDeps;
    const server = http.createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const { method, path } of servedOperations()) {
        const res = await fetch(base + path.replace(/\{[^}]+\}/g, 'QZ-OPENAPI-1'), { method });
        const body = await res.text();
        expect({ method, path, notFound: res.status === 404 && body.includes('"not_found"') }).toEqual({ method, path, notFound: false });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
