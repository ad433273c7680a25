/**
 * Builds the gateway's express app without listening, so tests run it on port 0 with real HTTP.
 */
import express, { type ErrorRequestHandler } from 'express';
import type { GatewayConfig } from './config/loader';
import type { CaseStore } from './cases/store';
import { adminRoutes } from './admin/routes';
import { consoleRoutes } from './admin/console';
import type { Operations } from './admin/operations';
import { caseRoutes } from './cases/routes';
import type { ResultReceiver } from './results/receiver';
import { resultRoutes } from './results/routes';
import { soapResultRoutes } from './results/soap-endpoint';
import { xmlResultRoutes } from './results/xml-endpoint';
import type { DeliveryQueues } from './delivery/queues';
import type { Tokens } from './platform/auth';
import { ApiError, requestError } from './platform/errors';
import type { Logger } from './platform/logger';
import type { Metrics } from './platform/metrics';
import { isRedisUnavailable, type RedisClient } from './platform/redis';
import { sealRoutes, type Sealer } from './seal';
import type { Ledger } from './ledger/ledger';
import { ledgerRoutes } from './ledger/routes';

export interface AppDeps {
  config: () => GatewayConfig;
  store: CaseStore;
  queues: DeliveryQueues;
  results: ResultReceiver;
  operations: Operations;
  redis: RedisClient;
  tokens: Tokens;
  log: Logger;
  metrics: Metrics;
  /** False while the gateway shuts down: intake then answers 503 and readiness fails. */
  accepting?: () => boolean;
  now?: () => Date;
  /** The seal room (§8): its keys and verifier are public. */
  seals?: Sealer;
  /** The case ledger (§10): archived cases, stats; its state is reported by /readyz. */
  ledger?: Ledger;
  /** A worker process (OW_ROLE=worker): only /healthz, /readyz and /metrics; everything else 404. */
  probesOnly?: boolean;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const accepting = deps.accepting ?? (() => true);
  const bodyLimit = deps.config().gateway.server.bodyLimit;

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const redis = await deps.redis.ping().then(
      () => true,
      () => false,
    );
    const ready = redis && accepting();
    // Reported, never a reason to refuse: a ledger outage only delays archiving (§6).
    const ledger = deps.ledger?.state();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', redis, config: deps.config().systems.size > 0, accepting: accepting(), ...(ledger ? { ledger } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  if (deps.probesOnly) {
    // No intake, results or admin here: they would bypass the api processes' placement (and a
    // worker's port need not be reachable by callers at all), so the rest is a plain 404.
    app.use((_req, _res, next) => next(new ApiError('not_found')));
    app.use(apiErrorHandler(deps.log));
    return app;
  }

  app.use('/api/v1/cases', (_req, _res, next) => next(accepting() ? undefined : new ApiError('unavailable', 'The gateway is shutting down; try again shortly.')));
  app.use(
    caseRoutes({
      config: deps.config,
      store: deps.store,
      queues: deps.queues,
      tokens: deps.tokens,
      bodyLimit,
      log: deps.log,
      metrics: deps.metrics,
      now: deps.now,
      archive: deps.ledger,
    }),
  );

  app.use(resultRoutes({ results: deps.results, tokens: deps.tokens, bodyLimit }));
  app.use(xmlResultRoutes({ results: deps.results, bodyLimit, log: deps.log }));
  app.use(soapResultRoutes({ results: deps.results, bodyLimit, log: deps.log }));

  if (deps.seals) app.use(sealRoutes({ sealer: deps.seals }));

  app.use(consoleRoutes());
  if (deps.ledger) app.use(ledgerRoutes({ ledger: deps.ledger, tokens: deps.tokens, now: deps.now }));
  app.use(adminRoutes({ operations: deps.operations, tokens: deps.tokens }));

  app.use((_req, _res, next) => next(new ApiError('not_found')));
  app.use(apiErrorHandler(deps.log));
  return app;
}

/** Every error as the contract's JSON shape; anything unexpected is logged and answered `internal`. */
export function apiErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = err instanceof ApiError ? err : (requestError(err) ?? (isRedisUnavailable(err) ? new ApiError('unavailable') : undefined));
    if (!known) log.error({ err: (err as Error)?.message, stack: (err as Error)?.stack, path: req.path }, 'unexpected error');
    const answer = known ?? new ApiError('internal');
    res.status(answer.status).json(answer.toBody());
  };
}
