/**
 * Wires one gateway instance together: Redis connections, case store, queues, workers and the
 * HTTP server. main.ts, the demo and the end-to-end tests all start the gateway through here.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Operations } from './admin/operations';
import { createApp } from './app';
import { LiveConfig } from './config/live';
import { CallbackDispatcher } from './callbacks/dispatcher';
import { ResultPoller } from './results/poller';
import { ResultReceiver } from './results/receiver';
import { trialRunAll, type GatewayConfig } from './config/loader';
import { CaseStore } from './cases/store';
import { Endpoints } from './delivery/endpoints';
import { CircuitBreakers } from './delivery/circuit';
import { DeliveryQueues } from './delivery/queues';
import { DeliveryWorkers } from './delivery/worker';
import type { Tokens } from './platform/auth';
import type { Logger } from './platform/logger';
import { createMetrics } from './platform/metrics';
import { createRedis } from './platform/redis';
import { openSealRoom, type Sealer } from './seal';
import { SharedDataService } from './shared-data/service';

export interface GatewayOptions {
  config: GatewayConfig;
  redisUrl: string;
  tokens: Tokens;
  log: Logger;
  /** Overrides gateway.yaml's server.port (tests pass 0). */
  port?: number;
  host?: string;
  /** Namespace for every Redis key, so several gateways (or test files) can share one Redis. */
  keyPrefix?: string;
  /** Run delivery workers in this process (default true). */
  workers?: boolean;
  /** For `${ENV}` references in system versions stored by ops (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** How often to pick up system versions stored by other processes (default 2 s). */
  configRefreshMs?: number;
  /** How long stop() waits for deliveries in flight (default 10 s). */
  shutdownGraceMs?: number;
  /** Callback timing (tests shorten the backoff). */
  callbacks?: { timeoutMs?: number; retryDelayMs?: number };
  now?: () => Date;
  /** Where generated seal keys live, under seal/ (default $OW_DATA_DIR, else ./data). */
  dataDir?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  store: CaseStore;
  queues: DeliveryQueues;
  seals: Sealer;
  /** Stops intake, lets in-flight deliveries finish, closes connections. */
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, log } = options;
  // Every expression once on sample input, under the budget, before any case can meet it.
  await trialRunAll(config);
  const prefix = options.keyPrefix ?? 'ow';
  // Before any connection is opened: a missing or bad keys folder is a clean start-up error.
  const seals = openSealRoom({ config: config.gateway.seal, configDir: config.dir, dataDir: options.dataDir, log, now: options.now });
  const intakeRedis = createRedis(options.redisUrl, 'intake');
  const workerRedis = createRedis(options.redisUrl, 'worker');
  // The intake connection fails fast, so wait for it once here rather than 503 the first requests.
  await new Promise<void>((resolve, reject) => {
    if (intakeRedis.status === 'ready') return resolve();
    const timer = setTimeout(() => reject(new Error(`Redis at ${options.redisUrl} is not reachable`)), 15_000);
    intakeRedis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  intakeRedis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis (intake) connection error'));
  workerRedis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis (worker) connection error'));

  const metrics = createMetrics();
  const live = new LiveConfig(config, { redis: workerRedis, prefix, env: options.env ?? process.env, log, refreshMs: options.configRefreshMs });
  await live.refresh(); // versions ops stored before this process started
  const current = () => live.get();
  const bullPrefix = `${prefix}:bull`;
  const storeOptions = { prefix, events: Boolean(config.gateway.intake.callbackUrl) };
  // Intake answers fast or 503; background work waits out a Redis outage and carries on.
  const store = new CaseStore(intakeRedis, storeOptions);
  const workerStore = new CaseStore(workerRedis, storeOptions);
  const queues = new DeliveryQueues(intakeRedis, bullPrefix);
  const workerQueues = new DeliveryQueues(workerRedis, bullPrefix);
  const circuits = new CircuitBreakers(workerRedis, prefix);
  const endpoints = new Endpoints(config);
  for (const system of current().systems.values()) endpoints.get(system);

  const callbacks = new CallbackDispatcher({ config: current, store: workerStore, redis: workerRedis, connection: workerRedis, prefix: bullPrefix, log, ...options.callbacks });
  const notify = (caseId: string) => void callbacks.notify(caseId).catch((err: Error) => log.error({ caseId, err: err.message }, 'could not queue a callback; the start-up sweep will'));
  const results = new ResultReceiver({ config: current, store, log, onRecorded: notify, now: options.now });
  const workerResults = new ResultReceiver({ config: current, store: workerStore, log, onRecorded: notify, now: options.now });
  const poller = new ResultPoller({ config: current, store: workerStore, endpoints, results: workerResults, connection: workerRedis, prefix: bullPrefix, log, onEvent: notify });

  const background = options.workers !== false;
  const workers = background
    ? new DeliveryWorkers({
        config: current,
        store: workerStore,
        endpoints,
        connection: workerRedis,
        prefix: bullPrefix,
        log,
        metrics,
        queues: workerQueues,
        circuits,
        now: options.now,
        hooks: {
          acknowledged: (system, caseId, receiptNo) => poller.schedule(system, caseId, receiptNo),
          recorded: (caseId, systemId, status, receiptNo) => {
            notify(caseId);
            if (status === 'delivered') void workerResults.rematch({ systemId, caseId, receiptNo }).catch((err: Error) => log.warn({ caseId, systemId, err: err.message }, 're-matching parked results failed'));
          },
        },
      })
    : undefined;
  live.onChange((system) => {
    endpoints.get(system);
    void workers?.reconfigure(system).catch((err: Error) => log.error({ systemId: system.id, err: err.message }, 'could not apply the new configuration to the worker'));
  });
  live.start();
  if (background) {
    workers?.start();
    poller.start();
    callbacks.start();
  }

  let accepting = true;
  const operations = new Operations({ config: current, live, store, queues, circuits, redis: intakeRedis, prefix, now: options.now });
  // Look-ups are synchronous, like intake: they use the intake connection, which fails fast.
  const sharedData = new SharedDataService({ config: current, redis: intakeRedis, prefix, circuits: new CircuitBreakers(intakeRedis, prefix), sealer: seals, operations, log });
  const app = createApp({ config: current, store, queues, results, operations, redis: intakeRedis, tokens: options.tokens, log, metrics, accepting: () => accepting, now: options.now, seals, sharedData });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(options.port ?? config.gateway.server.port, options.host ?? '0.0.0.0', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    store,
    queues,
    seals,
    async stop() {
      accepting = false;
      live.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await workers?.close(options.shutdownGraceMs);
      await poller.close();
      await callbacks.close();
      await queues.close();
      await workerQueues.close();
      await endpoints.close();
      await sharedData.close();
      intakeRedis.disconnect();
      workerRedis.disconnect();
    },
  };
}
