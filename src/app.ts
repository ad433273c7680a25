/**
 * Builds the gateway's express app without listening, so tests run it on port 0 with real HTTP.
 */
import express, { type ErrorRequestHandler, type Request } from 'express';
import type { z } from 'zod';
import type { GatewayConfig } from './config/loader';
import type { CaseStore } from './cases/store';
import { adminRoutes, operatorOf } from './admin/routes';
import { consoleRoutes } from './admin/console';
import type { Operations } from './admin/operations';
import { caseRoutes, type CaseRoutesDeps } from './cases/routes';
import type { ResultReceiver } from './results/receiver';
import { resultRoutes } from './results/routes';
import { noncesInRedis, soapResultRoutes } from './results/soap-endpoint';
import { xmlResultRoutes } from './results/xml-endpoint';
import type { DeliveryQueues } from './delivery/queues';
import { access } from './platform/access';
import { Callers, type Tokens } from './platform/auth';
import { ApiError, requestError } from './platform/errors';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import { observeHttp, requestLog } from './platform/http-observe';
import { isRedisUnavailable, type RedisClient } from './platform/redis';
import { sealRoutes, type Sealer, type VerifyThread } from './seal';
import type { Ledger } from './ledger/ledger';
import { ledgerRoutes } from './ledger/routes';
import { reportRoutes } from './timelimits/routes';
import { Quarantine } from './ledger/quarantine';
import type { SharedDataService } from './shared-data/service';
import type { LookupDocuments } from './materials/lookup-documents';
import { sharedDataRoutes } from './shared-data/routes';
import { answer, NONE } from './api-docs';
import { healthSchema, readinessSchema, type AuditEntry } from './api-schemas';
import { mount, route } from './platform/route';
import { maskPath } from './platform/privacy';

export interface AppDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  results: ResultReceiver;
  operations: Operations;
  redis: RedisClient;
  /** Namespace of the gateway's Redis keys (rate limits, nonces). */
  prefix: string;
  tokens: Tokens;
  /** `OW_INTAKE_HMAC_SECRET`: intake requests must then be signed too. */
  intakeHmacSecret?: string;
  log: Logger;
  metrics: Metrics;
  /** False while the gateway shuts down: intake then answers 503 and readiness fails. */
  accepting?: () => boolean;
  now?: () => Date;
  /** The seal room: its keys and verifier are public. */
  seals?: Sealer;
  /** Where the public verify endpoint's bodies are verified, off the event loop (with `seals`). */
  sealVerifier?: VerifyThread;
  /** The case ledger: archived cases, stats; its state is reported by /readyz. */
  ledger?: Ledger;
  /** What the case routes ask of archived cases: the ledger behind the archived-ids filter. */
  archive?: CaseRoutesDeps['archive'];
  /** Shared-data look-ups. */
  sharedData?: SharedDataService;
  /** Found look-up documents a case's lookup:// materials name. */
  lookupDocuments?: LookupDocuments;
  /** This process's background workers, when it runs any: /readyz fails while one is not running. */
  workers?: () => { running: boolean; stopped: string[] };
  /** A worker process (OW_ROLE=worker): only /healthz, /readyz and /metrics; everything else 404. */
  probesOnly?: boolean;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Only named proxies are believed about who called (req.ip); a list read once, at start.
  const proxies = deps.config().gateway.server.trustProxy;
  if (proxies.length > 0) app.set('trust proxy', proxies);
  const accepting = deps.accepting ?? (() => true);
  const bodyLimit = deps.config().gateway.server.bodyLimit;

  // First of all: the request id, the server span and the request line cover every answer below.
  app.use(observeHttp({ log: deps.log, metrics: deps.metrics }));

  route(
    app,
    { method: 'get', path: '/healthz', operationId: 'healthz', tags: ['probes'], summary: 'Liveness', security: NONE, responses: { '200': answer('The process is up.', healthSchema) } },
    (_req, res) => {
    res.json({ status: 'ok' });
  });
  route(
    app,
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readyz',
      tags: ['probes'],
      summary: 'Readiness: Redis reachable, configuration loaded, accepting cases',
      security: NONE,
      responses: { '200': answer('Ready.', readinessSchema), '503': answer('Not ready (Redis unreachable or shutting down).', readinessSchema) },
    },
    async (_req, res) => {
    // The intake connection fails fast; a ping that hangs anyway is an answer too.
    const redis = await Promise.race([
      deps.redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), READY_PING_MS).unref()),
    ]);
    const config = deps.config().systems.size > 0;
    const workers = deps.workers?.();
    const reasons = [
      !redis && 'redis: no answer to PING',
      !config && 'config: no legacy system is configured',
      !accepting() && 'shutting down',
      workers && !workers.running && `workers not running: ${workers.stopped.join(', ')}`,
    ].filter((r): r is string => typeof r === 'string');
    const ready = reasons.length === 0;
    // Reported, never a reason to refuse: a ledger outage only delays archiving.
    const ledger = deps.ledger?.state();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      ...(ready ? {} : { reason: reasons.join('; '), reasons }),
      redis,
      config,
      accepting: accepting(),
      ...(workers ? { workers: workers.running } : {}),
      ...(ledger ? { ledger } : {}),
    } satisfies z.infer<typeof readinessSchema>);
  });
  route(
    app,
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tags: ['probes'],
      summary: 'Prometheus metrics',
      security: NONE,
      responses: { '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
    async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  if (deps.probesOnly) {
    // No intake, results or admin here: they would bypass the api processes' placement (and a
    // worker's port need not be reachable by callers at all), so the rest is a plain 404.
    app.use((_req, _res, next) => next(new ApiError('not_found')));
    app.use(apiErrorHandler(deps.log));
    return app;
  }

  // Credentials before anything else: a stranger learns nothing from a 404 or a 400.
  const { limits } = deps.config().gateway;
  app.use(
    access({
      callers: new Callers(deps.tokens),
      redis: deps.redis,
      prefix: deps.prefix,
      failuresPerMinute: limits.failedAuthPerMinute,
      requestsPerMinute: limits.requestsPerMinute,
      intakeHmacSecret: deps.intakeHmacSecret,
      onRefused: (caller, req, why) =>
        void deps.operations
          .audit({ who: caller.who, role: caller.role, action: 'auth.refused', target: `${req.method} ${maskPath(req.path).slice(0, 200)}`, detail: `${why}, from ${req.ip ?? req.socket.remoteAddress}` })
          .catch((err: Error) => requestLog(req, deps.log).warn({ err: err.message }, 'could not audit a refused credential')),
    }),
  );
  // No route answers OPTIONS (nothing is called cross-origin): express's automatic answer would list a
  // route's methods before its own credential check (the result endpoints check theirs in the route).
  app.use((req, _res, next) => next(req.method === 'OPTIONS' ? new ApiError('not_found') : undefined));
  app.use('/api/v1/cases', (_req, _res, next) => next(accepting() ? undefined : new ApiError('unavailable', 'The gateway is shutting down; try again shortly.')));
  mount(
    app,
    caseRoutes({
      config: deps.config,
      store: deps.store,
      queues: deps.queues,
      bodyLimit,
      log: deps.log,
      metrics: deps.metrics,
      now: deps.now,
      archive: deps.archive,
      lookupDocuments: deps.lookupDocuments,
      waiting: (caseId, systemId) => deps.operations.waiting(caseId, systemId),
    }),
  );

  /** An ops action audited with the caller's name (X-OW-Operator) and the role of the token used. */
  const auditAs = async (req: Request, entry: Pick<AuditEntry, 'action' | 'target' | 'detail'>): Promise<void> => {
    const { who, role } = operatorOf(req);
    await deps.operations.audit({ who, role, ...entry });
  };
  mount(app, resultRoutes({ results: deps.results, bodyLimit, audit: auditAs }));
  mount(app, xmlResultRoutes({ results: deps.results, bodyLimit, log: deps.log }));
  mount(app, soapResultRoutes({ results: deps.results, bodyLimit, log: deps.log, nonces: noncesInRedis(deps.redis, deps.prefix) }));

  if (deps.seals && deps.sealVerifier) {
    mount(
      app,
      // Public: verifications are counted in metrics (ow_seal_operations_total), never written to the
      // ops audit trail, which no anonymous caller may fill with text of their choosing.
      sealRoutes({ sealer: deps.seals, verifier: deps.sealVerifier }),
    );
  }

  if (deps.sharedData) mount(app, sharedDataRoutes({ service: deps.sharedData }));

  mount(app, consoleRoutes());
  mount(app, reportRoutes({ config: deps.config, store: deps.store, ledger: deps.ledger, now: deps.now }));
  mount(
    app,
    ledgerRoutes({
      ledger: deps.ledger,
      quarantine: new Quarantine(deps.redis, deps.prefix),
      redis: deps.redis,
      sweepKeys: { finished: deps.store.finishedKey, archived: deps.store.archivedKey },
      audit: auditAs,
      now: deps.now,
    }),
  );
  mount(app, adminRoutes({ operations: deps.operations }));

  app.use((_req, _res, next) => next(new ApiError('not_found')));
  app.use(apiErrorHandler(deps.log));
  return app;
}

/** How long /readyz waits for Redis to answer PING. */
const READY_PING_MS = 1000;

/** Every error as the contract's JSON shape; anything unexpected is logged and answered `internal`. */
export function apiErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = err instanceof ApiError ? err : (requestError(err) ?? (isRedisUnavailable(err) ? new ApiError('unavailable') : undefined));
    if (!known) requestLog(req, log).error({ err: (err as Error)?.message, stack: (err as Error)?.stack, path: req.path }, 'unexpected error');
    const answer = known ?? new ApiError('internal');
    res.status(answer.status).json(answer.toBody());
  };
}
