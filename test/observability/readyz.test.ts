/** /readyz: 503 with the reason while this gateway's own Redis is stopped, 200 again once it is back. */
import { legacyServer, replyJson, restSystem, startTestGateway, eventually, writeConfig, type LegacyServer } from '../support/harness';
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

const ready = async () => {
  const res = await fetch(`${gateway.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string; redis: boolean; workers?: boolean } };
};

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
