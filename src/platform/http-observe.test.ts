import http from 'node:http';
import net from 'node:net';
import express from 'express';
import pino from 'pino';
import { createMetrics } from './metrics';
import { observeHttp } from './http-observe';
import { eventually } from '../../test/support/harness';

/** The edge in front of two handlers: one that answers, one that never does. */
async function edge(): Promise<{ url: URL; lines: Record<string, unknown>[]; close: () => Promise<void> }> {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = express();
  app.use(observeHttp({ log, metrics: createMetrics() }));
  app.get('/answer/:id', (_req, res) => void res.status(404).json({}));
  app.get('/never/:id', () => undefined);
  app.get('/healthz', (_req, res) => void res.json({}));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}`), lines, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('one line per answer, with the masked path, the route and the status; none for probes', async () => {
  const e = await edge();
  await fetch(new URL('/answer/330802199001011234?phone=13800000000', e.url), { headers: { 'X-Request-Id': 'r-1' } });
  await fetch(new URL('/healthz', e.url));
  await eventually(async () => expect(e.lines.length).toBeGreaterThan(0));
  await new Promise((r) => setTimeout(r, 100)); // time for a probe's line, were one written
  expect(e.lines.map(({ msg, level, requestId, req, res, route }) => ({ msg, level, requestId, req, res, route }))).toEqual([
    { msg: 'request answered', level: 40, requestId: 'r-1', req: { method: 'GET', path: '/answer/330*************34' }, res: { statusCode: 404 }, route: '/answer/:id' },
  ]);
  expect(typeof e.lines[0]!.responseTime).toBe('number');
  await e.close();
});

test('a caller that leaves before the answer gets a "request aborted" line', async () => {
  const e = await edge();
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(Number(e.url.port), '127.0.0.1', () => {
      socket.write('GET /never/330802199001011234 HTTP/1.1\r\nHost: x\r\nX-Request-Id: r-gone\r\n\r\n');
      setTimeout(() => socket.destroy(), 100);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await eventually(async () => expect(e.lines.length).toBeGreaterThan(0));
  expect(e.lines.map(({ msg, requestId, req }) => ({ msg, requestId, req }))).toEqual([{ msg: 'request aborted', requestId: 'r-gone', req: { method: 'GET', path: '/never/330*************34' } }]);
  await e.close();
});
