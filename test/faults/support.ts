/**
 * The fault-injection rig: a scenario's own redis-server, the simulators of five REST systems, one or
 * two REAL gateway processes (`node dist/src/main.js`), an intake-like submitter, and the bookkeeping
 * that checks the gateway's promises once the dust settles:
 *
 *   - every accepted (case, system) — a 202/200 answer listed it — ends in delivered, completed,
 *     rejected or dead ("lost" otherwise), and its history shows exactly one final state, the one
 *     its status says (an entry repeated identically, to the millisecond, is reported apart);
 *   - the simulator accepted a delivered one exactly once, under the receipt number the gateway
 *     recorded, and never accepted a rejected or dead one, nor any case not accepted for it;
 *   - every request a simulator saw carried `Idempotency-Key: <caseId>:<systemId>`;
 *   - no token, full ID number or phone number appears in the gateways' output.
 *
 * Each scenario prints a table (per system: accepted deliveries, how they ended, attempts, timeouts,
 * attempts cut off, and what the simulators counted), its timeline, the slowest deliveries' stories
 * and the gateways' warn/error lines. Gateway output goes to a file under the OS temp folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createRedis, type RedisClient } from '../../src/platform/redis';
import { startTestCluster, type TestCluster } from './redis-cluster';
import type { CaseView, DeliveryView } from '../../src/cases/model';
import { CaseStore } from '../../src/cases/store';
import { startSimulators, type FaultsPatch, type Simulators } from '../../sim/server';
import { READY_WAIT_MS } from '../support/gateway-process';
import { INTAKE_TOKEN, OPS_TOKEN, restSystem, sampleCase, writeConfig } from '../support/harness';
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The five systems every scenario delivers to, and the routes (two of them fan-outs) that reach them. */
export const SYSTEMS = ['city-alpha', 'prov-beta', 'prov-gamma', 'nat-delta', 'city-epsilon'] as const;
export type SystemId = (typeof SYSTEMS)[number];

const ROUTES: Array<{ itemCode: string; targets: SystemId[] }> = [
  { itemCode: '330800-FA-*', targets: ['city-alpha'] },
  { itemCode: '330800-FB-*', targets: ['prov-beta', 'nat-delta'] },
  { itemCode: '330800-FC-*', targets: ['prov-gamma', 'city-epsilon', 'city-alpha'] },
  { itemCode: '330800-FD-*', targets: ['nat-delta'] },
  { itemCode: '330800-FE-*', targets: ['city-epsilon', 'prov-beta'] },
];
const ITEM_CODES = ['330800-FA-001', '330800-FB-001', '330800-FC-001', '330800-FD-001', '330800-FE-001'];

/** Short enough for a scenario to settle in seconds, long enough to ride out a few seconds of trouble. */
export const RETRY = { attempts: 10, backoff: { type: 'exponential', delayMs: 50, maxDelayMs: 1000 } } as const;
export const TIMEOUT_MS = 1000;
const RESULT_TOKEN = 'fault-suite-result-token';

const FINAL = new Set(['delivered', 'completed', 'rejected', 'dead']);
const TERMINAL_EVENTS = new Set(['delivered', 'rejected', 'dead']);

// ---------------------------------------------------------------------------------------------
// Gateway processes

export class GatewayProcess {
  readonly url: string;
  private child?: ChildProcess;
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  starts = 0;
  private dataDir?: string;
  /** How long the last start took, from spawn to /readyz 200. */
  lastStartMs = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns `node dist/src/main.js` and waits until /readyz answers 200. */
  async start(): Promise<void> {
    const fd = fs.openSync(this.logFile, 'a');
    fs.writeSync(fd, `\n--- ${new Date().toISOString()} ${this.name}: start #${++this.starts}\n`);
    // Each process its own data folder: the embedded ledger (PGlite) serves one process only, and
    // these scenarios are about Redis and the legacy systems, not the ledger (test/ledger is).
    this.dataDir ??= fs.mkdtempSync(path.join(os.tmpdir(), `ow-faults-${this.name}-data-`));
    const child = spawn(process.execPath, [MAIN], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH, ...this.env, PORT: String(this.port), OW_DATA_DIR: this.dataDir } as NodeJS.ProcessEnv,
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const spawned = Date.now();
    const deadline = Date.now() + READY_WAIT_MS;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited during start-up; see ${this.logFile}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) {
          this.lastStartMs = Date.now() - spawned;
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${READY_WAIT_MS / 1000} s; see ${this.logFile}`);
      await sleep(100);
    }
  }

  /** `kill -9`: no shutdown hook runs, deliveries in flight are cut off where they stand. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    process.kill(this.child!.pid!, 'SIGKILL');
    await this.exit;
  }

  /** SIGTERM, as an operator stops it; SIGKILL when it does not exit within `graceMs`. */
  async stop(graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!this.running) return this.exit;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const result = await this.exit;
    clearTimeout(timer);
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// The intake platform

export interface SubmitOutcome {
  caseId: string;
  /** A 202 or 200 answer: the case counts as accepted. */
  accepted: boolean;
  status?: number;
  /** The systems the answer listed. */
  targets: string[];
  tries: number;
  lastError?: string;
}

export interface SubmitSummary {
  outcomes: SubmitOutcome[];
  /** Tries answered 503 or another 5xx. */
  unavailable: number;
  /** Tries that got no HTTP answer (refused, reset, timed out). */
  connectionErrors: number;
  /** 200 answers: a resubmission of a case the gateway already had. */
  resubmissions: number;
  /** How long each accepting answer took, in ms. */
  latencies: number[];
  ms: number;
}

/** Hands a case to the gateway as the intake platform would: the same case again until 202/200. */
async function submitOne(body: Record<string, unknown>, urls: () => string[], turn: number, giveUpAt: number, counters: SubmitSummary): Promise<SubmitOutcome> {
  const caseId = body.caseId as string;
  const json = JSON.stringify(body);
  let lastError: string | undefined;
  for (let tries = 1; ; tries++) {
    const list = urls();
    const url = list[(turn + tries - 1) % list.length]!;
    const sent = Date.now();
    try {
      const res = await fetch(`${url}/api/v1/cases`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE_TOKEN}` },
        body: json,
        signal: AbortSignal.timeout(10_000),
      });
      const answer = (await res.json().catch(() => undefined)) as { deliveries?: Array<{ systemId: string }>; error?: { code?: string } } | undefined;
      if (res.status === 202 || res.status === 200) {
        if (res.status === 200) counters.resubmissions++;
        counters.latencies.push(Date.now() - sent);
        return { caseId, accepted: true, status: res.status, targets: (answer?.deliveries ?? []).map((d) => d.systemId), tries };
      }
      if (res.status < 500) return { caseId, accepted: false, status: res.status, targets: [], tries, lastError: answer?.error?.code };
      counters.unavailable++;
      lastError = `HTTP ${res.status} ${answer?.error?.code ?? ''}`;
    } catch (err) {
      counters.connectionErrors++;
      lastError = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
    }
    if (Date.now() > giveUpAt) return { caseId, accepted: false, targets: [], tries, lastError };
    await sleep(100 + Math.random() * 150);
  }
}

// ---------------------------------------------------------------------------------------------
// The rig

export interface RigOptions {
  /** Short label for ids, files and the table, e.g. "a-kill9". */
  name: string;
  title: string;
  gateways?: number;
  /** Knobs every simulated system starts with. */
  simDefaults?: FaultsPatch;
  /** Extra environment of the gateway processes. */
  gatewayEnv?: Record<string, string>;
  /** A three-master Redis Cluster instead of one redis-server (`rig.cluster` is it). */
  cluster?: boolean;
}

export interface DeliveryOutcome {
  caseId: string;
  systemId: string;
  /** Status at the end, or "missing". */
  status: string;
  attempts: number;
  receiptNo?: string;
  /** delivered/rejected/dead entries in the history. */
  finals: number;
  /** Attempts that never recorded an outcome: cut off by a kill or an outage. */
  interrupted: number;
  /** Attempts the system did not answer within timeoutMs. */
  timeouts: number;
  /** From acceptance to the first final entry (delivered, rejected, dead, or a result). */
  msToFinal: number;
  /** The history, times relative to acceptance, for the slowest ones. */
  story: string;
  lastError?: string;
}

export interface SystemRow {
  systemId: string;
  deliveries: number;
  delivered: number;
  completed: number;
  rejected: number;
  dead: number;
  lost: number;
  attempts: number;
  interrupted: number;
  timeouts: number;
  simAccepted: number;
  simDuplicates: number;
  simFailed: number;
  simRefused: number;
}

export interface Report {
  name: string;
  title: string;
  submitted: number;
  accepted: number;
  notAccepted: SubmitOutcome[];
  submit: SubmitSummary;
  rows: SystemRow[];
  total: SystemRow;
  deliveries: DeliveryOutcome[];
  /** Contract breaches, each a line of evidence. */
  lost: string[];
  notExactlyOneFinal: string[];
  /**
   * Histories with an entry written twice, identical to the millisecond: one transition recorded
   * twice. Not a broken promise (the status is one, and a repeated case event carries the same eventId),
   * so reported rather than asserted.
   */
  recordedTwice: string[];
  /** The simulator holds a case the gateway did not record as delivered/completed. */
  phantom: string[];
  /** Delivered, but the simulator has no such case or another receipt number. */
  unconfirmed: string[];
  /**
   * Completed without a receipt number: the result came home before the acknowledgement was
   * recorded (the attempt timed out on the gateway's side after the system took the case), so the
   * delivery skipped `delivered` and the retry found it completed and sent nothing. Not a broken promise;
   * reported.
   */
  noReceipt: string[];
  /** Requests without the right Idempotency-Key. */
  badKeys: string[];
  /** Cases the simulators accepted that no accepted (case, system) accounts for. */
  strays: string[];
  settleMs: number;
  timeline: string[];
  simLog: string[];
  logFiles: string[];
  /** What the gateways' output files say: warn/error lines by message, and raw (non-JSON) output. */
  gatewayLog: string[];
  /** Gateway output lines carrying a token, the full ID number or the phone number (never allowed). */
  leaks: string[];
}

export class FaultRig {
  readonly t0 = Date.now();
  readonly timeline: string[] = [];
  readonly simLog: string[] = [];
  redis!: TestRedis;
  /** Set with `cluster: true`; then `redis` is the same cluster, stopped and started as a whole. */
  cluster?: TestCluster;
  sims!: Simulators;
  gateways: GatewayProcess[] = [];
  store!: CaseStore;
  private storeRedis!: RedisClient;
  configDir!: string;
  private readonly phases: Array<[string, number]> = [];

  private constructor(readonly options: RigOptions) {}

  static async start(options: RigOptions): Promise<FaultRig> {
    const rig = new FaultRig(options);
    try {
      await rig.setUp();
    } catch (err) {
      await rig.close().catch(() => {});
      throw err;
    }
    return rig;
  }

  /** Notes a moment of the scenario, relative to the rig's start, for the printed timeline. */
  note(what: string): void {
    this.timeline.push(`t+${((Date.now() - this.t0) / 1000).toFixed(1).padStart(5)}s  ${what}`);
  }

  /** Marks the end of a phase (set-up, load, settle) for the timing line. */
  phase(name: string): void {
    this.phases.push([name, Date.now()]);
  }

  timings(): string {
    let last = this.t0;
    const parts = this.phases.map(([name, at]) => {
      const s = `${name} ${((at - last) / 1000).toFixed(1)} s`;
      last = at;
      return s;
    });
    return `${parts.join(', ')}; total ${((Date.now() - this.t0) / 1000).toFixed(1)} s`;
  }

  private systemSpecs(endpoint: (id: string) => string) {
    return SYSTEMS.map((id) =>
      restSystem(id, endpoint(id), {
        level: id.startsWith('nat-') ? 'national' : id.startsWith('prov-') ? 'provincial' : 'city',
        timeoutMs: TIMEOUT_MS,
        concurrency: 8,
        rateLimit: { max: 1000, perMs: 1000 },
        retry: RETRY,
        circuitBreaker: { failureThreshold: 5, cooldownMs: 1000 },
        result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: RESULT_TOKEN },
      }),
    );
  }

  private async setUp(): Promise<void> {
    const { options } = this;
    if (options.cluster) this.redis = this.cluster = await startTestCluster();
    else this.redis = await startTestRedis();
    const routes = { routes: ROUTES, unrouted: 'reject' };
    // The simulators read only ids, dialects and result maps from the config: a placeholder endpoint
    // will do, and the gateway's copy then points at the port they got.
    const simDir = writeConfig(this.systemSpecs((id) => `http://127.0.0.1:9/sim/${id}/cases`), routes);
    this.sims = await startSimulators({
      configDir: simDir,
      port: 0,
      env: {},
      defaults: { latencyMs: 20, decisionDelayMs: 300, ...options.simDefaults },
      log: (line) => this.simLog.push(line),
    });
    this.configDir = writeConfig(this.systemSpecs((id) => `${this.sims.url}/sim/${id}/cases`), routes);

    const count = options.gateways ?? 1;
    for (let i = 1; i <= count; i++) {
      const port = await freePort();
      const logFile = path.join(os.tmpdir(), `ow-faults-${options.name}-gw${i}-${process.pid}.log`);
      fs.writeFileSync(logFile, '');
      this.gateways.push(
        new GatewayProcess(`gw${i}`, port, {
          OW_CONFIG_DIR: this.configDir,
          REDIS_URL: this.redis.url,
          OW_INTAKE_TOKEN: INTAKE_TOKEN,
          OW_OPS_TOKEN: OPS_TOKEN,
          LOG_LEVEL: 'warn',
          // A job handed out just as Redis goes away (a killed worker, a restarted master whose reply
          // to the fetch was lost) sits "active" under a lock nobody renews until the lock lapses and
          // a stalled check, run every interval, puts it back: up to a lock plus two intervals.
          // BullMQ's 30 s each would be 90 s, the whole settle deadline; 4 s makes it about 12 s.
          OW_STALLED_INTERVAL_MS: '4000',
          ...options.gatewayEnv,
        }, logFile),
      );
    }
    await Promise.all(this.gateways.map((g) => g.start()));
    // Results go home to the last gateway: scenario (a) kills the first one.
    this.sims.setGatewayUrl(this.gateways[this.gateways.length - 1]!.url);
    // city-alpha refuses a few cases for good, so every scenario also shows the rejected path.
    this.sims.setFaults('city-alpha', { rejectRate: 0.03 });
    this.storeRedis = this.cluster ? createRedis(this.cluster.url, 'worker') : new Redis(this.redis.url, { maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(n * 100, 1000) });
    this.storeRedis.on('error', () => {}); // scenario (b) restarts Redis under it
    this.store = new CaseStore(this.storeRedis, { prefix: 'ow' });
    this.note(`set up: redis ${this.redis.url}, simulators ${this.sims.url}, gateways ${this.gateways.map((g) => `${g.name} pid ${g.pid} ${g.url}`).join(', ')}`);
    this.phase('set-up');
  }

  /** `n` cases spread over the five item codes (so over the routes and their fan-outs). */
  cases(n: number, first = 0): Array<Record<string, unknown>> {
    return Array.from({ length: n }, (_, k) => {
      const i = first + k;
      return sampleCase({
        caseId: `FI-${this.options.name}-${String(i).padStart(5, '0')}`,
        itemCode: ITEM_CODES[i % ITEM_CODES.length],
        applicant: { kind: 'person', name: `申请人${i}`, idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000', address: '衢州市柯城区' },
      });
    });
  }

  /** A poison case: the simulators refuse it as "busy, retry later" every time (its applicant name). */
  poisonCase(itemCode = '330800-FB-001'): Record<string, unknown> {
    return sampleCase({
      caseId: `FI-${this.options.name}-POISON`,
      itemCode,
      applicant: { kind: 'person', name: '毒丸 SIM-RETRY', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000', address: '衢州市柯城区' },
    });
  }

  /** Gateways to send to: the running ones (the intake platform's load balancer), else all. */
  liveUrls(): string[] {
    const live = this.gateways.filter((g) => g.running).map((g) => g.url);
    return live.length > 0 ? live : this.gateways.map((g) => g.url);
  }

  /** Submits every case with `concurrency` in flight; `onAccepted` is told the running count. */
  async submit(cases: Array<Record<string, unknown>>, opts: { concurrency?: number; giveUpMs?: number; onAccepted?: (n: number) => void } = {}): Promise<SubmitSummary> {
    const started = Date.now();
    const summary: SubmitSummary = { outcomes: new Array(cases.length), unavailable: 0, connectionErrors: 0, resubmissions: 0, latencies: [], ms: 0 };
    const giveUpAt = started + (opts.giveUpMs ?? 90_000);
    let next = 0;
    let accepted = 0;
    const lane = async () => {
      for (;;) {
        const i = next++;
        if (i >= cases.length) return;
        const outcome = await submitOne(cases[i]!, () => this.liveUrls(), i, giveUpAt, summary);
        summary.outcomes[i] = outcome;
        if (outcome.accepted) opts.onAccepted?.(++accepted);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, lane));
    summary.ms = Date.now() - started;
    return summary;
  }

  /** Cases the simulators have accepted so far, over every system. */
  simAccepted(): number {
    return Object.values(this.sims.stats()).reduce((n, s) => n + s.accepted, 0);
  }

  async until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await sleep(50);
    }
  }

  /**
   * Waits until every accepted (case, system) is final (delivered, completed, rejected, dead), then a
   * little longer for delivered ones to be completed by their pushed result, or until the deadline.
   * Reads the case store directly, so a struggling gateway cannot slow the polling down.
   */
  async settle(summary: SubmitSummary, deadlineMs = 90_000, completionGraceMs = 3000): Promise<number> {
    const started = Date.now();
    const pending = new Map<string, { caseId: string; systemId: string }>();
    for (const o of summary.outcomes) if (o?.accepted) for (const systemId of o.targets) pending.set(`${o.caseId}|${systemId}`, { caseId: o.caseId, systemId });
    let allFinalAt: number | undefined;
    let delivered = new Set<string>();
    let lastProgress = { at: started, notFinal: Number.POSITIVE_INFINITY };
    let snapshots = 0;
    for (;;) {
      const now = Date.now();
      try {
        const keys = [...pending.keys()];
        const statuses = await Promise.all(keys.map((k) => this.store.deliveryStatus(pending.get(k)!.caseId, pending.get(k)!.systemId)));
        delivered = new Set();
        keys.forEach((k, i) => {
          const s = statuses[i];
          if (s === 'completed' || s === 'rejected' || s === 'dead') pending.delete(k);
          else if (s === 'delivered') delivered.add(k);
        });
      } catch {
        // Redis away for a moment (scenario b): look again
      }
      const notFinal = pending.size - delivered.size;
      if (notFinal < lastProgress.notFinal) lastProgress = { at: now, notFinal };
      else if (now - lastProgress.at > 5000 && snapshots < 3) {
        // Nothing moved for 5 s: say where the waiting deliveries' jobs are.
        snapshots++;
        lastProgress = { at: now, notFinal };
        this.note(`no progress for 5 s, ${notFinal} deliveries not final; queues: ${await this.queueSnapshot().catch((e: Error) => e.message)}`);
      }
      if (notFinal === 0) {
        allFinalAt ??= now;
        if (delivered.size === 0 || now - allFinalAt >= completionGraceMs) break;
      }
      if (now - started > deadlineMs) break;
      await sleep(250);
    }
    this.note(allFinalAt ? 'every accepted delivery final' : `settle deadline passed with ${pending.size - delivered.size} deliveries not final`);
    this.phase('settle');
    return Date.now() - started;
  }

  /**
   * Where each system's jobs are in BullMQ: waiting, delayed, active — and how many of the active
   * ones hold no lock (no live worker is on them: they wait for the stalled-job check).
   */
  async queueSnapshot(): Promise<string> {
    const parts: string[] = [];
    for (const id of SYSTEMS) {
      const q = `ow:bull:{delivery-${id}}`;
      const active = await this.storeRedis.lrange(`${q}:active`, 0, -1);
      const ttls = await Promise.all(active.map((j) => this.storeRedis.pttl(`${q}:${j}:lock`)));
      const unlocked = active.filter((_, i) => ttls[i]! < 0);
      const locked = active.map((j, i) => `${j} lock ${ttls[i]} ms`).filter((_, i) => ttls[i]! >= 0);
      const wait = await this.storeRedis.llen(`${q}:wait`);
      const delayed = await this.storeRedis.zcard(`${q}:delayed`);
      const prioritized = await this.storeRedis.zcard(`${q}:prioritized`);
      if (active.length + wait + delayed + prioritized === 0) continue;
      const some = (xs: string[]) => (xs.length > 0 ? `: ${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ' …' : ''}` : '');
      parts.push(`${id} wait ${wait + prioritized}, delayed ${delayed}, active ${active.length} (locked ${locked.length}${some(locked)}; without a lock ${unlocked.length}${some(unlocked)})`);
    }
    return parts.join('; ') || 'all empty';
  }

  /**
   * The end of every scenario: the load is in, every delivery settles, the report is read, printed
   * and held to the contract's promises. Answers the load's summary and the report, for the scenario's own checks.
   */
  async finish(submitting: Promise<SubmitSummary>, cases: number): Promise<{ summary: SubmitSummary; report: Report }> {
    const summary = await submitting;
    this.note(`all ${cases} cases submitted`);
    this.phase('load');
    const report = await this.report(summary, await this.settle(summary));
    console.log(formatReport(report, this.timings()));
    expectPromisesKept(report, cases);
    return { summary, report };
  }

  /** Reads every accepted case through the status API (as the intake platform would) and checks the promises (see docs/design.md). */
  async report(summary: SubmitSummary, settleMs: number): Promise<Report> {
    const accepted = summary.outcomes.filter((o) => o?.accepted);
    const url = this.liveUrls()[0]!;
    const views = new Map<string, CaseView | undefined>();
    let cursor = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (;;) {
          const o = accepted[cursor++];
          if (!o) return;
          views.set(o.caseId, await this.view(url, o.caseId));
        }
      }),
    );

    const deliveries: DeliveryOutcome[] = [];
    const lost: string[] = [];
    const notExactlyOneFinal: string[] = [];
    const recordedTwice: string[] = [];
    for (const o of accepted) {
      const view = views.get(o.caseId);
      for (const systemId of o.targets) {
        const d: DeliveryView | undefined = view?.deliveries.find((x) => x.systemId === systemId);
        const history = d?.history ?? [];
        // An entry written twice with the same time and words is one transition recorded twice
        // (a store script that ran, lost its reply to a dropped connection, and was sent again).
        const repeated = history.filter((h, i) => history.findIndex((x) => JSON.stringify(x) === JSON.stringify(h)) !== i);
        const unique = history.filter((h, i) => history.findIndex((x) => JSON.stringify(x) === JSON.stringify(h)) === i);
        const events = unique.map((h) => h.event);
        const outcome: DeliveryOutcome = {
          caseId: o.caseId,
          systemId,
          status: d?.status ?? 'missing',
          attempts: d?.attempts ?? 0,
          receiptNo: d?.receiptNo,
          finals: events.filter((e) => TERMINAL_EVENTS.has(e)).length,
          interrupted: interruptedAttempts(events),
          timeouts: d?.history.filter((h) => h.event === 'retry_scheduled' && /did not answer within/.test(h.detail ?? '')).length ?? 0,
          msToFinal: msToFinal(view?.acceptedAt, history),
          story: history.map((h) => `${h.event}+${view ? ((Date.parse(h.at) - Date.parse(view.acceptedAt)) / 1000).toFixed(1) : '?'}s`).join(' '),
          lastError: d?.lastError,
        };
        deliveries.push(outcome);
        if (!FINAL.has(outcome.status)) lost.push(`${o.caseId} → ${systemId}: ${outcome.status} after ${outcome.attempts} attempts (${events.join(' ')})${outcome.lastError ? `; lastError: ${outcome.lastError}` : ''}`);
        else if (!oneFinalState(outcome.status, events)) {
          notExactlyOneFinal.push(`${o.caseId} → ${systemId}: ${outcome.status}; history ${history.map((h) => `${h.event}@${h.at.slice(11, 23)}`).join(' ')}`);
        }
        if (repeated.length > 0) {
          recordedTwice.push(
            `${o.caseId} → ${systemId}: ${outcome.status}; history ${history.map((h) => `${h.event}@${h.at.slice(11, 23)}`).join(' ')}; repeated: ${repeated.map((h) => JSON.stringify(h)).join(', ')}`,
          );
        }
      }
    }

    // What the simulators hold, per system: caseId → receipt numbers they accepted it under.
    const phantom: string[] = [];
    const unconfirmed: string[] = [];
    const noReceipt: string[] = [];
    const badKeys: string[] = [];
    const strays: string[] = [];
    const stats = this.sims.stats();
    const rows: SystemRow[] = [];
    for (const systemId of SYSTEMS) {
      const held = new Map<string, string[]>();
      for (const r of this.sims.results(systemId)) held.set(r.caseId ?? `?${r.receiptNo}`, [...(held.get(r.caseId ?? `?${r.receiptNo}`) ?? []), r.receiptNo]);
      const mine = deliveries.filter((d) => d.systemId === systemId);
      const expected = new Set(mine.map((d) => d.caseId));
      for (const d of mine) {
        const receipts = held.get(d.caseId) ?? [];
        if (d.status === 'delivered' || d.status === 'completed') {
          if (d.receiptNo === undefined && d.status === 'completed' && receipts.length === 1) {
            noReceipt.push(`${d.caseId} → ${systemId}: completed with no receiptNo; the system accepted it as ${receipts[0]}`);
          } else if (receipts.length !== 1 || receipts[0] !== d.receiptNo) unconfirmed.push(`${d.caseId} → ${systemId}: gateway says ${d.status} receipt ${d.receiptNo}; simulator accepted it ${receipts.length}× (${receipts.join(', ')})`);
        } else if (receipts.length > 0) {
          phantom.push(`${d.caseId} → ${systemId}: gateway says ${d.status} after ${d.attempts} attempts (${d.lastError ?? ''}); the simulator accepted it as ${receipts.join(', ')}`);
        }
      }
      for (const caseId of held.keys()) if (!expected.has(caseId)) strays.push(`${systemId} holds ${caseId}, which no accepted delivery accounts for`);
      for (const r of this.sims.requests(systemId)) {
        const bizNo = (r.body as { bizNo?: string } | undefined)?.bizNo;
        if (r.idempotencyKey !== `${bizNo}:${systemId}`) badKeys.push(`${systemId} got bizNo ${bizNo} with Idempotency-Key ${r.idempotencyKey ?? '(none)'}`);
      }
      const s = stats[systemId]!;
      rows.push({
        systemId,
        deliveries: mine.length,
        delivered: mine.filter((d) => d.status === 'delivered').length,
        completed: mine.filter((d) => d.status === 'completed').length,
        rejected: mine.filter((d) => d.status === 'rejected').length,
        dead: mine.filter((d) => d.status === 'dead').length,
        lost: mine.filter((d) => !FINAL.has(d.status)).length,
        attempts: mine.reduce((n, d) => n + d.attempts, 0),
        interrupted: mine.reduce((n, d) => n + d.interrupted, 0),
        timeouts: mine.reduce((n, d) => n + d.timeouts, 0),
        simAccepted: s.accepted,
        simDuplicates: s.duplicates,
        simFailed: s.failed,
        simRefused: s.rejected,
      });
    }
    const total = rows.reduce<SystemRow>(
      (t, r) => {
        for (const k of Object.keys(t) as Array<keyof SystemRow>) if (k !== 'systemId') (t[k] as number) += r[k] as number;
        return t;
      },
      { systemId: 'TOTAL', deliveries: 0, delivered: 0, completed: 0, rejected: 0, dead: 0, lost: 0, attempts: 0, interrupted: 0, timeouts: 0, simAccepted: 0, simDuplicates: 0, simFailed: 0, simRefused: 0 },
    );

    return {
      name: this.options.name,
      title: this.options.title,
      submitted: summary.outcomes.length,
      accepted: accepted.length,
      notAccepted: summary.outcomes.filter((o) => !o?.accepted),
      submit: summary,
      rows,
      total,
      deliveries,
      lost,
      notExactlyOneFinal,
      recordedTwice,
      phantom,
      unconfirmed,
      noReceipt,
      badKeys,
      strays,
      settleMs,
      timeline: this.timeline,
      simLog: this.simLog,
      logFiles: this.gateways.map((g) => g.logFile),
      gatewayLog: this.gateways.flatMap((g) => summarizeLog(g.name, g.logFile)),
      leaks: this.gateways.flatMap((g) => leaksIn(g.name, g.logFile)),
    };
  }

  private async view(url: string, caseId: string): Promise<CaseView | undefined> {
    for (let tries = 0; tries < 20; tries++) {
      try {
        const res = await fetch(`${url}/api/v1/cases/${caseId}`, { headers: { Authorization: `Bearer ${INTAKE_TOKEN}` }, signal: AbortSignal.timeout(5000) });
        if (res.status === 404) return undefined;
        if (res.status === 200) return (await res.json()) as CaseView;
      } catch {
        // try again
      }
      await sleep(200);
    }
    throw new Error(`GET /api/v1/cases/${caseId} kept failing on ${url}`);
  }

  async close(): Promise<void> {
    const exits = await Promise.all(this.gateways.map(async (g) => [g, await g.stop()] as const));
    for (const [g, exit] of exits) {
      if (exit && exit.code !== 0) console.warn(`${this.options.name}: ${g.name} exited with ${exit.code ?? exit.signal} on SIGTERM; see ${g.logFile}`);
    }
    this.storeRedis?.disconnect();
    await this.sims?.close();
    await this.redis?.stop();
  }
}

function msToFinal(acceptedAt: string | undefined, history: Array<{ at: string; event: string }>): number {
  const final = history.find((h) => TERMINAL_EVENTS.has(h.event) || h.event === 'result');
  return acceptedAt && final ? Date.parse(final.at) - Date.parse(acceptedAt) : Number.NaN;
}

/**
 * Whether a history reached exactly one final state, and the one its status shows: one delivered,
 * rejected or dead entry (a delivered one may then be completed by its result), or none at all when
 * the result came home before the acknowledgement was recorded (the attempt that carried the case
 * timed out on the gateway's side, and the retry found the delivery completed).
 */
function oneFinalState(status: string, events: string[]): boolean {
  const finals = events.filter((e) => TERMINAL_EVENTS.has(e));
  if (finals.length === 0) return status === 'completed' && events.includes('result');
  if (finals.length > 1) return false;
  const allowed: Record<string, string[]> = { delivered: ['delivered', 'completed'], rejected: ['rejected'], dead: ['dead'] };
  return allowed[finals[0]!]!.includes(status);
}

/**
 * Attempts whose outcome was never recorded (the process died, or lost Redis, mid-delivery): followed
 * by another attempt, or by nothing but a result (the job, handed out again, found the delivery
 * completed by the system's result and sent nothing).
 */
function interruptedAttempts(events: string[]): number {
  const closing = new Set(['delivered', 'rejected', 'dead', 'retry_scheduled', 'throttled']);
  let n = 0;
  let open = false;
  for (const e of events) {
    if (e === 'attempt') {
      if (open) n++;
      open = true;
    } else if (closing.has(e)) {
      open = false;
    }
  }
  return open ? n + 1 : n;
}

/** The secrets and personal numbers the cases and configs carry, which no log line may show. */
const SECRETS = [INTAKE_TOKEN, OPS_TOKEN, RESULT_TOKEN, '330802199001011234', '13800000000'];

function leaksIn(name: string, file: string): string[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text
    .split('\n')
    .filter((line) => SECRETS.some((secret) => line.includes(secret)))
    .map((line) => `${name}: ${line.slice(0, 200)}`);
}

/**
 * What a gateway's output says, by message: warn and error lines (pino levels 40 and 50+) counted
 * with one example each, and anything that is not a JSON log line at all (a raw stack trace).
 */
function summarizeLog(name: string, file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, { n: number; example: string }>();
  const count = (key: string, example: string) => {
    const seen = counts.get(key);
    counts.set(key, { n: (seen?.n ?? 0) + 1, example: seen?.example ?? example });
  };
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('--- ')) continue;
    if (!line.startsWith('{')) {
      // A raw block (e.g. a printed error with its stack) counts once, by its first line.
      if (!/^\s/.test(line) && line !== '}') count(`raw output, not a JSON log line: ${line.trim().slice(0, 120)}`, '');
      continue;
    }
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      const level = entry.level ?? 0;
      if (level < 40) continue;
      count(`${level >= 50 ? 'ERROR' : 'warn'} ${entry.msg ?? '(no msg)'}`, level >= 50 ? line.slice(0, 260) : '');
    } catch {
      count('a JSON log line cut short (kill -9)', '');
    }
  }
  return [...counts].map(([msg, { n, example }]) => `${name}: ${String(n).padStart(4)}× ${msg}${example ? `\n          e.g. ${example}` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// The table

const COLUMNS: Array<[keyof SystemRow, string]> = [
  ['systemId', 'system'],
  ['deliveries', 'accepted'],
  ['delivered', 'delivered'],
  ['completed', 'completed'],
  ['rejected', 'rejected'],
  ['dead', 'dead'],
  ['lost', 'lost'],
  ['attempts', 'attempts'],
  ['timeouts', 'timeouts'],
  ['interrupted', 'cut off'],
  ['simAccepted', 'sim acc'],
  ['simDuplicates', 'sim dup'],
  ['simFailed', 'sim fail'],
  ['simRefused', 'sim refused'],
];

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export function formatReport(r: Report, timings: string): string {
  const widths = COLUMNS.map(([key, label]) => Math.max(label.length, ...[...r.rows, r.total].map((row) => String(row[key]).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out: string[] = [];
  out.push(`== fault scenario ${r.title}`);
  out.push(
    `cases: ${r.submitted} submitted, ${r.accepted} accepted (${r.submit.resubmissions} of them on a resubmission: 200), ` +
      `${r.submit.unavailable} tries answered 5xx, ${r.submit.connectionErrors} tries without an answer; submitting took ${(r.submit.ms / 1000).toFixed(1)} s ` +
      `(accepting answers p50 ${percentile(r.submit.latencies, 0.5)} ms, p99 ${percentile(r.submit.latencies, 0.99)} ms, max ${percentile(r.submit.latencies, 1)} ms)`,
  );
  out.push(line(COLUMNS.map(([, label]) => label)));
  out.push(rule);
  for (const row of r.rows) out.push(line(COLUMNS.map(([key]) => String(row[key]))));
  out.push(rule);
  out.push(line(COLUMNS.map(([key]) => String(r.total[key]))));
  out.push(
    `checks: lost ${r.lost.length}, not exactly one final state ${r.notExactlyOneFinal.length} (an entry recorded twice: ${r.recordedTwice.length}), delivered but not held once by the system ${r.unconfirmed.length}, ` +
      `held by the system but not delivered ${r.phantom.length}, strays ${r.strays.length}, requests without the right Idempotency-Key ${r.badKeys.length}, ` +
      `secrets in the gateway output ${r.leaks.length}`,
  );
  const toFinal = r.deliveries.map((d) => d.msToFinal).filter((ms) => Number.isFinite(ms));
  out.push(`from acceptance to a final state: p50 ${percentile(toFinal, 0.5)} ms, p99 ${percentile(toFinal, 0.99)} ms, max ${percentile(toFinal, 1)} ms; slowest:`);
  for (const d of [...r.deliveries].filter((x) => Number.isFinite(x.msToFinal)).sort((a, b) => b.msToFinal - a.msToFinal).slice(0, 3)) {
    out.push(`  ${d.caseId} → ${d.systemId}: ${d.story}`);
  }
  out.push(`time: ${timings} (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs)`);
  out.push('timeline:');
  for (const t of r.timeline) out.push(`  ${t}`);
  const evidence = (label: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push(`${label} (${lines.length}):`);
    for (const l of lines.slice(0, 8)) out.push(`  ${l}`);
    if (lines.length > 8) out.push(`  … ${lines.length - 8} more`);
  };
  evidence('LOST', r.lost);
  evidence('NOT EXACTLY ONE FINAL STATE', r.notExactlyOneFinal);
  evidence('the same history entry recorded twice (a store script re-sent after a reconnect)', r.recordedTwice);
  evidence('DELIVERED BUT NOT HELD ONCE BY THE SYSTEM', r.unconfirmed);
  evidence('HELD BY THE SYSTEM BUT NOT DELIVERED', r.phantom);
  evidence('STRAYS', r.strays);
  evidence('completed without a receipt number (result before acknowledgement)', r.noReceipt);
  evidence('BAD IDEMPOTENCY KEYS', r.badKeys);
  evidence('SECRETS OR PERSONAL NUMBERS IN THE GATEWAY OUTPUT', r.leaks);
  evidence('NOT ACCEPTED', r.notAccepted.map((o) => `${o?.caseId}: ${o?.status ?? ''} ${o?.lastError ?? ''} after ${o?.tries} tries`));
  if (r.gatewayLog.length > 0) out.push(`gateway log, warn and above:\n  ${r.gatewayLog.join('\n  ')}`);
  evidence('simulator log', r.simLog);
  out.push(`gateway output: ${r.logFiles.join(', ')}`);
  return out.join('\n');
}

/** At most a few lines of evidence next to the count, so that a failure reads at a glance. */
function breaches(lines: string[]): { count: number; examples: string[] } {
  return { count: lines.length, examples: lines.slice(0, 5) };
}
const none = { count: 0, examples: [] };

/** The promises every scenario must keep (docs/design.md, "Promises, and how they are kept"). */
export function expectPromisesKept(r: Report, cases: number): void {
  expect(breaches(r.notAccepted.map((o) => `${o?.caseId} ${o?.status ?? ''} ${o?.lastError ?? ''}`))).toEqual(none);
  expect(r.accepted).toBeGreaterThanOrEqual(cases);
  expect(r.total.deliveries).toBeGreaterThan(r.accepted);
  expect({ lost: breaches(r.lost) }).toEqual({ lost: none });
  expect({ notExactlyOneFinal: breaches(r.notExactlyOneFinal) }).toEqual({ notExactlyOneFinal: none });
  expect({ unconfirmed: breaches(r.unconfirmed) }).toEqual({ unconfirmed: none });
  expect({ phantom: breaches(r.phantom) }).toEqual({ phantom: none });
  expect({ strays: breaches(r.strays) }).toEqual({ strays: none });
  expect({ badKeys: breaches(r.badKeys) }).toEqual({ badKeys: none });
  expect({ leaks: breaches(r.leaks) }).toEqual({ leaks: none });
  // Each system accepted each delivered case exactly once: its count of accepted cases is theirs.
  for (const row of r.rows) expect({ system: row.systemId, accepted: row.simAccepted }).toEqual({ system: row.systemId, accepted: row.delivered + row.completed });
}
