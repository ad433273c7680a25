/** The leased request budget, on the run's real Redis: the limit holds exactly, across processes. */
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LeasedBudget } from './access';

describe('a request budget taken from Redis in leases', () => {
  let redis: Redis;
  const prefix = `taccess${Date.now()}`;

  beforeAll(() => {
    redis = new Redis(process.env.OW_TEST_REDIS_URL!);
  });
  afterAll(() => redis.disconnect());

  const limiter = (name: string) => new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:${name}`, points: 10, duration: 60 });

  async function served(budgets: LeasedBudget[], requests: number): Promise<number> {
    let ok = 0;
    for (let i = 0; i < requests; i++) {
      try {
        await budgets[i % budgets.length]!.consume('t:caller');
        ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(RateLimiterRes);
      }
    }
    return ok;
  }

  it('then one process serves the whole budget, no more, with a Redis command per lease', async () => {
    const budget = new LeasedBudget(limiter('one'), 10, 3);
    expect(await served([budget], 15)).toBe(10);
    // 4 leases of 3 were asked for, the last one granted in part, and the refusals after it.
    expect(Number(await redis.get(`${prefix}:one:t:caller`))).toBeGreaterThanOrEqual(12);
  });

  it('then two processes sharing the budget serve no more than it in total', async () => {
    const shared = limiter('two');
    expect(await served([new LeasedBudget(shared, 10, 3), new LeasedBudget(shared, 10, 3)], 20)).toBeLessThanOrEqual(10);
  });

  it('then concurrent requests share one lease at a time, so the budget is spent as fast as it is used', async () => {
    const wide = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:wide`, points: 100, duration: 60 });
    const budget = new LeasedBudget(wide, 100, 10);
    await Promise.all(Array.from({ length: 64 }, () => budget.consume('t:caller')));
    // 64 requests: 7 leases of 10, taken one after another, not 64 leases at once.
    expect(await redis.get(`${prefix}:wide:t:caller`)).toBe('70');
  });

  it('then a lease of one is a command per request, exactly as without leases', async () => {
    const budget = new LeasedBudget(limiter('single'), 10, 1);
    expect(await served([budget], 12)).toBe(10);
    expect(await redis.get(`${prefix}:single:t:caller`)).toBe('12');
  });
});
