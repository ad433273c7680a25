/**
 * `npm start`: load the configuration, connect to (or launch) Redis, serve HTTP and run the
 * delivery workers until SIGTERM/SIGINT. Every start-up problem is a clear message, never a stack;
 * every way out stops what has been started (the embedded redis-server included), within a deadline.
 */
import path from 'node:path';
import { ConfigError, loadConfig, type GatewayConfig } from './config/loader';
import { GATEWAY_ROLES, startGateway, type GatewayRole } from './gateway';
import { tokensFromEnv } from './platform/auth';
import { Lifecycle } from './platform/lifecycle';
import { createLogger } from './platform/logger';
import { launchEmbeddedRedis, parseRedisUrl, RedisMissingError, RedisUrlError } from './platform/redis';
import { startTracing, stopTracing } from './platform/tracing';

/** A whole number of milliseconds from the environment, or a problem naming the variable. */
function millis(name: string, fallback: number, problems: string[]): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 0) return value;
  problems.push(`${name} must be a number of milliseconds, not "${raw}"`);
  return fallback;
}

/** OW_ROLE: what this process does (default all), or a problem listing the roles there are. */
function role(problems: string[]): GatewayRole {
  const raw = process.env.OW_ROLE;
  if (raw === undefined || raw === '') return 'all';
  if ((GATEWAY_ROLES as readonly string[]).includes(raw)) return raw as GatewayRole;
  problems.push(`OW_ROLE must be one of ${GATEWAY_ROLES.join(', ')}, not "${raw}"`);
  return 'all';
}

const problems: string[] = [];
const shutdownGraceMs = millis('OW_SHUTDOWN_GRACE_MS', 10_000, problems);
// Deliveries in flight get the grace; Redis, connections and the redis-server child a few seconds more.
const lifecycle = new Lifecycle('onewindow-gateway', shutdownGraceMs + 5000);
const log = createLogger();
// Before any queue or server exists, so that every span has its provider; off unless OTEL_* ask.
if (startTracing()) lifecycle.add({ stop: stopTracing });
// First of all: a signal at any moment of start-up stops what has been started so far.
lifecycle.exitOnSignals((signal) => log.info({ signal }, 'shutting down: intake closed, finishing in-flight deliveries'));

async function main(): Promise<void> {

  const startupTimeoutMs = millis('OW_STARTUP_TIMEOUT_MS', 15_000, problems);
  const processRole = role(problems);
  const host = process.env.HOST || '0.0.0.0';
  const dataDir = path.resolve(process.env.OW_DATA_DIR || 'data');
  const configDir = process.env.OW_CONFIG_DIR ?? './config';
  let config: GatewayConfig | undefined;
  try {
    config = loadConfig(configDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(`${err.message}\n  (configuration folder: ${path.resolve(configDir)})`);
  }
  // Reported with the configuration's problems, so one run lists everything to fix.
  const tokens = tokensFromEnv(process.env);
  const missing = [tokens.intake.length === 0 && 'OW_INTAKE_TOKEN', tokens.ops.length === 0 && 'OW_OPS_TOKEN'].filter(Boolean);
  if (missing.length > 0) problems.push(`${missing.join(' and ')} must be set (bearer tokens of the intake platform and of ops staff)`);
  // An embedded redis-server is private to its process: api and worker processes would never meet.
  if (processRole !== 'all' && config && !config.gateway.redis.url) problems.push(`OW_ROLE=${processRole} needs REDIS_URL: api and worker processes must share one Redis`);
  if (config?.gateway.redis.url) {
    try {
      parseRedisUrl(config.gateway.redis.url);
    } catch (err) {
      if (!(err instanceof RedisUrlError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0 || !config) return lifecycle.exit(1, problems);

  let redisUrl = config.gateway.redis.url;
  if (!redisUrl) {
    const redisDir = path.join(dataDir, 'redis');
    try {
      const embedded = await launchEmbeddedRedis(redisDir, lifecycle.signal);
      lifecycle.add(embedded);
      redisUrl = embedded.url;
    } catch (err) {
      return lifecycle.exit(1, err instanceof RedisMissingError ? err.message : `could not start the embedded redis-server: ${(err as Error).message}`);
    }
    log.info({ redis: redisUrl, dataDir: redisDir }, 'embedded redis-server started (append-only on)');
  }

  try {
    // The shared backlog gauges may come from api (or all) processes, unless OW_METRICS_BACKLOG=0;
    // of those, one at a time exports them (a lease in Redis), so sums across processes are right.
    const backlogMetrics = process.env.OW_METRICS_BACKLOG !== '0' && processRole !== 'worker';
    // OW_LEDGER=off: no ledger at all (cases and the audit trail stay in Redis, capped); for measuring what it costs.
    const ledger = process.env.OW_LEDGER === 'off' ? undefined : { url: process.env.DATABASE_URL };
    const gateway = await startGateway({ config, redisUrl, role: processRole, tokens, log, host, shutdownGraceMs, startupTimeoutMs, dataDir, ledger, intakeHmacSecret: process.env.OW_INTAKE_HMAC_SECRET || undefined, backlogMetrics });
    lifecycle.add(gateway);
    log.info({ port: gateway.port, host, role: processRole, systems: config.systems.size, configDir: config.dir }, 'gateway listening');
  } catch (err) {
    return lifecycle.exit(1, (err as Error).message);
  }
}

main().catch((err: Error) => lifecycle.exit(1, err.message));
