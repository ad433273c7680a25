/** One real redis-server for the whole run; test files isolate themselves by key prefix. */
import { startTestRedis } from './redis-server';

export default async function globalSetup(): Promise<void> {
  const redis = await startTestRedis();
  process.env.OW_TEST_REDIS_URL = redis.url;
  process.env.OW_TEST_REDIS_PID = String(redis.pid);
}
