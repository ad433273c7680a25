/** One real redis-server for the whole run; test files isolate themselves by key prefix. */
import { bundleConsole, bundleIsStale } from '../../scripts/bundle-console';
import { startTestRedis } from './redis-server';

export default async function globalSetup(): Promise<void> {
  // The console is a bundle `npm run build` writes (its API types first); `npx jest test/console` alone builds it too.
  if (bundleIsStale()) await bundleConsole();
  const redis = await startTestRedis();
  process.env.OW_TEST_REDIS_URL = redis.url;
  process.env.OW_TEST_REDIS_PID = String(redis.pid);
}
