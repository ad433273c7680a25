/**
 * `npm start`: load the configuration, connect to (or launch) Redis, serve HTTP and run the
 * delivery workers until SIGTERM/SIGINT. Every start-up problem is a clear message, never a stack;
 * every way out stops what has been started (the embedded redis-server included), within a deadline.
 */
import path from 'node:path';
import { startGateway } from './gateway';
import { applyEnvFile } from './platform/env-file';
import { Lifecycle } from './platform/lifecycle';
import { createLogger } from './platform/logger';
import { launchEmbeddedRedis, RedisMissingError } from './platform/redis';
import { startTracing, stopTracing } from './platform/tracing';
import { gatewayVersion } from './platform/version';
import { readStartup, type StartupSettings } from './startup';

const USAGE = `usage: npm start   (node dist/src/main.js)
Starts the gateway: configuration from OW_CONFIG_DIR (default ./config), settings and secrets from the
environment, or from the file OW_ENV_FILE names (variables already set win). Listens on HOST:PORT
(default 0.0.0.0 and gateway.yaml's port) until SIGTERM or Ctrl-C.
  --help      this text
  --version   the gateway's version
To check a configuration without starting anything: npm run -s ow -- check-config [dir]`;

// Asking for help never starts a gateway listening on every interface.
const flag = process.argv[2];
if (flag === '--help' || flag === '-h' || flag === '--version') {
  process.stdout.write(`${flag === '--version' ? gatewayVersion() : USAGE}\n`);
  process.exit(0);
}
if (flag !== undefined) {
  process.stderr.write(`onewindow-gateway: unknown argument "${flag}"\n${USAGE}\n`);
  process.exit(2);
}

// Before anything else reads the environment.
const envFileProblem = applyEnvFile(process.env);
let settings: StartupSettings;
try {
  settings = readStartup(process.env);
} catch (err) {
  process.stderr.write(`onewindow-gateway: ${(err as Error).message}\n`);
  process.exit(1);
}
const problems = envFileProblem ? [envFileProblem, ...settings.problems] : settings.problems;
const { shutdownGraceMs } = settings;
// Deliveries in flight get the grace; Redis, connections and the redis-server child a few seconds more.
const lifecycle = new Lifecycle('onewindow-gateway', shutdownGraceMs + 5000);
const log = createLogger();
// Before any queue or server exists, so that every span has its provider; off unless OTEL_* ask.
if (startTracing()) lifecycle.add({ stop: stopTracing }, 'tracing');
// First of all: a signal at any moment of start-up stops what has been started so far.
lifecycle.exitOnSignals((signal) => log.info({ signal }, 'shutting down: intake closed, finishing in-flight deliveries'));

async function main(): Promise<void> {
  const { config, role: processRole, host, dataDir, startupTimeoutMs, tokens } = settings;
  if (problems.length > 0 || !config) return lifecycle.exit(1, problems);

  let redisUrl = config.gateway.redis.url;
  if (!redisUrl) {
    const redisDir = path.join(dataDir, 'redis');
    try {
      const embedded = await launchEmbeddedRedis(redisDir, lifecycle.signal);
      lifecycle.add(embedded, 'the embedded redis-server');
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
    const gateway = await startGateway({ config, redisUrl, role: processRole, tokens, log, host, shutdownGraceMs, startupTimeoutMs, dataDir, ledger, intakeHmacSecret: process.env.OW_INTAKE_HMAC_SECRET || undefined, backlogMetrics, beforeReload: () => applyEnvFile(process.env) });
    lifecycle.add(gateway, 'the gateway');
    log.info({ port: gateway.port, host, role: processRole, systems: config.systems.size, configDir: config.dir }, 'gateway listening');
  } catch (err) {
    return lifecycle.exit(1, (err as Error).message);
  }
}

main().catch((err: Error) => lifecycle.exit(1, err.message));
