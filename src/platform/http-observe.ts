/**
 * The HTTP edge: every request gets its X-Request-Id (the caller's when sane, else a new one),
 * returned on every answer, errors and 404s included; a server span (continuing a caller's W3C
 * traceparent); one pino-http line when it is answered; and the request counters by route pattern.
 *
 * What a request line holds is chosen here, not filtered afterwards: method, the path with
 * personal numbers masked (no query string), the route pattern, the status and the time. No header
 * (Authorization included) and no body is ever serialized.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { pinoHttp } from 'pino-http';
import { inContext, requestIdFrom, type LogContext } from './context';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { maskPersonalData } from './privacy';
import { tracer } from './tracing';

interface EdgeState {
  log: LogContext;
  otel: Context;
}

const states = new WeakMap<IncomingMessage, EdgeState>();

/** The route pattern that answered (e.g. `/api/v1/cases/:caseId`), or `unmatched`: never the raw URL. */
export function routeOf(req: IncomingMessage): string {
  const r = req as Partial<Request>;
  const path = r.route?.path as unknown;
  if (typeof path !== 'string') return 'unmatched';
  return `${r.baseUrl ?? ''}${path}`;
}

/** The request id of a request that passed the edge. */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return states.get(req)?.log.requestId;
}

export function observeHttp(deps: { log: Logger; metrics: Metrics }): RequestHandler[] {
  const edge: RequestHandler = (req, res, next) => {
    const requestId = requestIdFrom(req.get('x-request-id'));
    (req as IncomingMessage & { id?: string }).id = requestId;
    res.setHeader('X-Request-Id', requestId);
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'ow.request_id': requestId } }, parent);
    const state: EdgeState = { log: { requestId }, otel: trace.setSpan(parent, span) };
    states.set(req, state);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = routeOf(req);
      const status = res.statusCode;
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(status) });
      deps.metrics.httpDuration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(state.otel, () => inContext(state.log, next));
  };

  const access = pinoHttp<IncomingMessage, ServerResponse>({
    logger: deps.log,
    genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? requestIdFrom(undefined),
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    wrapSerializers: false,
    serializers: {
      // Serialized when the request arrives, before routing: the route is added when it is answered.
      req: (req: IncomingMessage) => ({ method: req.method, path: maskPersonalData((req as Partial<Request>).originalUrl?.split('?')[0] ?? req.url?.split('?')[0] ?? '') }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessObject: (req, _res, line: object) => ({ ...line, route: routeOf(req) }),
    customErrorObject: (req, _res, _err, line: object) => ({ ...line, route: routeOf(req) }),
    customSuccessMessage: () => 'request answered',
    customErrorMessage: () => 'request failed',
    // Probes and scrapes would drown the lines that matter.
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
  });

  return [edge, (req, res, next) => access(req, res, () => next())];
}

/**
 * Re-enters the request's log and trace context. Body parsers read the stream in callbacks the
 * event loop may run outside the request's async context; the handlers after them get it back here.
 */
export const reenterRequest: RequestHandler = (req, _res: Response, next) => {
  const state = states.get(req);
  if (!state) return next();
  context.with(state.otel, () => inContext(state.log, next));
};
