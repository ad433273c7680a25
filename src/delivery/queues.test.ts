/** Queue names and job ids on the run's real Redis: what BullMQ takes, and the old layout found. */
import crypto from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { SystemConfig } from '../config/schema';
import { DeliveryQueues, untaggedQueuesWithJobs } from './queues';

const system = { id: 'city-a', retry: { attempts: 3 } } as unknown as SystemConfig;

describe('delivery queues', () => {
  const redis = new Redis(process.env.OW_TEST_REDIS_URL!, { maxRetriesPerRequest: null });
  const prefix = `q${crypto.randomBytes(4).toString('hex')}:bull`;
  const queues = new DeliveryQueues(redis, prefix);
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
  });

  it('queues a case whose id is an integer (BullMQ refuses integer job ids), once however often it is added', async () => {
    await queues.enqueue(system, '12345');
    await queues.enqueue(system, '12345');
    const q = queues.queue('city-a');
    expect(q.name).toBe('{delivery-city-a}');
    expect((await q.getJobs(['waiting'])).map((j) => [j.id, j.data.caseId])).toEqual([['case.12345', '12345']]);
  });

  it('names the queues of the untagged layout that still hold jobs, and only those', async () => {
    const old = new Queue('delivery-city-a', { connection: redis, prefix });
    await old.add('deliver', { caseId: 'X-1', systemId: 'city-a' }, { jobId: 'X-1', delay: 60_000 });
    await old.close();
    expect(await untaggedQueuesWithJobs(redis, prefix, ['delivery-city-a', 'delivery-city-b', 'callbacks'])).toEqual([{ queue: `${prefix}:delivery-city-a`, jobs: 1 }]);
  });
});
