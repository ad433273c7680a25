import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { INTAKE_TOKEN, OPS_TOKEN, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { startTestRedis, type TestRedis } from '../support/redis-server';

describe('when Redis goes away and comes back', () => {
  let redis: TestRedis;
  let legacy: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    redis = await startTestRedis();
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] });
    gateway = await startGateway({
      config: loadConfig(dir, {}),
      redisUrl: redis.url,
      tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN] },
      log: pino({ level: 'silent' }),
      port: 0,
      host: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await redis.stop();
  });

  it('then intake answers 503 while it is away, and accepts and delivers again once it is back', async () => {
    const before = sampleCase();
    expect((await submit(gateway, before)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, before.caseId as string)).body.deliveries[0].status).toBe('delivered'));

    await redis.stop();
    const during = sampleCase();
    const started = Date.now();
    const refused = await submit(gateway, during);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);

    await redis.start();
    // Append-only persistence brought back what was accepted before the outage.
    const after = sampleCase();
    const accepted = await eventually(async () => {
      const res = await submit(gateway, after);
      expect(res.status).toBe(202);
      return res;
    }, 15_000);
    expect(accepted.body.caseId).toBe(after.caseId);
    await eventually(async () => expect((await caseView(gateway, after.caseId as string)).body.deliveries[0].status).toBe('delivered'), 15_000);
    expect((await caseView(gateway, before.caseId as string)).body.deliveries[0].status).toBe('delivered');
    expect((await caseView(gateway, during.caseId as string)).status).toBe(404);
  });
});
