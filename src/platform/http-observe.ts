/**
 * The HTTP edge: every request gets its X-Request-Id (the caller's when sane, else a new one),
 * returned on every answer, errors and 404s included; a server span (continuing a caller's W3C
 * traceparent); one line when it is answered (or the caller went away first); and the request
 * counters by route pattern.
 *
 * What a request line holds is chosen here, not filtered afterwards: method, the path with
 * personal numbers masked (no query string), the route pattern, the status and the time. No header
 * (Authorization included) and no body is ever serialized.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { requestIdFrom, type RequestOrigin } from './context';
import { ApiError } from './errors';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { maskPath } from './privacy';
import { tracer } from './tracing';

interface EdgeState {
  requestId: string;
  /** The gateway's logger, and the request's child of it once a handler asked (most requests log only their request line). */
  root: Logger;
  log?: Logger;
  otel: Context;
}

const states = new WeakMap<IncomingMessage, EdgeState>();

/**
 * The logger of the request: its lines carry the request id. A request the edge never saw (a
 * handler under test alone) gets `fallback`.
 */
export function requestLog(req: IncomingMessage, fallback: Logger): Logger;
export function requestLog(req: IncomingMessage): Logger | undefined;
export function requestLog(req: IncomingMessage, fallback?: Logger): Logger | undefined {
  const state = states.get(req);
  if (!state) return fallback;
  return (state.log ??= state.root.child({ requestId: state.requestId }));
}

/** The request's X-Request-Id as the edge took or made it (undefined for a request the edge never saw). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return states.get(req)?.requestId;
}

/** The request's logger (`fallback` for a request the edge never saw) and its request id. */
export function originOf(req: IncomingMessage, fallback?: Logger): RequestOrigin {
  return { log: requestLog(req) ?? fallback, requestId: requestIdOf(req) };
}

/** The route pattern that answered (e.g. `/api/v1/cases/:caseId`), or `unmatched`: never the raw URL. */
export function routeOf(req: IncomingMessage): string {
  const r = req as Partial<Request>;
  const path = r.route?.path as unknown;
  if (typeof path !== 'string') return 'unmatched';
  return `${r.baseUrl ?? ''}${path}`;
}

/** Probes and scrapes would drown the lines that matter. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

export function observeHttp(deps: { log: Logger; metrics: Metrics }): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.get('x-request-id'));
    res.setHeader('X-Request-Id', requestId);
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'ow.request_id': requestId } }, parent);
    const state: EdgeState = { requestId, root: deps.log, otel: trace.setSpan(parent, span) };
    states.set(req, state);
    const started = process.hrtime.bigint();
    // Taken now: routers rewrite req.url on the way in.
    const quiet = QUIET.has(req.url);
    // 'close' comes after every answer, and also when the caller went away first; 'finish' is
    // skipped when the socket failed under an answer already written.
    res.once('close', () => {
      const route = routeOf(req);
      const status = res.statusCode;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const answered = res.writableFinished;
      // The counters are of answers: a request the caller left has no status to count.
      if (answered) {
        deps.metrics.httpRequests.inc({ method: req.method, route, status: String(status) });
        deps.metrics.httpDuration.observe({ method: req.method, route }, seconds);
      }
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (!answered) span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
      else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      if (quiet) return;
      const line = { requestId, req: { method: req.method, path: maskPath(req.originalUrl.split('?')[0] ?? '') }, res: { statusCode: status }, route, responseTime: Math.round(seconds * 1000) };
      if (!answered) deps.log.warn(line, 'request aborted');
      else if (status >= 500) deps.log.error(line, 'request failed');
      else if (status >= 400) deps.log.warn(line, 'request answered');
      else deps.log.info(line, 'request answered');
    });
    context.with(state.otel, next);
  };
}

/**
 * Re-enters the request's trace context. Body parsers read the stream in callbacks the event loop
 * may run outside the request's async context; the handlers after them get it back here.
 */
export const reenterRequest: RequestHandler = (req, _res: Response, next) => {
  const state = states.get(req);
  if (!state) return next();
  context.with(state.otel, next);
};

/** A header line (latin1) whose value holds a character Node's parser refuses: a control, tab aside. */
const HEADER_WITH_CONTROL = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):.*?[^\t -~\u0080-\u00ff]/;

/**
 * Requests Node's parser refuses before express sees them (a control character in a header, a
 * malformed request line) get the answer shape of every other refusal, naming the header when the
 * raw bytes tell which; a request id too. A connection already gone is simply closed.
 */
export function answerUnparsable(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const lines = err.rawPacket?.toString('latin1').split('\r\n').slice(1) ?? [];
    const header = lines.map((line) => HEADER_WITH_CONTROL.exec(line)?.[1]).find((name) => name !== undefined);
    const error = header
      ? new ApiError('invalid_request', `The header ${header} contains a control character.`, [{ path: header, message: 'contains a control character' }])
      : new ApiError('invalid_request', `The request could not be read as HTTP (${err.code ?? 'malformed'}).`);
    const body = JSON.stringify(error.toBody());
    const reason = STATUS_CODES[status] ?? 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestIdFrom(undefined)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
