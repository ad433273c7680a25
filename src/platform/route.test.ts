/** One statement serves a route and declares its operation; mounting carries the declarations along. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { expressPath, mount, operationsOf, route, type Operation } from './route';

const operation = (method: Operation['method'], path: string): Operation => ({ method, path, operationId: `${method} ${path}`, tags: ['t'], summary: 's', security: [], responses: { '200': { description: 'ok' } } });

async function statusOf(app: express.Express, method: string, path: string): Promise<number> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, { method });
    return res.status;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('route', () => {
  it('turns OpenAPI path parameters into express ones', () => {
    expect(expressPath('/a/{id}/b/{version}')).toBe('/a/:id/b/:version');
    expect(expressPath('/plain')).toBe('/plain');
  });

  it('serves the handlers at the declared path and method, and declares the operation once', async () => {
    const app = express();
    const router = Router();
    route(router, operation('post', '/things/{id}'), (req, res) => {
      res.status(201).send(String(req.params.id));
    });
    route(router, { ...operation('get', '/page'), alsoAt: ['/page/', '/page/index.html'] }, (_req, res) => {
      res.send('page');
    });
    mount(app, router);
    expect(operationsOf(app).map((op) => `${op.method} ${op.path}`)).toEqual(['post /things/{id}', 'get /page']);
    // The undocumented aliases are served, and kept out of the declaration.
    expect(operationsOf(app)[1]).not.toHaveProperty('alsoAt');
    expect(await statusOf(app, 'POST', '/things/42')).toBe(201);
    expect(await statusOf(app, 'GET', '/things/42')).toBe(404);
    expect(await statusOf(app, 'GET', '/page/index.html')).toBe(200);
  });

  it('keeps each router its own declarations', () => {
    const a = Router();
    const b = Router();
    route(a, operation('get', '/a'), (_req, res) => void res.end());
    expect(operationsOf(a)).toHaveLength(1);
    expect(operationsOf(b)).toHaveLength(0);
  });
});
