/**
 * The gateway of a look-up world (sim/shared-data-world.ts) in a process of its own: the config
 * folder, Redis and tokens from the environment, loopback only, port 0, no workers. Prints
 * "gateway listening on <url>" once it answers; stops on SIGTERM.
 */
import pino from 'pino';
import { loadConfig } from '../src/config/loader';
import { startGateway } from '../src/gateway';

async function main(): Promise<void> {
  const env = process.env;
  const gateway = await startGateway({
    config: loadConfig(env.OW_CONFIG_DIR ?? './config', env),
    redisUrl: env.REDIS_URL ?? '',
    tokens: { intake: [env.OW_INTAKE_TOKEN ?? ''], ops: [env.OW_OPS_TOKEN ?? ''] },
    log: pino({ level: env.LOG_LEVEL ?? 'silent' }),
    port: 0,
    host: '127.0.0.1',
    keyPrefix: env.OW_KEY_PREFIX,
    role: 'api',
    dataDir: env.OW_DATA_DIR,
  });
  console.log(`gateway listening on ${gateway.url}`);
  process.once('SIGTERM', () => void gateway.stop().then(() => process.exit(0), () => process.exit(1)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
