/**
 * Request ids: taken at the HTTP edge (the caller's when sane) or made there. They travel
 * explicitly from there: in the request's logger and accessors (http-observe.ts), in the stored
 * case, in job data across processes, and in each job's own child logger.
 */
import crypto from 'node:crypto';
import type { Logger } from './logger';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (≤ 128 of `[A-Za-z0-9._:-]`), else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : crypto.randomUUID();
}

/** `value` when it may travel as a request id, else undefined (job data from another process is checked again). */
export function saneRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value) ? value : undefined;
}

/** Whom a piece of work is for: the request's logger (its lines carry the request id) and that id, to send on. */
export interface RequestOrigin {
  log?: Logger;
  requestId?: string;
}
