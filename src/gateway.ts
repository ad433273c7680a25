/**
 * Wires one gateway instance together: Redis connections, case store, queues, workers and the
 * HTTP server. main.ts, the demo and the end-to-end tests all start the gateway through here.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ResultReceiver } from './results/receiver';
import type { GatewayConfig } from './config/loader';
import { CaseStore } from './cases/store';
import { Endpoints } from './delivery/endpoints';
import { DeliveryQueues } from './delivery/queues';
import { DeliveryWorkers } from './delivery/worker';
import type { Tokens } from './platform/auth';
import type { Logger } from './platform/logger';
import { createMetrics } from './platform/metrics';
import { createRedis } from './platform/redis';

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
  now?: () => Date;
}

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  store: CaseStore;
  queues: DeliveryQueues;
  /** Stops intake, lets in-flight deliveries finish, closes connections. */
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, log } = options;
  const prefix = options.keyPrefix ?? 'ow';
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
  const storeOptions = { prefix, events: Boolean(config.gateway.intake.callbackUrl) };
  const current = () => config;
  const queues = new DeliveryQueues(intakeRedis, `${prefix}:bull`);
  const endpoints = new Endpoints(config.dir);
  for (const system of config.systems.values()) endpoints.get(system);

  const workers =
    options.workers === false
      ? undefined
      : new DeliveryWorkers({
          config: current,
          store: new CaseStore(workerRedis, storeOptions),
          endpoints,
          connection: workerRedis,
          prefix: `${prefix}:bull`,
          log,
          metrics,
          now: options.now,
        });
  workers?.start();

  let accepting = true;
  const store = new CaseStore(intakeRedis, storeOptions);
  const results = new ResultReceiver({ config: current, store, log, now: options.now });
  const app = createApp({ config: current, store, queues, results, redis: intakeRedis, tokens: options.tokens, log, metrics, accepting: () => accepting, now: options.now });
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
    async stop() {
      accepting = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await workers?.close();
      await queues.close();
      await endpoints.close();
      intakeRedis.disconnect();
      workerRedis.disconnect();
    },
  };
}
