/**
 * The dead-letter listing pages at the store: a page of five reads about five dead letters, not
 * every failed job of every system, and walking the pages gives each dead letter once, oldest first.
 */
import type { RunningGateway } from '../../src/gateway';
import { admin, redisUrl, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, eventually } from '../support/harness';
import { monitorRedis } from '../support/redis-monitor';

const CASES = 60;

describe('when a system has many dead letters', () => {
  let gateway: RunningGateway;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    const retry = { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } };
    const dir = writeConfig([restSystem('city-gone', 'http://127.0.0.1:1/x', { retry, concurrency: 8, rateLimit: { max: 1000, perMs: 1000 }, circuitBreaker: { failureThreshold: 1000, cooldownMs: 100 } })], { routes: [{ itemCode: '*', targets: ['city-gone'] }] });
    gateway = await startTestGateway(dir, { keyPrefix: prefix });
    for (let i = 0; i < CASES; i++) await submit(gateway, sampleCase());
    await eventually(async () => {
      const board = (await admin(gateway, 'GET', '/systems')).body as Array<{ id: string; queue: { failed: number } }>;
      expect(board.find((s) => s.id === 'city-gone')!.queue.failed).toBe(CASES);
    }, 30_000);
  }, 60_000);
  afterAll(() => gateway.stop());

  it('then a page of five reads a handful of Redis keys, not all sixty', async () => {
    const commands: string[][] = [];
    const monitor = await monitorRedis(redisUrl(), (args) => {
      if (args.some((a) => a.startsWith(`${prefix}:`))) commands.push(args);
    });
    try {
      const page = await admin(gateway, 'GET', '/dead-letters?limit=5');
      expect(page.body.items).toHaveLength(5);
      expect(page.body.next).toEqual(expect.any(String));
    } finally {
      monitor.stop();
    }
    // A sorted-set range and a read per dead letter answered (and the one after it), with room to spare.
    expect(commands.length).toBeLessThan(30);
  });

  it('then walking the pages gives every dead letter once, oldest first', async () => {
    const seen: Array<{ id: string; failedAt: string }> = [];
    let cursor: string | undefined;
    do {
      const page = (await admin(gateway, 'GET', `/dead-letters?limit=7${cursor ? `&cursor=${cursor}` : ''}`)).body as { items: Array<{ id: string; failedAt: string }>; next?: string };
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor);
    expect(new Set(seen.map((l) => l.id)).size).toBe(CASES);
    const order = seen.map((l) => `${l.failedAt} ${l.id}`);
    expect(order).toEqual([...order].sort());
  });
});
