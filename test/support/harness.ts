/**
 * Test harness: a throwaway config folder, a gateway on port 0 against the run's real Redis (with
 * its own key prefix), and small real HTTP servers that play legacy systems.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/loader';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway';
import { loggerOptions, type Logger } from '../../src/platform/logger';

/** A logger whose every line is kept, for tests that read what the gateway logged. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  // The gateway's own options (redaction, the log context on every line), written to memory.
  const log = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

export const INTAKE_TOKEN = 'test-intake-token';
export const OPS_TOKEN = 'test-ops-admin-token';
export const OPERATOR_TOKEN = 'test-operator-token';
export const VIEWER_TOKEN = 'test-viewer-token';

export function redisUrl(): string {
  const url = process.env.OW_TEST_REDIS_URL;
  if (!url) throw new Error('OW_TEST_REDIS_URL is not set: run the tests through jest (global setup starts Redis)');
  return url;
}

export function uniquePrefix(): string {
  return `t${crypto.randomBytes(5).toString('hex')}`;
}

export type SystemSpec = Record<string, unknown> & { id: string };

/** A REST system in the common government dialect, pointed at `endpoint`. */
export function restSystem(id: string, endpoint: string, overrides: Record<string, unknown> = {}): SystemSpec {
  return {
    id,
    name: `测试系统 ${id}`,
    level: 'city',
    protocol: 'rest',
    endpoint,
    timeoutMs: 2000,
    retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 20 } },
    request: { body: '{"bizNo": caseId, "sqrxm": applicant.name, "sfzh": applicant.idNumber, "sxbm": itemCode}' },
    response: { success: 'code = "0"', receiptNo: 'data.slbh', error: 'msg', retryable: 'code = "9"' },
    result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}' },
    ...overrides,
  };
}

export function writeConfig(systems: SystemSpec[], routes: unknown, gateway: unknown = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-config-'));
  fs.mkdirSync(path.join(dir, 'systems'));
  fs.writeFileSync(path.join(dir, 'gateway.yaml'), YAML.stringify(gateway));
  fs.writeFileSync(path.join(dir, 'routes.yaml'), YAML.stringify(routes));
  for (const s of systems) fs.writeFileSync(path.join(dir, 'systems', `${s.id}.yaml`), YAML.stringify(s));
  return dir;
}

export async function startTestGateway(
  configDir: string,
  extra: { keyPrefix?: string; env?: Record<string, string>; now?: () => Date; shutdownGraceMs?: number; log?: Logger; ledger?: { url?: string }; dataDir?: string; intakeHmacSecret?: string; redisUrl?: string; options?: Partial<GatewayOptions> } = {},
): Promise<RunningGateway> {
  return startGateway({
    now: extra.now,
    shutdownGraceMs: extra.shutdownGraceMs,
    config: loadConfig(configDir, extra.env ?? {}),
    callbacks: { retryDelayMs: 50, timeoutMs: 2000 },
    redisUrl: extra.redisUrl ?? redisUrl(),
    tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN], operator: [OPERATOR_TOKEN], viewer: [VIEWER_TOKEN] },
    intakeHmacSecret: extra.intakeHmacSecret,
    log: extra.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    port: 0,
    host: '127.0.0.1',
    keyPrefix: extra.keyPrefix ?? uniquePrefix(),
    ledger: extra.ledger,
    dataDir: extra.dataDir,
    ...extra.options,
  });
}

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw bytes (GBK servers decode them themselves), and as UTF-8 text and JSON. */
  bytes: Buffer;
  body: string;
  json: unknown;
}

export interface LegacyServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A real HTTP server; `answer` decides each reply from what was received so far. */
export async function legacyServer(answer: (req: Received, n: number, res: http.ServerResponse) => void): Promise<LegacyServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const body = bytes.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, bytes, body, json };
      received.push(r);
      answer(r, received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function replyJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export function sampleCase(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caseId: `QZ-20261128-${crypto.randomBytes(4).toString('hex')}`,
    itemCode: '330800-FG-001',
    itemName: '出具房改核查证明',
    channel: 'window',
    submittedAt: '2026-11-28T09:30:00+08:00',
    applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000', address: '衢州市柯城区' },
    materials: [],
    form: { purpose: '购房' },
    ...overrides,
  };
}

export async function submit(gateway: { url: string }, body: unknown, token = INTAKE_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway.url}/api/v1/cases`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Pushes a result as a legacy system would (REST). */
export async function pushResult(gateway: { url: string }, systemId: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway.url}/api/v1/results/${systemId}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Calls the admin API with the ops token (and any extra headers, e.g. If-Match); answers the headers too. */
export async function adminWithHeaders(gateway: { url: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${gateway.url}/api/v1/admin${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${OPS_TOKEN}`, 'X-OW-Operator': encodeURIComponent('值班员 李四'), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Calls the admin API with the ops token. */
export async function admin(gateway: { url: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const { status, body: answer } = await adminWithHeaders(gateway, method, path, body, headers);
  return { status, body: answer };
}

export async function caseView(gateway: { url: string }, caseId: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway.url}/api/v1/cases/${caseId}`, { headers: { Authorization: `Bearer ${INTAKE_TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

/** Polls until `check` passes or the deadline is reached; the last failure is rethrown. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
