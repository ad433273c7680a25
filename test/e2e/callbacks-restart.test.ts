import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaseStore } from '../../src/cases/store';
import { createRedis } from '../../src/platform/redis';
import {
  caseView, eventually, legacyServer, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';
import { freePort } from '../support/redis-server';

describe('when the gateway restarts while callbacks are owed', () => {
  let legacy: LegacyServer;
  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } }));
  });
  afterAll(() => legacy.close());

  it('then the events owed are sent after the restart, and none is lost', async () => {
    const port = await freePort(); // nothing listens here yet: the intake platform is down
    const dir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] }, {
      intake: { callbackUrl: `http://127.0.0.1:${port}/callbacks`, callbackSecret: 's' },
    });
    const keyPrefix = uniquePrefix();
    const first = await startTestGateway(dir, { keyPrefix });
    const cases = [sampleCase(), sampleCase(), sampleCase()];
    for (const c of cases) expect((await submit(first, c)).status).toBe(202);
    for (const c of cases) await eventually(async () => expect((await caseView(first, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    await first.stop();

    // An event written just before a crash, whose drain job was never queued: the sweep finds it.
    const redis = createRedis(redisUrl(), 'worker');
    const store = new CaseStore(redis, { prefix: keyPrefix, events: true });
    const orphan = sampleCase();
    await store.accept({ case: orphan as never, hash: 'x', acceptedAt: new Date().toISOString(), targets: ['city-housing-reform'] });
    await store.record(orphan.caseId as string, 'city-housing-reform', { status: 'rejected', lastError: 'test' }, { at: new Date().toISOString(), event: 'rejected' });
    redis.disconnect();

    const received: Array<{ caseId: string; event: string }> = [];
    const intake = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as { caseId: string; event: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => intake.listen(port, '127.0.0.1', resolve));
    expect((intake.address() as AddressInfo).port).toBe(port);

    const second = await startTestGateway(dir, { keyPrefix });
    try {
      await eventually(async () => {
        for (const c of cases) expect(received.filter((e) => e.caseId === c.caseId && e.event === 'delivery.delivered')).toHaveLength(1);
        expect(received.filter((e) => e.caseId === orphan.caseId && e.event === 'delivery.rejected')).toHaveLength(1);
      }, 15_000);
    } finally {
      await second.stop();
      intake.closeAllConnections();
      intake.close();
    }
  });
});
