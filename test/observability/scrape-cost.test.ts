/**
 * A scrape costs O(systems) Redis commands, not O(cases): with 10 000 deliveries waiting behind a
 * paused system it takes as many commands as with 10 (INFO commandstats on a Redis of its own).
 * Within the cache time a scrape costs none, and scrapes at the same moment share one read.
 */
import Redis from 'ioredis';
import { legacyServer, replyJson, restSystem, startTestGateway, writeConfig, type LegacyServer } from '../support/harness';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import type { RunningGateway } from '../../src/gateway';
import { sample, scrape } from './prom';

let redis: TestRedis, legacy: LegacyServer, gateway: RunningGateway, probe: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  probe = new Redis(redis.url);
  legacy = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: 'R' } }));
  const systems = ['s-a', 's-b', 's-c'].map((id) => restSystem(id, legacy.url));
  // No workers and no config polling: the only commands between two INFOs are the scrape's.
  gateway = await startTestGateway(writeConfig(systems, { routes: [{ itemCode: '*', targets: ['s-a'] }], unrouted: 'reject' }), {
    redisUrl: redis.url,
    options: { role: 'api', configRefreshMs: 3_600_000, backlogCacheMs: 0 },
  });
});

afterAll(async () => {
  await gateway?.stop();
  probe?.disconnect();
  await legacy?.close();
  await redis?.stop();
});

/** Commands Redis executed during `scrapes` scrapes at once (the CONFIG RESETSTAT and INFO around them excluded). */
async function commandsOfOneScrape(of: RunningGateway = gateway, scrapes = 1): Promise<number> {
  await probe.config('RESETSTAT');
  const all = await Promise.all(Array.from({ length: scrapes }, () => scrape(of.url)));
  const info = await probe.info('commandstats');
  const calls = [...info.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+)/gm)].filter(([, name]) => name !== 'info' && name !== 'config|resetstat').reduce((sum, [, , n]) => sum + Number(n), 0);
  for (const families of all) expect(sample(families, 'ow_backlog_up')).toBe(1);
  return calls;
}

async function fillWaiting(total: number): Promise<void> {
  const queue = gateway.queues.queue('s-a');
  const have = (await queue.getJobCounts('waiting')).waiting ?? 0;
  for (let i = have; i < total; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, total - i) }, (_, k) => ({ name: 'deliver', data: { caseId: `QZ-LOAD-${i + k}`, systemId: 's-a' }, opts: { jobId: `QZ-LOAD-${i + k}` } })));
  }
}

test('10 000 waiting cost the same commands per scrape as 10', async () => {
  await gateway.queues.queue('s-a').pause();
  await fillWaiting(10);
  await commandsOfOneScrape(); // scripts loaded, connections warm
  const small = await commandsOfOneScrape();
  await fillWaiting(10_000);
  const large = await commandsOfOneScrape();
  const families = await scrape(gateway.url);
  expect(sample(families, 'ow_queue_jobs', { systemId: 's-a', state: 'waiting' })).toBe(10_000);
  expect(sample(families, 'ow_system_paused', { systemId: 's-a' })).toBe(1);
  expect(small).toBeGreaterThan(0);
  expect(large).toBe(small);
  expect(small).toBeLessThanOrEqual(3 * 20 + 10); // a fixed handful per system, a few for the callback and poll queues
}, 40_000);

test('within the cache time a scrape costs no command, and four scrapes at once cost one read', async () => {
  const systems = ['s-a', 's-b', 's-c'].map((id) => restSystem(id, legacy.url));
  const cached = await startTestGateway(writeConfig(systems, { routes: [{ itemCode: '*', targets: ['s-a'] }], unrouted: 'reject' }), {
    redisUrl: redis.url,
    options: { role: 'api', configRefreshMs: 3_600_000, backlogCacheMs: 60_000 },
  });
  try {
    await commandsOfOneScrape(gateway); // the other gateway's scripts loaded, connections warm
    const one = await commandsOfOneScrape(gateway);
    const together = await commandsOfOneScrape(cached, 4);
    expect(together).toBeGreaterThan(0);
    // The same systems as the uncached gateway: one read's worth, a few more for loading its scripts.
    expect(together).toBeLessThanOrEqual(one + 10);
    expect(together).toBeLessThan(2 * one);
    expect(await commandsOfOneScrape(cached)).toBe(0);
    expect(await commandsOfOneScrape(cached, 3)).toBe(0);
  } finally {
    await cached.stop();
  }
}, 40_000);
