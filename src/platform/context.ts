/**
 * What a log line is about: the request id (taken at the edge, or made there) and the
 * case, system and attempt being worked on. Held in AsyncLocalStorage so that every line a case
 * causes carries them, whichever module writes it, without threading a logger through every call.
 * Job data carries the request id across processes; each job's run re-enters its context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';

export interface LogContext {
  requestId?: string;
  caseId?: string;
  systemId?: string;
  attempt?: number;
}

const storage = new AsyncLocalStorage<LogContext>();

/** The fields of the current context (a live object: workers set `attempt` once it is known). */
export function currentContext(): LogContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `fields` added to the current context (a new object: the outer one is left alone). */
export function withContext<T>(fields: LogContext, fn: () => T): T {
  const merged: LogContext = { ...storage.getStore() };
  for (const [key, value] of Object.entries(fields) as [keyof LogContext, LogContext[keyof LogContext]][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return storage.run(merged, fn);
}

/** Runs `fn` in exactly `ctx` (re-entering a context the event loop lost, e.g. after a body parser). */
export function inContext<T>(ctx: LogContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (≤ 128 of `[A-Za-z0-9._:-]`), else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : crypto.randomUUID();
}

/** Whether `value` may travel as a request id (job data from another process is checked again). */
export function isSaneRequestId(value: unknown): value is string {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value);
}
