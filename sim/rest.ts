/**
 * The REST/JSON protocol simulator: every `protocol: rest` system at `POST /sim/<systemId>/cases`,
 * answering in its own reply dialect (dialects.ts), checking the credentials its config asks for;
 * a polling system's results at `GET /sim/<systemId>/results/<receiptNo>`; and results pushed as
 * JSON to the gateway's `POST /api/v1/results/<systemId>` with the system's bearer inbound token.
 */
import express, { type Request } from 'express';
import type { SystemConfig } from '../src/config/schema';
import { httpAuthorized } from './auth';
import { dialectOf, MESSAGES, type Dialect } from './dialects';
import { flatHeaders, lookupAnswer, PushError, verdictAnswer, type ProtocolSimulator } from './protocol';
import { checkAttached, checkInline, isMultipart, MaterialCheckError, readMultipart, type ReceivedMaterial } from './received-materials';

/** How long one push may take before it counts as failed (and is retried). */
const PUSH_TIMEOUT_MS = 10_000;

/** The largest multipart submission a simulated system reads (its parts streamed, never held). */
const MULTIPART_LIMIT = 1024 * 1024 * 1024;

/** The request's bytes as express.raw left them (nothing when there was no body). */
function rawOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/** A JSON object, or undefined for anything else (malformed, an array, a bare value). */
function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const restSimulator: ProtocolSimulator = {
  protocol: 'rest',

  async mount(app, _server, ctx) {
    const served = new Map<string, { system: SystemConfig; dialect: Dialect }>();
    for (const system of ctx.systems) served.set(system.id, { system, dialect: await dialectOf(system) });
    // Raw bodies: the simulator parses JSON itself so that a malformed body gets an answer in the
    // system's dialect, whatever its content type. Multipart bodies (materials attached) are left
    // to stream through the multipart reader.
    const rawBody = express.raw({ type: (req) => !isMultipart(req), limit: '10mb' });

    app.post('/sim/:systemId/cases', rawBody, async (req, res, next) => {
      const entry = served.get(req.params.systemId);
      // Another protocol's system (or none): left to the other simulators and the 404 handler.
      if (!entry) return next();
      const { system } = entry;
      // The JSON (the whole body, or part "body" of a multipart one) and the materials as checked.
      let raw = rawOf(req);
      let body: Record<string, unknown> | undefined;
      let materials: ReceivedMaterial[] | undefined;
      let why: string | undefined;
      try {
        if (isMultipart(req)) {
          const { parts, root } = await readMultipart(req, MULTIPART_LIMIT);
          // The JSON part stands for the body: a signed multipart request is not checked over its parts.
          raw = root?.bytes ?? Buffer.alloc(0);
          body = parseObject(raw);
          if (body) materials = checkAttached(system, body, parts, 'form-data');
          else why = 'part "body" must be a JSON object';
        } else {
          body = parseObject(raw);
          if (body && system.materials?.mode === 'inline') materials = checkInline(system, body);
        }
      } catch (err) {
        if (!(err instanceof MaterialCheckError)) throw err;
        body = undefined;
        why = err.message;
      }
      const verdict = await ctx.submit({
        systemId: system.id,
        body,
        idempotencyKey: req.get('idempotency-key'),
        authorized: httpAuthorized(system.auth, (name) => req.get(name), raw),
        headers: flatHeaders(req.headers),
        ...(materials?.length ? { materials } : {}),
      });
      const reply = verdictAnswer(entry.dialect, verdict, why);
      if (!reply) {
        req.socket.destroy();
        return;
      }
      res.status(reply.status).json(reply.body);
    });

    // Shared-data look-ups, at the path of each system's lookup.endpoint.
    for (const { system } of served.values()) {
      const endpoint = system.lookup?.endpoint;
      const lookup = ctx.lookup;
      if (!endpoint || !lookup) continue;
      app.post(new URL(endpoint).pathname, rawBody, async (req, res) => {
        const raw = rawOf(req);
        const verdict = await lookup({ systemId: system.id, body: parseObject(raw), authorized: httpAuthorized(system.auth, (name) => req.get(name), raw) });
        const reply = lookupAnswer(verdict);
        if (!reply) {
          req.socket.destroy();
          return;
        }
        res.status(reply.status).json(reply.body);
      });
    }

    app.get('/sim/:systemId/results/:receiptNo', rawBody, (req, res, next) => {
      const entry = served.get(req.params.systemId);
      if (!entry || entry.system.result?.mode !== 'poll' || !ctx.pollResult) return next();
      const { dialect, system } = entry;
      if (!httpAuthorized(system.auth, (name) => req.get(name), rawOf(req))) {
        res.status(401).json(dialect.refused(MESSAGES.unauthorized));
        return;
      }
      const polled = ctx.pollResult(system.id, req.params.receiptNo);
      if (!polled) {
        res.status(404).json({ code: '404', msg: `无此受理编号 ${req.params.receiptNo}`, data: null });
        return;
      }
      res.json(polled.body);
    });
  },

  async push(system, body, gatewayUrl) {
    const token = system.result?.inboundToken;
    if (!token) throw new PushError(`system ${system.id} has no result.inboundToken to push with`, false);
    const url = `${gatewayUrl.replace(/\/+$/, '')}/api/v1/results/${encodeURIComponent(system.id)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new PushError(`could not reach ${url} (${err instanceof Error ? err.message : String(err)}${cause})`, true);
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    // The gateway's error answer says why; a 5xx, 408 or 429 may pass, anything else will not.
    throw new PushError(`${url} answered HTTP ${res.status} ${text.slice(0, 300)}`, res.status >= 500 || res.status === 408 || res.status === 429);
  },
};
