/**
 * A system added through the API reaches every process (issue 24): two built gateways
 * (`node dist/src/main.js`) on one real Redis, an `api` process that takes the PUT and the case and
 * sends nothing, and a `worker` process that was never told. The worker starts the new system's
 * delivery worker within 5 s and delivers the case; a removal through the api process stops it
 * there within 5 s. Which process holds a queue's worker is read from Redis itself (BullMQ names
 * its worker connections), and only the worker process runs any.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueName } from '../../src/delivery/queues';
import { admin, caseView, eventually, INTAKE_TOKEN, legacyServer, OPS_TOKEN, redisUrl, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { READY_WAIT_MS, spawnGateway, stopGateway, untilReady, type GatewayProcess } from '../support/gateway-process';

// A database of its own: main.ts always uses the key prefix "ow", which other process tests use elsewhere.
const REDIS_DB = 13;
const FOLLOW_MS = 5000;

describe('when a system is added through one gateway process and another one delivers', () => {
  let legacy: LegacyServer;
  let api: GatewayProcess;
  let worker: GatewayProcess;
  let redis: Redis;
  const queues: Queue[] = [];

  /** How many delivery workers of the system are connected to Redis (every one is the worker process's). */
  async function workersOf(systemId: string): Promise<number> {
    const queue = new Queue(queueName(systemId), { connection: redis, prefix: 'ow:bull' });
    queues.push(queue);
    return queue.getWorkersCount();
  }

  beforeAll(async () => {
    redis = new Redis(`${redisUrl()}/${REDIS_DB}`, { maxRetriesPerRequest: null });
    await redis.flushdb();
    legacy = await legacyServer((req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const configDir = writeConfig([restSystem('city-old', `${legacy.url}/old`)], { routes: [{ itemCode: 'OLD-*', targets: ['city-old'] }] });
    const env = { OW_CONFIG_DIR: configDir, REDIS_URL: `${redisUrl()}/${REDIS_DB}`, OW_LEDGER: 'off', OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN, OW_SHUTDOWN_GRACE_MS: '1000' };
    api = await spawnGateway('api', { ...env, OW_ROLE: 'api' });
    worker = await spawnGateway('worker', { ...env, OW_ROLE: 'worker' });
    await Promise.all([untilReady(api), untilReady(worker)]);
  }, 2 * READY_WAIT_MS + 30_000);

  afterAll(async () => {
    await Promise.all([stopGateway(api), stopGateway(worker)]);
    for (const q of queues) await q.close();
    redis?.disconnect();
    await legacy?.close();
  });

  it('then the process that did not take the PUT starts its worker within 5 s and delivers its case; a removal stops that worker within 5 s', async () => {
    await eventually(async () => expect(await workersOf('city-old')).toBe(1));
    expect(await workersOf('city-new')).toBe(0);

    const put = await admin(api, 'PUT', '/systems/city-new', restSystem('city-new', `${legacy.url}/new`));
    expect(put.status).toBe(201);
    const added = Date.now();
    await eventually(async () => expect(await workersOf('city-new')).toBe(1), FOLLOW_MS);
    const started = Date.now() - added;
    expect(started).toBeLessThan(FOLLOW_MS);

    const c = sampleCase({ itemCode: 'OLD-1', targets: ['city-new'] });
    expect((await submit(api, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(api, c.caseId as string)).body.deliveries[0]).toMatchObject({ systemId: 'city-new', status: 'delivered' }), 20_000);
    // The api process sends nothing: the case reached the legacy system through the worker process.
    expect(legacy.received.filter((r) => r.url === '/new').map((r) => (r.json as { bizNo: string }).bizNo)).toEqual([c.caseId]);

    const removed = await admin(api, 'DELETE', '/systems/city-new', { reason: '测试下线' });
    expect(removed.status).toBe(200);
    const gone = Date.now();
    await eventually(async () => expect(await workersOf('city-new')).toBe(0), FOLLOW_MS);
    const stopped = Date.now() - gone;
    expect(stopped).toBeLessThan(FOLLOW_MS);
    // The rest of the worker process carries on.
    expect(await workersOf('city-old')).toBe(1);
    process.stdout.write(`worker of an added system started in ${started} ms, of a removed one stopped in ${stopped} ms (config refresh every 2 s)\n`);
  }, 60_000);
});
