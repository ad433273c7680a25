/**
 * Simulators of the legacy business systems: one express server plays every configured REST
 * system at `POST /sim/<systemId>/cases`, so the demo and the tests need no real back end.
 *
 * Each simulated system answers in its own reply dialect (see dialects.ts), checks the auth its
 * config file asks for, drops redeliveries by `Idempotency-Key` as CONTRACT §7 expects a real system
 * to, and can be made to misbehave (errors, refusals, latency, outages) from code or over HTTP:
 *
 *   PUT /sim/_control/<systemId>   body: Partial<Faults>   → the system's faults after the change
 *   GET /sim/_control/<systemId>                           → the system's faults
 *   GET /sim/_stats                                        → every system's counters
 *
 * A marker in the submitted body gives tests a deterministic answer whatever the fault knobs say:
 * any string value containing "SIM-REJECT" is refused for good, "SIM-RETRY" is refused as
 * "busy, try again later" (the dialect's retryable refusal).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { loadConfig } from '../src/config/loader';
import type { Auth, SystemConfig } from '../src/config/schema';
import { dialectOf, MESSAGES, type Dialect, type Json } from './dialects';

export interface SimOptions {
  configDir: string;
  /** 9100 by default: the port the shipped system files point at. 0 picks a free one. */
  port?: number;
  host?: string;
  /** For `${NAME}` references in the config (auth secrets); process.env by default. */
  env?: Record<string, string | undefined>;
}

/**
 * A system's counters. Every request that is not a recognised redelivery counts once in `received`
 * and once in exactly one of `accepted`, `rejected` (a business refusal) or `failed` (HTTP 500,
 * outage, wrong credentials, or a "busy, retry later" refusal); a redelivery of an accepted
 * case counts only in `duplicates`.
 */
export interface SystemStats {
  received: number;
  duplicates: number;
  accepted: number;
  rejected: number;
  failed: number;
}

export interface Faults {
  /** Share of requests (0–1) answered with HTTP 500. */
  failureRate: number;
  /** Share of requests (0–1) refused in the dialect (e.g. code "1", 材料不齐全). */
  rejectRate: number;
  /** Delay before every answer. */
  latencyMs: number;
  /** The system is unreachable: the connection is dropped without an answer. */
  down: boolean;
}

/** What one simulated system saw: for tests that check what the gateway actually sent. */
export interface SimRequest {
  at: string;
  idempotencyKey?: string;
  headers: Record<string, string>;
  body: unknown;
  outcome: Outcome;
  receiptNo?: string;
}

export interface Simulators {
  url: string;
  port: number;
  stats(): Record<string, SystemStats>;
  setFaults(systemId: string, faults: Partial<Faults>): void;
  /** The latest requests a system received (at most REQUEST_LOG_SIZE), oldest first. */
  requests(systemId: string): SimRequest[];
  close(): Promise<void>;
}

type Outcome = 'accepted' | 'rejected' | 'failed' | 'duplicate';

const NO_FAULTS: Faults = { failureRate: 0, rejectRate: 0, latencyMs: 0, down: false };

/** Bounds what a long demo keeps in memory per system. */
const REQUEST_LOG_SIZE = 1000;

export const faultsSchema = z
  .strictObject({
    failureRate: z.number().min(0).max(1),
    rejectRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(600_000),
    down: z.boolean(),
  })
  .partial();

interface SimSystem {
  config: SystemConfig;
  dialect: Dialect;
  receiptPrefix: string;
  faults: Faults;
  stats: SystemStats;
  /** Idempotency-Key → receipt number, for the cases this system accepted. */
  receipts: Map<string, string>;
  sequence: { day: string; next: number };
  log: SimRequest[];
}

interface Answer {
  status: number;
  body: Json;
  outcome: Outcome;
  receiptNo?: string;
  parsed?: unknown;
}

class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/**
 * Receipt numbers look like the real ones: a level prefix (GJ national, ZJ Zhejiang, QZ Quzhou),
 * the initials of the system id, the day in Beijing time and a daily sequence,
 * e.g. city-housing-reform → QZHR2026112800001.
 */
function receiptPrefix(system: SystemConfig): string {
  const level = { national: 'GJ', provincial: 'ZJ', city: 'QZ' }[system.level];
  const words = system.id.split('-').slice(1);
  const initials = words.length === 1 ? words[0].slice(0, 2) : words.map((w) => w[0]).join('');
  return (level + initials.slice(0, 4)).toUpperCase();
}

const beijingDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

function nextReceipt(sim: SimSystem): string {
  const day = beijingDay.format(new Date()).replace(/-/g, '');
  if (sim.sequence.day !== day) sim.sequence = { day, next: 1 };
  const n = sim.sequence.next++;
  return `${sim.receiptPrefix}${day}${String(n).padStart(5, '0')}`;
}

/** How old a signed request may be: room for a slow retry, none for a replay days later. */
const HMAC_TOLERANCE_S = 300;

function authorized(auth: Auth, req: Request, raw: Buffer): boolean {
  const header = req.get('authorization');
  switch (auth.type) {
    case 'none':
      return true;
    case 'bearer':
      return header !== undefined && /^Bearer\s+/i.test(header) && header.replace(/^Bearer\s+/i, '') === auth.token;
    case 'basic':
      return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    case 'hmac': {
      // Signed the way the gateway signs its callbacks (CONTRACT §6), over the exact bytes sent:
      // X-OW-Signature: sha256=<hex HMAC-SHA256(secret, X-OW-Timestamp + "." + body)>.
      const timestamp = req.get('x-ow-timestamp') ?? '';
      const signature = req.get('x-ow-signature') ?? '';
      if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > HMAC_TOLERANCE_S) return false;
      const expected = 'sha256=' + crypto.createHmac('sha256', auth.secret).update(`${timestamp}.`).update(raw).digest('hex');
      return signature === expected;
    }
    case 'wsse':
      // WS-Security lives inside SOAP envelopes, which these REST simulators do not read.
      return true;
  }
}

/** Every string value anywhere in a parsed body (object keys excluded). */
function containsMarker(value: unknown, marker: string): boolean {
  if (typeof value === 'string') return value.includes(marker);
  if (Array.isArray(value)) return value.some((v) => containsMarker(v, marker));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => containsMarker(v, marker));
  return false;
}

/** The request's bytes as express.raw left them (nothing when there was no body). */
function rawOf(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Decides the answer at once, before any latency, so that a concurrent redelivery already finds the receipt. */
function decide(sim: SimSystem, req: Request): Answer {
  const { dialect, faults } = sim;
  if (Math.random() < faults.failureRate) return { status: 500, body: dialect.broken(MESSAGES.broken), outcome: 'failed' };
  const raw = rawOf(req);
  if (!authorized(sim.config.auth, req, raw)) {
    return { status: 401, body: dialect.refused('身份认证失败'), outcome: 'failed' };
  }
  const parsed = parseJson(raw);
  if (!parsed.ok || parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    return { status: 400, body: dialect.refused(MESSAGES.invalidBody), outcome: 'rejected' };
  }
  const body = parsed.value;
  const key = req.get('idempotency-key');
  const known = key === undefined ? undefined : sim.receipts.get(key);
  if (known !== undefined) return { status: 200, body: dialect.accepted(known), outcome: 'duplicate', receiptNo: known, parsed: body };
  if (containsMarker(body, 'SIM-REJECT')) return { status: 200, body: dialect.refused(MESSAGES.refused), outcome: 'rejected', parsed: body };
  if (containsMarker(body, 'SIM-RETRY')) return { status: 200, body: dialect.retryLater(MESSAGES.retryLater), outcome: 'failed', parsed: body };
  if (Math.random() < faults.rejectRate) return { status: 200, body: dialect.refused(MESSAGES.refused), outcome: 'rejected', parsed: body };
  const receiptNo = nextReceipt(sim);
  if (key !== undefined) sim.receipts.set(key, receiptNo);
  return { status: 200, body: dialect.accepted(receiptNo), outcome: 'accepted', receiptNo, parsed: body };
}

function count(sim: SimSystem, outcome: Outcome): void {
  if (outcome === 'duplicate') {
    sim.stats.duplicates++;
    return;
  }
  sim.stats.received++;
  sim.stats[outcome]++;
}

function record(sim: SimSystem, req: Request, answer: Pick<Answer, 'outcome' | 'receiptNo' | 'parsed'>): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    // Credentials stay out of the log a test or the demo may print.
    if (typeof value === 'string' && name !== 'authorization') headers[name] = value;
  }
  sim.log.push({
    at: new Date().toISOString(),
    idempotencyKey: req.get('idempotency-key'),
    headers,
    body: answer.parsed,
    outcome: answer.outcome,
    receiptNo: answer.receiptNo,
  });
  if (sim.log.length > REQUEST_LOG_SIZE) sim.log.shift();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function validateFaults(input: unknown): Partial<Faults> {
  const parsed = faultsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new SimError(
    400,
    'invalid_faults',
    'faults must be an object with failureRate (0-1), rejectRate (0-1), latencyMs (integer ms, at most 600000) and/or down (boolean)',
    parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })),
  );
}

function sendError(res: Response, error: SimError): void {
  res.status(error.status).json({ error: { code: error.code, message: error.message, details: error.details } });
}

export async function startSimulators(opts: SimOptions): Promise<Simulators> {
  const config = loadConfig(opts.configDir, opts.env ?? process.env);
  const systems = new Map<string, SimSystem>();
  for (const system of config.systems.values()) {
    // SOAP and XML systems speak other wire formats; they get their own simulators.
    if (system.protocol !== 'rest') continue;
    systems.set(system.id, {
      config: system,
      dialect: await dialectOf(system),
      receiptPrefix: receiptPrefix(system),
      faults: { ...NO_FAULTS },
      stats: { received: 0, duplicates: 0, accepted: 0, rejected: 0, failed: 0 },
      receipts: new Map(),
      sequence: { day: '', next: 1 },
      log: [],
    });
  }

  const find = (systemId: string): SimSystem => {
    const sim = systems.get(systemId);
    if (sim) return sim;
    const other = config.systems.get(systemId);
    throw new SimError(
      404,
      'unknown_system',
      other ? `system ${systemId} speaks ${other.protocol}; only REST systems are simulated here` : `no simulated system ${systemId}`,
    );
  };

  // Takes unknown input: callers in code and the HTTP route get the same validation.
  const setFaults = (systemId: string, faults: unknown): Faults => {
    const sim = find(systemId);
    sim.faults = { ...sim.faults, ...validateFaults(faults) };
    return sim.faults;
  };

  const stats = (): Record<string, SystemStats> =>
    Object.fromEntries([...systems].map(([id, sim]) => [id, { ...sim.stats }]));

  const app = express();
  app.disable('x-powered-by');
  // Raw bodies everywhere: the simulators parse JSON themselves so that a malformed body gets an
  // answer in the system's dialect (or a JSON error on the control routes), whatever its content type.
  const rawBody = express.raw({ type: () => true, limit: '10mb' });

  app.get('/sim/_stats', (_req, res) => {
    res.json(stats());
  });

  app.get('/sim/_control/:systemId', (req, res) => {
    res.json({ systemId: req.params.systemId, faults: find(req.params.systemId).faults });
  });

  app.put('/sim/_control/:systemId', rawBody, (req, res) => {
    find(req.params.systemId);
    const parsed = parseJson(rawOf(req));
    if (!parsed.ok) throw new SimError(400, 'invalid_json', 'the body must be JSON, e.g. {"failureRate": 0.5}');
    res.json({ systemId: req.params.systemId, faults: setFaults(req.params.systemId, parsed.value) });
  });

  app.post('/sim/:systemId/cases', rawBody, async (req, res) => {
    const sim = find(req.params.systemId);
    if (sim.faults.down) {
      // An outage as the gateway meets it: the connection is cut before any answer.
      count(sim, 'failed');
      record(sim, req, { outcome: 'failed' });
      req.socket.destroy();
      return;
    }
    const answer = decide(sim, req);
    count(sim, answer.outcome);
    record(sim, req, answer);
    if (sim.faults.latencyMs > 0) await sleep(sim.faults.latencyMs);
    res.status(answer.status).json(answer.body);
  });

  app.use((req, res) => {
    sendError(res, new SimError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });

  // Express needs all four parameters to see an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof SimError) return sendError(res, err);
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    sendError(res, new SimError(status, status === 413 ? 'too_large' : status < 500 ? 'bad_request' : 'internal', err instanceof Error ? err.message : String(err)));
  });

  const server = http.createServer(app);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9100, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;

  return {
    url,
    port,
    stats,
    setFaults: (systemId, faults) => {
      try {
        setFaults(systemId, faults);
      } catch (e) {
        // Callers in code get a plain Error with the same words the HTTP route answers with.
        if (e instanceof SimError) {
          const details = e.details.map((d) => `${d.path} ${d.message}`).join('; ');
          throw new Error(details ? `${e.message}: ${details}` : e.message, { cause: e });
        }
        throw e;
      }
    },
    requests: (systemId) => [...find(systemId).log],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections (fetch pools them) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
