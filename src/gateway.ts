/**
 * Wires one gateway instance together: Redis connections, case store, queues, workers and the
 * HTTP server. main.ts, the demo and the end-to-end tests all start the gateway through here.
 */
import http from 'node:http';
import os from 'node:os';
import { Operations } from './admin/operations';
import { createApp } from './app';
import { LiveConfig } from './config/live';
import { CallbackDispatcher } from './callbacks/dispatcher';
import { ResultPoller } from './results/poller';
import { ResultReceiver } from './results/receiver';
import { trialRunAll, type GatewayConfig } from './config/loader';
import { CaseChanges } from './cases/changes';
import { CaseStore } from './cases/store';
import { Endpoints } from './delivery/endpoints';
import { CircuitBreakers } from './delivery/circuit';
import { SystemHealth } from './delivery/health';
import { SystemProbes } from './delivery/probe';
import { DeliveryQueues, untaggedQueuesWithJobs } from './delivery/queues';
import { DeliveryWorkers } from './delivery/worker';
import type { Tokens } from './platform/auth';
import type { Logger } from './platform/logger';
import { createMetrics, registerBacklogGauges, type Metrics } from './platform/metrics';
import { bullTelemetry } from './platform/tracing';
import { BacklogReader } from './delivery/backlog';
import { listen } from './platform/listen';
import { answerUnparsable } from './platform/http-observe';
import { redactUrl } from './platform/privacy';
import { createRedis } from './platform/redis';
import { openSealRoom, VerifyThread, type Sealer, type Verification } from './seal';
import { ArchivedIds, filteredArchive } from './ledger/archived-ids';
import { openLedger, type Ledger } from './ledger/ledger';
import { LedgerSweep } from './ledger/sweep';
import { durationMs } from './ledger/config';
import { LookupDocuments } from './materials/lookup-documents';
import { MaterialCache } from './materials/cache';
import { MaterialDeliveries } from './materials/handover';
import { SharedDataService, type SharedDataAnswer } from './shared-data/service';
import { ApiError } from './platform/errors';
import { missingCalendarYears } from './timelimits/config';
import { TimeLimitMonitor } from './timelimits/monitor';

/** The roles a gateway process can take (OW_ROLE); the deployment manifests use these names. */
export const GATEWAY_ROLES = ['api', 'worker', 'all'] as const;
export type GatewayRole = (typeof GATEWAY_ROLES)[number];

export interface GatewayOptions {
  config: GatewayConfig;
  redisUrl: string;
  tokens: Tokens;
  /** `OW_INTAKE_HMAC_SECRET`: intake requests must then be HMAC-signed as well. */
  intakeHmacSecret?: string;
  log: Logger;
  /** Overrides gateway.yaml's server.port (tests pass 0). */
  port?: number;
  host?: string;
  /** Namespace for every Redis key, so several gateways (or test files) can share one Redis. */
  keyPrefix?: string;
  /**
   * What this process does (OW_ROLE, default `all`): `api` serves intake, results, admin and the
   * console and sends nothing; `worker` runs deliveries, polls, callbacks and the ledger sweep, and
   * its HTTP port answers only the probes and metrics. Any number of each share one Redis.
   */
  role?: GatewayRole;
  /** For `${ENV}` references in system versions stored by ops (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** How often to pick up system versions stored by other processes (default 2 s). */
  configRefreshMs?: number;
  /**
   * Run before a reload of the configuration folder reads it (main.ts: OW_ENV_FILE read again, so a
   * variable a new system file names can be added there without a restart); a problem refuses the reload.
   */
  beforeReload?: () => string | undefined;
  /** How long stop() waits for deliveries in flight (default 10 s). */
  shutdownGraceMs?: number;
  /** How long start-up waits for Redis to answer before giving up (default 15 s). */
  startupTimeoutMs?: number;
  /** Callback timing (tests shorten the backoff). */
  callbacks?: { timeoutMs?: number; retryDelayMs?: number };
  now?: () => Date;
  /** Where generated seal keys live, under seal/ (default $OW_DATA_DIR, else ./data); the embedded ledger under ledger/. */
  dataDir?: string;
  /** The case ledger: PostgreSQL at `url` (DATABASE_URL), else embedded PGlite. Unset: no ledger, cases stay in Redis. */
  ledger?: { url?: string };
  /**
   * Export the backlog gauges (queues, circuits, paused, windows, dead letters, unmatched, callback
   * backlog), read from Redis at scrape time. They are the same in every process sharing a Redis, so
   * of the processes that may (default true; main.ts: OW_METRICS_BACKLOG), one at a time does: a
   * lease in Redis, renewed by its scrapes, taken over by another when it lapses.
   */
  backlogMetrics?: boolean;
  /** How long a read of the backlog gauges is reused (default 5 s). */
  backlogCacheMs?: number;
  /** How long the backlog exporter's lease lasts unrenewed (default 15 s). */
  backlogLeaseMs?: number;
  /** How often a worker process looks for a system health probe that is due (default 1 s). */
  probeTickMs?: number;
  /** How often the time-limit monitor looks for cases due soon or overdue (default 60 s; a job scheduler in Redis; 0: only when called). */
  timeLimitTickMs?: number;
}

export interface RunningGateway {
  url: string;
  port: number;
  server: http.Server;
  store: CaseStore;
  queues: DeliveryQueues;
  seals: Sealer;
  ledger?: Ledger;
  /** The ledger sweep, when this process runs workers. */
  sweep?: LedgerSweep;
  /** This instance's Prometheus registry and metrics. */
  metrics: Metrics;
  /** The callback dispatcher (its worker runs where `role` is not api; /readyz fails while it does not). */
  callbacks: CallbackDispatcher;
  /** The time-limit monitor (its scheduled checks run where `role` is not api). */
  timeLimits: TimeLimitMonitor;
  /** Stops intake, lets in-flight deliveries finish, closes connections; `step` is told what it is doing. */
  stop(step?: (doing: string) => void): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, log } = options;
  // Every expression once on sample input, under the budget, before any case can meet it.
  await trialRunAll(config);
  const prefix = options.keyPrefix ?? 'ow';
  for (const year of missingCalendarYears(config.timeLimits, options.now?.() ?? new Date())) {
    log.warn({ year, file: `calendar/${year}.yaml` }, `no calendar for ${year}: its time limits are counted with weekends only, without holidays or 调休 working days, until config/calendar/${year}.yaml is added`);
  }
  // Before any connection is opened: a missing or bad keys folder is a clean start-up error.
  const seals = openSealRoom({ config: config.gateway.seal, configDir: config.dir, dataDir: options.dataDir, log, now: options.now });
  // Also before Redis: a ledger in use by another process, or of a newer schema, refuses cleanly.
  const ledger = options.ledger ? await openLedger({ url: options.ledger.url, dataDir: options.dataDir, log }) : undefined;
  let lastError: Error | undefined;
  const onError = (role: string) => (err: Error) => {
    lastError = err;
    log.debug({ err: err.message }, `redis (${role}) connection error`);
  };
  const intakeRedis = createRedis(options.redisUrl, 'intake', onError('intake'));
  const workerRedis = createRedis(options.redisUrl, 'worker', onError('worker'));
  // BullMQ on clients of its own: it defines its scripts (some sixty) as commands of the client it is
  // given, and ioredis copies every defined command into each pipeline it makes, every auto-pipelined
  // batch of the gateway's own commands included.
  const intakeQueueRedis = createRedis(options.redisUrl, 'intake', onError('intake'));
  const workerQueueRedis = createRedis(options.redisUrl, 'worker', onError('worker'));
  const connections = [intakeRedis, workerRedis, intakeQueueRedis, workerQueueRedis];
  // The intake connection fails fast, so wait for it once here rather than 503 the first requests.
  const waitMs = options.startupTimeoutMs ?? 15_000;
  const reachable = await new Promise<boolean>((resolve) => {
    if (intakeRedis.status === 'ready') return resolve(true);
    const timer = setTimeout(() => resolve(false), waitMs);
    intakeRedis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!reachable) {
    for (const client of connections) client.disconnect();
    await ledger?.close();
    const reason = (lastError as NodeJS.ErrnoException | undefined)?.code ?? lastError?.message.split('\n')[0] ?? `no answer within ${waitMs / 1000} s`;
    throw new RedisUnreachableError(`Redis at ${redactUrl(options.redisUrl)} is not reachable (${reason})`);
  }

  const metrics = createMetrics();
  const sealVerifier = new VerifyThread(seals);
  countSeals(seals, sealVerifier, metrics);
  // bullmq-otel only when a tracer provider is registered (OTEL_* variables, or a test's).
  const telemetry = bullTelemetry();
  const live = new LiveConfig(config, { redis: workerRedis, prefix, env: options.env ?? process.env, log, refreshMs: options.configRefreshMs, beforeReload: options.beforeReload });
  await live.refresh(); // versions ops stored before this process started
  // The rule (docs/configuration.md, "Changing a running configuration"): a stored version wins over the file until reset.
  const differing = await live.differingFromFiles();
  const edited = differing.filter((d) => !d.removed);
  const removed = differing.filter((d) => d.removed);
  if (edited.length) {
    log.warn(
      { systems: edited.map((d) => d.systemId), versions: edited },
      `stored configuration differs from the file for ${edited.map((d) => d.systemId).join(', ')}: the stored version is used until POST /api/v1/admin/systems/:id/reset`,
    );
  }
  if (removed.length) {
    log.warn(
      { systems: removed.map((d) => d.systemId), versions: removed },
      `systems removed through the admin API still have a file here, which is not used: ${removed.map((d) => d.systemId).join(', ')} (a reload of the configuration adds them again; remove the files)`,
    );
  }
  const current = () => live.get();
  const bullPrefix = `${prefix}:bull`;
  const changes = new CaseChanges();
  const storeOptions = { prefix, events: Boolean(config.gateway.intake.callbackUrl), changes, finishIndex: ledger !== undefined };
  // Intake answers fast or 503; background work waits out a Redis outage and carries on.
  const store = new CaseStore(intakeRedis, storeOptions);
  const workerStore = new CaseStore(workerRedis, storeOptions);
  const queues = new DeliveryQueues(intakeQueueRedis, bullPrefix, telemetry);
  const workerQueues = new DeliveryQueues(workerQueueRedis, bullPrefix, telemetry);
  const circuits = new CircuitBreakers(workerRedis, prefix);
  const health = new SystemHealth(workerRedis, prefix);
  const endpoints = new Endpoints(config);
  for (const system of current().systems.values()) endpoints.get(system);

  const callbacks = new CallbackDispatcher({ config: current, store: workerStore, redis: workerRedis, connection: workerQueueRedis, prefix: bullPrefix, log, metrics, telemetry, ...options.callbacks });
  const notify = (caseId: string, requestId?: string) => void callbacks.notify(caseId, requestId).catch((err: Error) => log.error({ caseId, err: err.message }, 'could not queue a callback; the start-up sweep will'));
  const results = new ResultReceiver({ config: current, store, log, now: options.now, metrics });
  const workerResults = new ResultReceiver({ config: current, store: workerStore, log, now: options.now, metrics });
  // The one place that hears of a change: the intake platform is told, and a result that came
  // before its delivery was acknowledged finds its case now.
  changes.on(({ caseId, systemId, status, receiptNo, requestId }) => {
    notify(caseId, requestId);
    if (status === 'delivered') void workerResults.rematch({ systemId, caseId, receiptNo }).catch((err: Error) => log.warn({ caseId, systemId, err: err.message }, 're-matching parked results failed'));
  });
  // Results parked by an older gateway in one unbounded hash move to their systems' capped sets.
  void workerStore.unmatched
    .adoptLegacy()
    .then((n) => n && log.info({ adopted: n }, 'unmatched results of an earlier version moved to their systems'))
    .catch((err: Error) => log.warn({ err: err.message }, 'could not move the unmatched results of an earlier version; retried at next start'));
  // Queues of the layout before hash tags are not read any more: say so loudly if they hold jobs.
  void untaggedQueuesWithJobs(workerRedis, bullPrefix, [...[...current().systems.keys()].map((id) => `delivery-${id}`), 'callbacks', 'result-poll'])
    .then((left) => left.length && log.error({ queues: left }, `queues of an earlier gateway version still hold jobs this version does not read: ${left.map((q) => `${q.queue} (${q.jobs})`).join(', ')}; see docs/operations.md, "Redis Sentinel and Cluster"`))
    .catch((err: Error) => log.warn({ err: err.message }, 'could not look for queues of an earlier version'));
  const poller = new ResultPoller({ config: current, store: workerStore, endpoints, results: workerResults, connection: workerQueueRedis, prefix: bullPrefix, log, telemetry });

  const operations = new Operations({ config: current, live, store, queues, circuits, health, endpoints, sealer: seals, log, redis: intakeRedis, prefix, now: options.now, ledger });
  const lookupDocuments = new LookupDocuments(intakeRedis, prefix, () => durationMs(current().gateway.retention.hot));
  // Materials are fetched into this host's data folder, once per case; the record of what was fetched is the case's, in Redis.
  const materialCache = new MaterialCache({
    dataDir: options.dataDir ?? process.env.OW_DATA_DIR ?? './data',
    redis: workerRedis,
    config: current,
    lookupDocuments,
    recordKey: (caseId) => workerStore.materialsKey(caseId),
    log,
    onFetch: (storeId, outcome, bytes) => {
      metrics.materialFetches.inc({ storeId, outcome });
      if (bytes > 0) metrics.materialFetchedBytes.inc({ storeId }, bytes);
    },
  });
  const materials = new MaterialDeliveries({ cache: materialCache, audit: (entry) => operations.audit(entry) });

  const role = options.role ?? 'all';
  // Only a process that may send runs the things that send: deliveries, polls, callbacks, the sweep.
  const background = role !== 'api';
  const workers = background
    ? new DeliveryWorkers({
        config: current,
        store: workerStore,
        endpoints,
        connection: workerQueueRedis,
        prefix: bullPrefix,
        log,
        metrics,
        queues: workerQueues,
        circuits,
        health,
        sealer: seals,
        materials,
        now: options.now,
        telemetry,
        hooks: { acknowledged: (system, caseId, receiptNo, requestId) => poller.schedule(system, caseId, receiptNo, requestId) },
      })
    : undefined;
  // A version applied (a system added included) and a system removed reach the workers here.
  live.onChange((system) => {
    endpoints.get(system);
    void workers?.reconfigure(system).catch((err: Error) => log.error({ systemId: system.id, err: err.message }, 'could not apply the new configuration to the worker'));
  });
  live.onRemove((systemId) => {
    void workers?.stopFor(systemId).catch((err: Error) => log.error({ systemId, err: err.message }, 'could not stop the worker of a removed system'));
  });
  live.start();
  const sweep = ledger && background ? new LedgerSweep({ ledger, store: workerStore, redis: workerRedis, queues: workerQueues, config: current, connection: workerQueueRedis, prefix: bullPrefix, keyPrefix: prefix, log, registry: metrics.registry, now: options.now, materials: materialCache }) : undefined;
  // Health probes spend no delivery attempt: they are apart from the queues, in the processes that send.
  const timeLimits = new TimeLimitMonitor({
    config: current,
    store: workerStore,
    redis: workerRedis,
    connection: workerQueueRedis,
    bullPrefix,
    prefix,
    log,
    now: options.now,
    tickMs: options.timeLimitTickMs,
    events: Boolean(config.gateway.intake.callbackUrl),
    notify,
  });
  const probes = background ? new SystemProbes({ config: current, redis: workerRedis, prefix, log, now: options.now, tickMs: options.probeTickMs }) : undefined;
  if (background) {
    workers?.start();
    poller.start();
    callbacks.start();
    await sweep?.start();
    probes?.start();
    await timeLimits.start();
  }

  let accepting = true;
  // A rotation is audited by every process that sees it (the CLI rotates offline, without Redis).
  seals.keys.onActiveKey(({ keyId, alg }) =>
    void operations
      .audit({ who: `gateway ${os.hostname()}:${process.pid}`, action: 'seal.rotate', target: keyId, detail: `${alg} key ${keyId} now signs; earlier keys are retired and still verify` })
      .catch((err: Error) => log.warn({ err: err.message }, 'could not audit a seal rotation')),
  );
  // Look-ups are synchronous, like intake: they use the intake connection, which fails fast.
  // Read on the intake connection (fails fast), by look-ups and the backlog gauges alike.
  const intakeCircuits = new CircuitBreakers(intakeRedis, prefix);
  const archivedIds = new ArchivedIds(intakeRedis, prefix);
  const archive = ledger && filteredArchive(ledger, archivedIds);
  // A look-up's case: in Redis, else archived (the filter spares the ledger a question about an invented id).
  const caseItem = async (caseId: string): Promise<string | undefined> =>
    (await store.getCase(caseId))?.case.itemCode ?? (archive && (await archivedIds.mightHold(caseId)) ? (await archive.readCase(caseId))?.itemCode : undefined);
  const sharedData = new SharedDataService({ config: current, redis: intakeRedis, prefix, circuits: intakeCircuits, sealer: seals, operations, log, ledger, caseItem, documents: lookupDocuments });
  countLookups(sharedData, metrics);
  // Read on the intake connection, which fails fast: a scrape during an outage answers, with ow_backlog_up 0.
  const backlog = options.backlogMetrics !== false ? new BacklogReader({ config: current, queues, circuits: intakeCircuits, redis: intakeRedis, connection: intakeQueueRedis, bullPrefix, prefix, now: options.now, exporterLeaseMs: options.backlogLeaseMs, clockCounts: () => store.clockCounts() }) : undefined;
  if (backlog) registerBacklogGauges(metrics.registry, () => backlog.read(), { cacheMs: options.backlogCacheMs });
  const workersRunning = background
    ? () => {
        const delivery = workers?.running() ?? { running: true, stopped: [] };
        const stopped = [...delivery.stopped, ...(poller.running() ? [] : ['result-poll']), ...(callbacks.running() ? [] : ['callbacks']), ...(timeLimits.running() ? [] : ['time-limits'])];
        return { running: stopped.length === 0, stopped };
      }
    : undefined;
  const app = createApp({ config: current, store, queues, results, operations, redis: intakeRedis, prefix, tokens: options.tokens, intakeHmacSecret: options.intakeHmacSecret, log, metrics, accepting: () => accepting, now: options.now, seals, sealVerifier, ledger, archive, sharedData, lookupDocuments, workers: workersRunning, probesOnly: role === 'worker' });
  const host = options.host ?? '0.0.0.0';
  const server = http.createServer(app);
  // A kept-alive connection is closed by the client or the proxy in front, never by us first: closing
  // one idle at 5 s (Node's default) races a request sent on it at that moment, which then fails with
  // ECONNRESET (clients and ingresses keep idle connections for up to about a minute). The header
  // deadline stays just above it, as Node requires.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  answerUnparsable(server);

  const stop = async (step: (doing: string) => void = () => undefined): Promise<void> => {
    accepting = false;
    live.stop();
    step('closing the HTTP server (answers in progress finish)');
    // Node closes only the connections idle at close(): one busy then (a probe, a caller's next
    // request on a kept-alive connection) would hold the shutdown for keepAliveTimeout once its
    // answer is out. So the idle ones are closed again until none is left.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    await new Promise<void>((resolve) => {
      server.close(() => resolve()); // also called back (with an error) when it never listened
      server.closeIdleConnections();
    });
    clearInterval(idle);
    step('waiting for deliveries in flight');
    await workers?.close(options.shutdownGraceMs);
    step('closing the background work on Redis');
    // These need Redis; when it has gone first (a signal to the whole process group) they would
    // wait for it for ever, so they get a bounded time and the connections are cut after it.
    const closing = (async () => {
      await probes?.stop();
      await poller.close();
      await callbacks.close();
      await timeLimits.close();
      await sweep?.close();
      await backlog?.close();
      await queues.close();
      await workerQueues.close();
    })();
    if (!(await within(CLOSE_MS, closing))) log.warn({ redis: intakeRedis.status }, `Redis did not answer within ${CLOSE_MS / 1000} s of shutdown; connections cut`);
    step('closing connections to legacy systems');
    await endpoints.close();
    await materialCache.close();
    await sharedData.close();
    await sealVerifier.close();
    for (const client of connections) client.disconnect();
    step('closing the case ledger');
    await ledger?.close();
  };

  let port: number;
  try {
    port = await listen(server, options.port ?? config.gateway.server.port, host, { port: 'PORT', host: 'HOST' });
  } catch (err) {
    await stop();
    throw err;
  }
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    port,
    server,
    store,
    queues,
    seals,
    ledger,
    sweep,
    metrics,
    callbacks,
    timeLimits,
    stop,
  };
}

/** Counts seal operations by algorithm and outcome, around the sealer and verifier the gateway serves. */
function countSeals(seals: Sealer, verifier: VerifyThread, metrics: Metrics): void {
  const seal = seals.seal.bind(seals);
  const verify = seals.verify.bind(seals);
  const verifyBody = verifier.verify.bind(verifier);
  const counted = (checked: Verification) => metrics.seals.inc({ operation: 'verify', alg: checked.alg, outcome: checked.valid ? 'ok' : 'invalid' });
  const failed = (operation: 'sign' | 'verify') => metrics.seals.inc({ operation, alg: 'unknown', outcome: 'error' });
  seals.seal = (request) => {
    try {
      const made = seal(request);
      metrics.seals.inc({ operation: 'sign', alg: made.alg, outcome: 'ok' });
      return made;
    } catch (err) {
      failed('sign');
      throw err;
    }
  };
  seals.verify = (request) => {
    try {
      const checked = verify(request);
      counted(checked);
      return checked;
    } catch (err) {
      failed('verify');
      throw err;
    }
  };
  // A refused body (400) is no verification: only what was verified is counted.
  verifier.verify = async (body) => {
    try {
      const outcome = await verifyBody(body);
      if ('verification' in outcome) counted(outcome.verification);
      return outcome;
    } catch (err) {
      failed('verify');
      throw err;
    }
  };
}

/**
 * Counts shared-data queries and what each source said of each kind, around the
 * service the routes call, as countSeals does for seals. Label values are system ids and kinds of
 * the configuration (unknown kinds are refused before any counting) and fixed status lists.
 */
function countLookups(sharedData: SharedDataService, metrics: Metrics): void {
  const query = sharedData.query.bind(sharedData);
  sharedData.query = async (...args) => {
    let answer: SharedDataAnswer;
    try {
      answer = await query(...args);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : undefined;
      const refused = code === 'purpose_not_allowed' || code === 'unknown_case' || code === 'purpose_mismatch';
      metrics.sharedDataQueries.inc({ outcome: refused ? 'refused' : code === 'invalid_request' ? 'invalid' : 'failed' });
      throw err;
    }
    metrics.sharedDataQueries.inc({ outcome: 'answered' });
    for (const d of answer.documents) {
      if (d.cached) {
        metrics.sharedDataLookups.inc({ systemId: d.source, kind: d.kind, status: 'cached' });
        continue;
      }
      for (const s of d.sources) {
        metrics.sharedDataLookups.inc({ systemId: s.source, kind: d.kind, status: s.status });
        metrics.sharedDataLookupDuration.observe({ systemId: s.source, status: s.status }, s.ms / 1000);
      }
    }
    return answer;
  };
}

/** Thrown by startGateway when Redis does not answer within the start-up deadline. */
export class RedisUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnreachableError';
  }
}

const CLOSE_MS = 3000;

/** Whether `work` settled within `ms` (its failure counts as settled: it is logged by its owner). */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = work.then(
    () => true as const,
    () => true as const,
  );
  const settled = await Promise.race([done, late]);
  clearTimeout(timer);
  return settled;
}
