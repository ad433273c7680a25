/**
 * OW_ROLE on many processes: one `api` and two `worker` processes of the built gateway
 * (`node dist/src/main.js`) on one real Redis and one real PostgreSQL ledger, against a real legacy
 * HTTP server on port 0 that measures what reaches it. Per-system concurrency and rate limits hold in
 * total across the workers, the api sends nothing, a worker killed with SIGKILL mid-delivery has its
 * jobs finished by the other, each delivery is answered once (counted by Idempotency-Key), and a
 * worker's HTTP port answers only the probes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Redis } from 'ioredis';
import { startTestPostgres, type TestPostgres } from '../ledger/postgres';
import { caseView, eventually, INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, sampleCase, submit, writeConfig } from '../support/harness';
import { MAIN, READY_WAIT_MS, spawnGateway, stopGateway, untilReady, type GatewayProcess } from '../support/gateway-process';

// A database of its own on the run's Redis: main.ts always uses the key prefix "ow", which other
// process tests use on database 0 at the same time.
const REDIS_DB = 9;
const STALLED_MS = 2000;
const CONC = { concurrency: 2, holdMs: 150, cases: 12 };
const RATE = { max: 4, perMs: 1000, cases: 12 };
const KILL = { concurrency: 6, cases: 6 };

// ---------------------------------------------------------------------------------------------
// Which process holds a TCP connection: the kernel's socket table and each process's open files.

/** The inode of the loopback connection from local port `port` to `peerPort`, from /proc/net/tcp{,6}. */
function socketInode(port: number, peerPort: number): string | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = parseInt(fields[1]!.split(':').pop()!, 16);
      const remote = parseInt(fields[2]!.split(':').pop()!, 16);
      if (local === port && remote === peerPort) return fields[9];
    }
  }
  return undefined;
}

function ownerOf(inode: string, pids: number[]): number | undefined {
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The legacy system: three endpoints, each a system of its own, with everything counted.

interface Arrival {
  system: string;
  key: string;
  at: number;
  /** The gateway process that sent it (looked up while its connection is open). */
  pid?: number;
  answered: boolean;
  aborted: boolean;
}

interface Legacy {
  url: string;
  arrivals: Arrival[];
  inFlight: Map<string, number>;
  maxInFlight: Map<string, number>;
  /** While true, /kill requests get no answer until release(). */
  holding: boolean;
  release(): void;
  close(): Promise<void>;
}

async function startLegacy(pids: () => number[]): Promise<Legacy> {
  const held: Array<() => void> = [];
  const legacy: Legacy = {
    url: '',
    arrivals: [],
    inFlight: new Map(),
    maxInFlight: new Map(),
    holding: true,
    release: () => {
      legacy.holding = false;
      for (const answer of held.splice(0)) answer();
    },
    close: async () => undefined,
  };
  let port = 0;
  const server = http.createServer((req, res) => {
    const system = (req.url ?? '/').split('/')[1] ?? '';
    const inode = socketInode(req.socket.remotePort ?? 0, port);
    const arrival: Arrival = { system, key: String(req.headers['idempotency-key'] ?? ''), at: Date.now(), pid: inode ? ownerOf(inode, pids()) : undefined, answered: false, aborted: false };
    legacy.arrivals.push(arrival);
    const n = (legacy.inFlight.get(system) ?? 0) + 1;
    legacy.inFlight.set(system, n);
    legacy.maxInFlight.set(system, Math.max(n, legacy.maxInFlight.get(system) ?? 0));
    let done = false;
    const leave = () => {
      if (done) return;
      done = true;
      legacy.inFlight.set(system, legacy.inFlight.get(system)! - 1);
    };
    // A connection cut before the answer went out: the sender died mid-delivery.
    res.on('close', () => {
      if (!res.writableFinished) arrival.aborted = true;
      leave();
    });
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: '0', msg: '成功', data: { slbh: `SL-${arrival.key}` } }), () => {
        arrival.answered = true;
        leave();
      });
    };
    req.resume();
    req.on('end', () => {
      if (system === 'conc') setTimeout(answer, CONC.holdMs);
      else if (system === 'kill' && legacy.holding) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  legacy.url = `http://127.0.0.1:${port}`;
  legacy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return legacy;
}

// ---------------------------------------------------------------------------------------------
// Gateway processes

/** The largest number of arrivals within any `windowMs` (a sliding window over arrival times). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

// ---------------------------------------------------------------------------------------------

describe('OW_ROLE: one api and two worker processes on one Redis', () => {
  let pg: TestPostgres;
  let legacy: Legacy;
  let api: GatewayProcess;
  let workers: GatewayProcess[] = [];
  const all = (): GatewayProcess[] => [api, ...workers].filter(Boolean);

  beforeAll(async () => {
    const flush = new Redis(`${redisUrl()}/${REDIS_DB}`);
    await flush.flushdb();
    flush.disconnect();
    pg = await startTestPostgres();
    legacy = await startLegacy(() => all().map((p) => p.child.pid!));
    const retry = { attempts: 3, backoff: { type: 'fixed', delayMs: 200 } };
    const configDir = writeConfig(
      [
        restSystem('city-conc', `${legacy.url}/conc`, { concurrency: CONC.concurrency, rateLimit: { max: 1000, perMs: 1000 }, retry }),
        restSystem('city-rate', `${legacy.url}/rate`, { concurrency: 8, rateLimit: { max: RATE.max, perMs: RATE.perMs }, retry }),
        restSystem('city-kill', `${legacy.url}/kill`, { concurrency: KILL.concurrency, rateLimit: { max: 1000, perMs: 1000 }, timeoutMs: 20_000, retry }),
      ],
      {
        routes: [
          { itemCode: 'RC-*', targets: ['city-conc'] },
          { itemCode: 'RR-*', targets: ['city-rate'] },
          { itemCode: 'RK-*', targets: ['city-kill'] },
        ],
      },
    );
    const env = {
      OW_CONFIG_DIR: configDir,
      REDIS_URL: `${redisUrl()}/${REDIS_DB}`,
      DATABASE_URL: await pg.database(),
      OW_INTAKE_TOKEN: INTAKE_TOKEN,
      OW_OPS_TOKEN: OPS_TOKEN,
      OW_STALLED_INTERVAL_MS: String(STALLED_MS),
      OW_SHUTDOWN_GRACE_MS: '1000',
    };
    // The api first: it applies the ledger's migrations, so the workers find them done.
    api = await spawnGateway('api', { ...env, OW_ROLE: 'api' });
    await untilReady(api);
    workers = await Promise.all([spawnGateway('worker-1', { ...env, OW_ROLE: 'worker' }), spawnGateway('worker-2', { ...env, OW_ROLE: 'worker' })]);
    await Promise.all(workers.map((w) => untilReady(w)));
  }, 2 * READY_WAIT_MS + 30_000);

  afterAll(async () => {
    await Promise.all(all().map((p) => stopGateway(p)));
    await legacy?.close();
    await pg?.destroy();
  });

  it("when cases pour in, then the systems' concurrency and rate limits hold in total, and only workers send", async () => {
    const cases = [
      ...Array.from({ length: CONC.cases }, (_, i) => sampleCase({ caseId: `RC-${i}`, itemCode: 'RC-001' })),
      ...Array.from({ length: RATE.cases }, (_, i) => sampleCase({ caseId: `RR-${i}`, itemCode: 'RR-001' })),
    ];
    const answers = await Promise.all(cases.map((c) => submit(api, c)));
    expect(answers.map((a) => a.status)).toEqual(cases.map(() => 202));
    await eventually(async () => {
      for (const c of cases) expect((await caseView(api, c.caseId as string)).body.deliveries[0].status).toBe('delivered');
    }, 30_000);

    const conc = legacy.arrivals.filter((a) => a.system === 'conc');
    const rate = legacy.arrivals.filter((a) => a.system === 'rate');
    expect(conc).toHaveLength(CONC.cases);
    expect(rate).toHaveLength(RATE.cases);
    // Each worker process alone would allow `concurrency` in flight: two would reach twice that.
    expect(legacy.maxInFlight.get('conc')).toBe(CONC.concurrency);
    // BullMQ's limiter is a fixed window shared in Redis: at most 2 × max − 1 in any sliding window
    // (one more allowed for the network between the limiter and this server), and 12 cases at 4 a
    // second take at least two windows after the first.
    expect(busiestWindow(rate.map((a) => a.at), RATE.perMs)).toBeLessThanOrEqual(2 * RATE.max);
    const span = Math.max(...rate.map((a) => a.at)) - Math.min(...rate.map((a) => a.at));
    expect(span).toBeGreaterThanOrEqual((RATE.cases / RATE.max - 1) * RATE.perMs - 200);
    // Both workers took part, the api sent nothing.
    const senders = new Set([...conc, ...rate].map((a) => a.pid));
    expect([...senders].every((pid) => workers.some((w) => w.child.pid === pid))).toBe(true);
    expect(senders.size).toBe(2);
  }, 45_000);

  it("when a worker is killed mid-delivery, then the other finishes its jobs, and each delivery is answered once", async () => {
    const cases = Array.from({ length: KILL.cases }, (_, i) => sampleCase({ caseId: `RK-${i}`, itemCode: 'RK-001' }));
    const answers = await Promise.all(cases.map((c) => submit(api, c)));
    expect(answers.map((a) => a.status)).toEqual(cases.map(() => 202));
    // Every delivery is at the legacy system, unanswered.
    await eventually(async () => expect(legacy.inFlight.get('kill')).toBe(KILL.cases), 15_000);
    const held = legacy.arrivals.filter((a) => a.system === 'kill');
    const byWorker = workers.map((w) => held.filter((a) => a.pid === w.child.pid).length);
    expect(byWorker.reduce((a, b) => a + b, 0)).toBe(KILL.cases);
    const victim = workers[byWorker[0]! >= byWorker[1]! ? 0 : 1]!;
    const survivor = workers.find((w) => w !== victim)!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    legacy.release();

    await eventually(async () => {
      for (const c of cases) expect((await caseView(api, c.caseId as string)).body.deliveries[0].status).toBe('delivered');
    }, 30_000);
    const kill = legacy.arrivals.filter((a) => a.system === 'kill');
    const cutOff = kill.filter((a) => a.aborted);
    expect(cutOff.length).toBe(Math.max(...byWorker));
    // What the victim held was sent again, by the survivor, under the same Idempotency-Key.
    for (const a of cutOff) expect(kill.some((b) => b.key === a.key && b.answered && b.pid === survivor.child.pid)).toBe(true);

    // Across the whole run: every delivery answered exactly once, keys as the contract says.
    const answered = new Map<string, number>();
    for (const a of legacy.arrivals.filter((x) => x.answered)) answered.set(a.key, (answered.get(a.key) ?? 0) + 1);
    expect(answered.size).toBe(CONC.cases + RATE.cases + KILL.cases);
    expect([...answered.values()].every((n) => n === 1)).toBe(true);
    expect([...answered.keys()].every((k) => /^R[CRK]-\d+:city-(conc|rate|kill)$/.test(k))).toBe(true);
  }, 60_000);

  it("when asked for anything but the probes, then a worker's port answers 404 in the contract's shape", async () => {
    const worker = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    for (const [method, p] of [
      ['GET', '/api/v1/cases/RC-1'],
      ['POST', '/api/v1/cases'],
      ['GET', '/api/v1/admin/systems'],
      ['GET', '/console'],
    ] as const) {
      const res = await fetch(`${worker.url}${p}`, { method, headers: { Authorization: `Bearer ${INTAKE_TOKEN}`, 'Content-Type': 'application/json' }, body: method === 'POST' ? JSON.stringify(sampleCase()) : undefined });
      expect({ p, status: res.status }).toEqual({ p, status: 404 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${worker.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_cpu');
    // The api serves what the worker does not.
    expect((await fetch(`${api.url}/api/v1/admin/systems`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } })).status).toBe(200);
  });
});

describe('OW_ROLE at start-up', () => {
  function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [MAIN], { cwd: os.tmpdir(), env: { PATH: process.env.PATH, ...env } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  }
  const configDir = () => writeConfig([restSystem('city-a', 'http://127.0.0.1:1/cases')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });

  it('when OW_ROLE is not a role, then it is listed with the other start-up problems', async () => {
    const r = await run({ OW_ROLE: 'workers', OW_CONFIG_DIR: configDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('onewindow-gateway: OW_ROLE must be one of api, worker, all, not "workers"');
    expect(r.stderr).toContain('OW_INTAKE_TOKEN and OW_OPS_TOKEN must be set');
  });

  it('when OW_ROLE is api or worker without REDIS_URL, then it refuses to run an embedded Redis of its own', async () => {
    const r = await run({ OW_ROLE: 'worker', OW_CONFIG_DIR: configDir(), OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('onewindow-gateway: OW_ROLE=worker needs REDIS_URL: api and worker processes must share one Redis');
  });
});
