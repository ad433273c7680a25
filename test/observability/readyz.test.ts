/**
 * /readyz: 503 with the reason while this gateway's own Redis is stopped (200 again once it is back),
 * while one of this process's workers is not running, and when no configuration is loaded; an api
 * process, which runs no workers, is ready without them.
 */
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createApp, type AppDeps } from '../../src/app';
import { loadConfig } from '../../src/config/loader';
import { createMetrics } from '../../src/platform/metrics';
import { legacyServer, redisUrl, replyJson, restSystem, startTestGateway, eventually, writeConfig, type LegacyServer } from '../support/harness';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import type { RunningGateway } from '../../src/gateway';

let redis: TestRedis, legacy: LegacyServer, gateway: RunningGateway;

beforeAll(async () => {
  redis = await startTestRedis();
  legacy = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: 'R' } }));
  gateway = await startTestGateway(writeConfig([restSystem('r-sys', legacy.url)], { routes: [{ itemCode: '*', targets: ['r-sys'] }], unrouted: 'reject' }), { redisUrl: redis.url });
});

afterAll(async () => {
  await gateway?.stop();
  await legacy?.close();
  await redis?.stop();
});

interface Readiness {
  status: number;
  body: { status: string; reason?: string; reasons?: string[]; redis: boolean; config: boolean; workers?: boolean };
}

const readyAt = async (url: string): Promise<Readiness> => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness['body'] };
};
const ready = () => readyAt(gateway.url);

test('503 naming Redis while it is stopped, 200 again after', async () => {
  await eventually(async () => expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready', redis: true, workers: true } }));
  await redis.stop();
  const down = await eventually(async () => {
    const r = await ready();
    expect(r.status).toBe(503);
    return r;
  });
  expect(down.body).toMatchObject({ status: 'not_ready', redis: false });
  expect(down.body.reason).toMatch(/redis/);
  // The probes themselves never wait on Redis: /healthz and /metrics still answer.
  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  const metrics = await fetch(`${gateway.url}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^ow_backlog_up 0$/m);
  await redis.start();
  await eventually(async () => expect((await ready()).status).toBe(200), 20_000);
}, 40_000);

test("503 naming the worker while this process's callback worker is not running; an api process runs none and is ready", async () => {
  // With a callback URL, so the process runs a callback worker.
  const dir = writeConfig([restSystem('w-sys', legacy.url)], { routes: [{ itemCode: '*', targets: ['w-sys'] }], unrouted: 'reject' }, { intake: { callbackUrl: `${legacy.url}/cb`, callbackSecret: 'cb-secret' } });
  const all = await startTestGateway(dir);
  const api = await startTestGateway(dir, { options: { role: 'api' } });
  try {
    await eventually(async () => expect(await readyAt(all.url)).toMatchObject({ status: 200, body: { workers: true } }));
    expect(await readyAt(api.url)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await readyAt(api.url)).body).not.toHaveProperty('workers');
    await all.callbacks.close();
    const stopped = await readyAt(all.url);
    expect(stopped).toMatchObject({ status: 503, body: { status: 'not_ready', workers: false, redis: true, config: true } });
    expect(stopped.body.reasons).toEqual(['workers not running: callbacks']);
    expect((await readyAt(api.url)).status).toBe(200);
  } finally {
    await all.stop();
    await api.stop();
  }
});

test('503 naming the configuration when no legacy system is loaded, 200 with one', async () => {
  // startGateway refuses a configuration without systems, so the app is built here with the
  // readiness it would have: a real loaded configuration, then the same with its systems gone.
  const loaded = loadConfig(writeConfig([restSystem('c-sys', legacy.url)], { routes: [{ itemCode: '*', targets: ['c-sys'] }], unrouted: 'reject' }), {});
  const empty = { ...loaded, systems: new Map() };
  const client = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 });
  const probe = async (config: typeof loaded): Promise<Readiness> => {
    // The probes come before anything else the app serves; a worker's app (probesOnly) serves only them.
    const deps = { config: () => config, redis: client, log: pino({ level: 'silent' }), metrics: createMetrics(), probesOnly: true } as Partial<AppDeps> as AppDeps;
    const server = createApp(deps).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      return await readyAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  };
  try {
    expect(await probe(loaded)).toMatchObject({ status: 200, body: { status: 'ready', config: true } });
    const none = await probe(empty);
    expect(none).toMatchObject({ status: 503, body: { status: 'not_ready', config: false, redis: true } });
    expect(none.body.reasons).toEqual(['config: no legacy system is configured']);
  } finally {
    client.disconnect();
  }
});
