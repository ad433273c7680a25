/**
 * What the benchmarks share: where the built gateway is, free ports, the processes they start (all
 * killed on the way out), waiting for readiness, a gentle stop, and the case every bench submits
 * (the harness's sample case, copied so bench numbers stay comparable whatever the tests change).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export { freePort } from '../src/platform/redis';

export const ROOT = path.resolve(__dirname, '../..');
export const MAIN = path.join(ROOT, 'dist/src/main.js');

/** Node's arguments as `npm start` gives them (its runtime flags, then MAIN): a bench measures what ships. */
export function startArgs(): string[] {
  const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  if (start[0] !== 'node' || start[start.length - 1] !== 'dist/src/main.js') throw new Error(`package.json's start script is not "node [flags] dist/src/main.js": ${start.join(' ')}`);
  return [...start.slice(1, -1), MAIN];
}
export const TOKEN = 'bench-intake-token';
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every process a bench started, so none outlives it. */
export const children: ChildProcess[] = [];
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Until `url` answers /healthz (and, for a gateway, /readyz); throws if the process exits or time runs out. */
export async function waitReady(url: string, child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up`);
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok && (what !== 'gateway' || (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)))) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100);
  }
}

/** SIGTERM (the gateway drains), SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** The material store the bench cases name (by reference: the benchmarks' systems never fetch from it). */
export const BENCH_STORE_ID = 'intake';
export const BENCH_MATERIALS = { stores: { [BENCH_STORE_ID]: { baseUrl: 'http://127.0.0.1:9/materials/' } } };

export function benchCase(caseId: string): string {
  return JSON.stringify({
    caseId,
    itemCode: '330800-FG-001',
    itemName: '出具房改核查证明',
    channel: 'window',
    submittedAt: '2026-11-28T09:30:00+08:00',
    applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000', address: '衢州市柯城区' },
    materials: [{ name: '身份证', kind: 'ID_CARD', uri: `store://${BENCH_STORE_ID}/id/330802199001011234.pdf` }],
    form: { purpose: '购房' },
  });
}

/**
 * The bench systems' request mapping (JSONata over the case): the gateway's systems carry it as
 * `request.body`, the Node-RED peer's change node applies the same text to `msg.payload`.
 */
export const BENCH_MAPPING = '{"bizNo": caseId, "sqrxm": applicant.name, "sfzh": applicant.idNumber, "sxbm": itemCode}';

// --- The stand-in legacy system -------------------------------------------------------------------

export interface StandIn {
  url: string;
  /** When each delivery arrived, by its Idempotency-Key `caseId:systemId` (first arrival only). */
  arrivals: Map<string, number>;
  /** The body of each delivery by the same key, when started with `keepBodies` (tests; the bench does not keep them). */
  bodies: Map<string, string>;
  requests: number;
  /** What it answers: 200 and a success reply unless a test says otherwise. */
  status: number;
  close(): Promise<void>;
}

/** A legacy system that answers at once, `{"code":"0",…,"data":{"slbh":…}}`, and notes when each delivery came. */
export async function startStandIn(keepBodies = false): Promise<StandIn> {
  const standIn: StandIn = { url: '', arrivals: new Map(), bodies: new Map(), requests: 0, status: 200, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      standIn.requests++;
      const key = String(req.headers['idempotency-key'] ?? '');
      if (key && !standIn.arrivals.has(key)) {
        standIn.arrivals.set(key, performance.now());
        if (keepBodies) standIn.bodies.set(key, Buffer.concat(chunks).toString('utf8'));
      }
      res.writeHead(standIn.status, { 'Content-Type': 'application/json' });
      res.end(standIn.status === 200 ? `{"code":"0","msg":"ok","data":{"slbh":"SL-${standIn.requests}"}}` : '{"code":"500","msg":"down"}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}
