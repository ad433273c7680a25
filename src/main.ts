/**
 * `npm start`: load the configuration, connect to (or launch) Redis, serve HTTP and run the
 * delivery workers until SIGTERM/SIGINT. Every start-up problem is a clear message, never a stack.
 */
import path from 'node:path';
import { ConfigError, loadConfig } from './config/loader';
import { startGateway } from './gateway';
import { tokensFromEnv } from './platform/auth';
import { createLogger } from './platform/logger';
import { launchEmbeddedRedis, RedisMissingError, type EmbeddedRedis } from './platform/redis';

function fail(message: string): never {
  process.stderr.write(`onewindow-gateway: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const log = createLogger();
  const configDir = process.env.OW_CONFIG_DIR ?? './config';
  let config;
  try {
    config = loadConfig(configDir);
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n  (configuration folder: ${path.resolve(configDir)})`);
    throw err;
  }

  const tokens = tokensFromEnv(process.env);
  const missing = [tokens.intake.length === 0 && 'OW_INTAKE_TOKEN', tokens.ops.length === 0 && 'OW_OPS_TOKEN'].filter(Boolean);
  if (missing.length > 0) fail(`${missing.join(' and ')} must be set (bearer tokens of the intake platform and of ops staff)`);

  let embedded: EmbeddedRedis | undefined;
  let redisUrl = config.gateway.redis.url;
  if (!redisUrl) {
    try {
      embedded = await launchEmbeddedRedis(path.resolve('data/redis'));
    } catch (err) {
      if (err instanceof RedisMissingError) fail(err.message);
      fail(`could not start the embedded redis-server: ${(err as Error).message}`);
    }
    redisUrl = embedded.url;
    log.info({ redis: redisUrl, dataDir: 'data/redis' }, 'embedded redis-server started (append-only on)');
  }

  const gateway = await startGateway({ config, redisUrl, tokens, log, ledger: { url: process.env.DATABASE_URL } }).catch((err: Error) => fail(err.message));
  log.info({ port: gateway.port, systems: config.systems.size, configDir: config.dir }, 'gateway listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: intake closed, finishing in-flight deliveries');
    await gateway.stop();
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: Error) => fail(err.message));
