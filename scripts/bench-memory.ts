/**
 * `npm run bench:memory [-- --n1 20000 --n2 100000 --concurrency 32 --max-seconds 7200]`: does Redis
 * memory stay flat once finished cases leave for the ledger, what does a case cost in
 * the ledger, and what does the ledger cost in throughput?
 *
 *   L    the gateway as `npm start` runs it (dist/src/main.js), REDIS_URL at a fresh redis-server,
 *        the embedded PGlite ledger (or PostgreSQL when BENCH_DATABASE_URL is set), `retention.hot`
 *        1s and the sweep every second. A stand-in legacy system accepts each delivery and pushes its
 *        result back, so every case finishes. After n1 and after n2 finished cases (and the sweep has
 *        moved them all out of Redis): Redis `used_memory`, the gateway's RSS, the ledger's bytes.
 *   N    the same gateway with OW_LEDGER=off (no ledger: cases stay in Redis), n1 cases: throughput
 *        and Redis memory without the ledger, for the comparison.
 *
 * Throughput is measured over the first n1 cases of each: cases accepted per second (intake) and
 * cases finished per second (submit → result recorded). Writes bench-memory-report.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import YAML from 'yaml';
import { BENCH_MATERIALS, benchCase, children, freePort, killAll, MAIN, ROOT, sleep, startArgs, stopChild, TOKEN, waitReady } from './bench-support';
import { openPglite } from '../src/ledger/sql';

const RESULT_TOKEN = 'bench-result-token';
const PREFIX = 'ow';

interface Options {
  n1: number;
  n2: number;
  concurrency: number;
  maxSeconds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { n1: 20_000, n2: 100_000, concurrency: 32, maxSeconds: 7200 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1] ?? ''];
    const v = Number(value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive whole number, not "${value}"`);
    if (flag === '--n1') o.n1 = v;
    else if (flag === '--n2') o.n2 = v;
    else if (flag === '--concurrency') o.concurrency = v;
    else if (flag === '--max-seconds') o.maxSeconds = v;
    else throw new Error(`unknown flag ${flag} (--n1, --n2, --concurrency, --max-seconds)`);
  }
  if (o.n2 < o.n1) throw new Error('--n2 must be at least --n1');
  return o;
}

function rssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

function dirBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

// --- The stand-in legacy system: accepts each delivery, then pushes its result back -----------------

interface StandIn {
  url: string;
  /** Results the gateway acknowledged (200), by caseId, with when. */
  finished: Map<string, number>;
  failedPushes: number;
  close(): Promise<void>;
}

async function startStandIn(gatewayUrl: () => string, pushConcurrency: number): Promise<StandIn> {
  const standIn: StandIn = { url: '', finished: new Map(), failedPushes: 0, close: async () => undefined };
  const agent = new http.Agent({ keepAlive: true, maxSockets: pushConcurrency });
  const pending: string[] = [];
  let pushing = 0;
  const push = (caseId: string): Promise<number> =>
    new Promise((resolve) => {
      const target = new URL(`${gatewayUrl()}/api/v1/results/bench-1`);
      const body = JSON.stringify({ ywh: caseId });
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${RESULT_TOKEN}`, 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const pump = (): void => {
    while (pushing < pushConcurrency && pending.length > 0) {
      const caseId = pending.shift()!;
      pushing++;
      void push(caseId).then(async (status) => {
        pushing--;
        if (status === 200) standIn.finished.set(caseId, performance.now());
        else {
          standIn.failedPushes++;
          await sleep(200);
          pending.push(caseId); // pushed again: a result is never dropped
        }
        pump();
      });
    }
  };
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let caseId = '';
      try {
        caseId = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bizNo?: string }).bizNo ?? '');
      } catch {
        // answered below
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"code":"0","msg":"ok","data":{"slbh":"SL-${caseId}"}}`);
      if (caseId && !seen.has(caseId)) {
        seen.add(caseId);
        pending.push(caseId);
        pump();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}

// --- The load client ----------------------------------------------------------------------------------

/** Submits cases `from`..`to`-1; answers how long it took and how many were not accepted. */
async function submit(url: string, from: number, to: number, concurrency: number, tag: string): Promise<{ ms: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(`${url}/api/v1/cases`);
  let next = from;
  let errors = 0;
  const post = (body: string): Promise<number> =>
    new Promise((resolve) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < to; i = next++) {
        const status = await post(benchCase(`BM-${tag}-${i}`));
        if (status !== 202 && status !== 200) errors++;
      }
    }),
  );
  agent.destroy();
  return { ms: performance.now() - started, errors };
}

// --- The gateway ----------------------------------------------------------------------------------------

function writeConfig(dir: string, standInUrl: string): void {
  fs.mkdirSync(path.join(dir, 'systems'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'gateway.yaml'),
    YAML.stringify({
      defaults: { concurrency: 32, rateLimit: { max: 1_000_000, perMs: 1000 }, timeoutMs: 10_000 },
      egress: { allow: ['127.0.0.1'] },
      retention: { hot: '1s', ledger: '180d', sweepEvery: '1s' },
      materials: BENCH_MATERIALS,
    }),
  );
  fs.writeFileSync(path.join(dir, 'routes.yaml'), YAML.stringify({ routes: [{ itemCode: '*', targets: ['bench-1'] }] }));
  const system = {
    id: 'bench-1',
    name: 'Stand-in bench-1',
    level: 'city',
    protocol: 'rest',
    endpoint: `${standInUrl}/bench-1/cases`,
    request: { body: '{"bizNo": caseId, "sqrxm": applicant.name, "sfzh": applicant.idNumber, "sxbm": itemCode}' },
    response: { success: 'code = "0"', receiptNo: 'data.slbh', error: 'msg' },
    result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: RESULT_TOKEN },
  };
  fs.writeFileSync(path.join(dir, 'systems', 'bench-1.yaml'), YAML.stringify(system));
}

/** Until `count` results are recorded; throws past the deadline or when nothing moves for 60 s. */
async function untilFinished(standIn: StandIn, count: number, deadline: number): Promise<void> {
  let seen = -1;
  let quietSince = Date.now();
  while (standIn.finished.size < count) {
    if (standIn.finished.size !== seen) [seen, quietSince] = [standIn.finished.size, Date.now()];
    if (Date.now() > deadline || Date.now() - quietSince > 60_000) throw new Error(`only ${standIn.finished.size} of ${count} cases finished`);
    await sleep(100);
  }
}

/** Until the sweep has moved every finished case out of Redis (both of its indexes empty). */
async function untilSwept(redis: Redis, deadline: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [finished, archived] = await Promise.all([redis.zcard(`${PREFIX}:ledger:finished`), redis.zcard(`${PREFIX}:ledger:archived`)]);
    if (finished + archived === 0) return Date.now() - started;
    if (Date.now() > deadline) throw new Error(`the sweep did not catch up: ${finished} finished and ${archived} archived cases still in Redis`);
    await sleep(250);
  }
}

interface Sample {
  finishedCases: number;
  redisUsedMemory: number;
  gatewayRss: number;
  ledgerBytes?: number;
  /** Redis keys of cases still there (should be none once swept). */
  caseKeys: number;
}

async function sample(redis: Redis, pid: number, finishedCases: number, ledgerBytes: () => Promise<number | undefined>): Promise<Sample> {
  await sleep(3000); // a few sweeps and a GC or two after the last move
  const rss: number[] = [];
  for (let i = 0; i < 5; i++) {
    rss.push(rssBytes(pid));
    await sleep(400);
  }
  let caseKeys = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:{*}:case`, 'COUNT', 1000);
    caseKeys += keys.length;
    cursor = next;
  } while (cursor !== '0');
  const bytes = await ledgerBytes();
  return { finishedCases, redisUsedMemory: await usedMemory(redis), gatewayRss: rss.sort((a, b) => a - b)[2]!, ...(bytes !== undefined ? { ledgerBytes: bytes } : {}), caseKeys };
}

interface Throughput {
  cases: number;
  intakePerSecond: number;
  finishedPerSecond: number;
  errors: number;
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run npm run build (npm run bench:memory does)');
  const deadline = Date.now() + options.maxSeconds * 1000;
  const bound = setTimeout(() => {
    process.stderr.write(`bench:memory: not done within ${options.maxSeconds} s (--max-seconds); stopping\n`);
    killAll();
    process.exit(1);
  }, options.maxSeconds * 1000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-memory-'));
  const log = fs.openSync(path.join(tmp, 'servers.log'), 'a');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  say(`bench:memory: n1 ${options.n1}, n2 ${options.n2}, concurrency ${options.concurrency}; ledger ${databaseUrl ? 'PostgreSQL (BENCH_DATABASE_URL)' : 'embedded PGlite'}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}; logs in ${tmp}`);

  const redisPort = await freePort();
  const redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', tmp, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
  children.push(redisServer);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const redis = new Redis(redisUrl, { retryStrategy: (n) => (n > 50 ? null : 100) });
  redis.on('error', () => undefined);
  await redis.ping();

  let gatewayUrl = '';
  const standIn = await startStandIn(() => gatewayUrl, 16);
  const configDir = path.join(tmp, 'config');
  writeConfig(configDir, standIn.url);

  const runGateway = async (name: string, extraEnv: Record<string, string>, dataDir: string) => {
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, startArgs(), {
      cwd: tmp,
      env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', REDIS_URL: redisUrl, OW_CONFIG_DIR: configDir, OW_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', OW_INTAKE_TOKEN: TOKEN, OW_OPS_TOKEN: 'bench-ops-admin-token', ...extraEnv },
      stdio: ['ignore', log, log],
    });
    children.push(child);
    say(`${name}: starting…`);
    await waitReady(gatewayUrl, child, 'gateway', 120_000);
    await sleep(500);
    return child;
  };

  /** Runs cases [from, to) and waits until all finished; answers the throughput over them. */
  const segment = async (from: number, to: number, tag: string): Promise<Throughput> => {
    const finishedBefore = standIn.finished.size;
    const started = performance.now();
    const load = await submit(gatewayUrl, from, to, options.concurrency, tag);
    await untilFinished(standIn, finishedBefore + (to - from) - load.errors, deadline);
    const ms = performance.now() - started;
    return { cases: to - from, intakePerSecond: (to - from) / (load.ms / 1000), finishedPerSecond: (to - from) / (ms / 1000), errors: load.errors };
  };

  // L: with the ledger.
  const ledgerDir = path.join(tmp, 'data-ledger');
  const pgBytes = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ bytes: string }>("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'ledger_%'");
    await client.end();
    return Number(rows[0]!.bytes);
  };
  const ledgerBytes = async () => (databaseUrl ? pgBytes() : dirBytes(path.join(ledgerDir, 'ledger')));
  const withLedger = await runGateway('L (with the ledger)', databaseUrl ? { DATABASE_URL: databaseUrl } : {}, ledgerDir);
  const emptyLedger = await ledgerBytes();
  const first = await segment(0, options.n1, 'L');
  say(`L: ${options.n1} cases finished (${first.intakePerSecond.toFixed(0)} accepted/s, ${first.finishedPerSecond.toFixed(0)} finished/s); waiting for the sweep…`);
  const sweptFirstMs = await untilSwept(redis, deadline);
  const at1 = await sample(redis, withLedger.pid!, options.n1, ledgerBytes);
  say(`L at ${options.n1}: Redis used_memory ${(at1.redisUsedMemory / 2 ** 20).toFixed(1)} MiB, gateway RSS ${(at1.gatewayRss / 2 ** 20).toFixed(1)} MiB, ledger ${((at1.ledgerBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, case keys left ${at1.caseKeys} (sweep caught up ${sweptFirstMs} ms after the last result)`);
  const rest = options.n2 > options.n1 ? await segment(options.n1, options.n2, 'L') : undefined;
  const sweptSecondMs = await untilSwept(redis, deadline);
  const at2 = await sample(redis, withLedger.pid!, options.n2, ledgerBytes);
  say(`L at ${options.n2}: Redis used_memory ${(at2.redisUsedMemory / 2 ** 20).toFixed(1)} MiB, gateway RSS ${(at2.gatewayRss / 2 ** 20).toFixed(1)} MiB, ledger ${((at2.ledgerBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, case keys left ${at2.caseKeys} (sweep caught up ${sweptSecondMs} ms after the last result)`);
  await stopChild(withLedger, 30_000);
  // What the rows take (tables, indexes, TOAST), without the WAL and catalogue a data folder also holds.
  const relationSql = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes, (SELECT count(*) FROM ledger_cases)::text AS cases FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'ledger_%'";
  let relations: { bytes: number; cases: number };
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ bytes: string; cases: string }>(relationSql);
    await client.end();
    relations = { bytes: Number(rows[0]!.bytes), cases: Number(rows[0]!.cases) };
  } else {
    const db = await openPglite(path.join(ledgerDir, 'ledger'));
    const [row] = await db.query<{ bytes: string; cases: string }>(relationSql);
    await db.close();
    relations = { bytes: Number(row!.bytes), cases: Number(row!.cases) };
  }
  say(`ledger tables: ${relations.cases} cases, ${(relations.bytes / 2 ** 20).toFixed(1)} MiB (tables, indexes, TOAST), ${Math.round(relations.bytes / relations.cases)} bytes per case`);

  // N: the same, without a ledger.
  await redis.flushall();
  const without = await runGateway('N (OW_LEDGER=off)', { OW_LEDGER: 'off' }, path.join(tmp, 'data-none'));
  const usedBefore = await usedMemory(redis);
  const none = await segment(0, options.n1, 'N');
  const noneMemory = await usedMemory(redis);
  say(`N: ${options.n1} cases finished (${none.intakePerSecond.toFixed(0)} accepted/s, ${none.finishedPerSecond.toFixed(0)} finished/s); Redis used_memory ${(noneMemory / 2 ** 20).toFixed(1)} MiB (cases kept in Redis)`);
  await stopChild(without, 30_000);

  clearTimeout(bound);
  redis.disconnect();
  await standIn.close();
  await stopChild(redisServer, 30_000);

  const change = (a: number, b: number) => Number((((b - a) / a) * 100).toFixed(1));
  const perCase = at2.ledgerBytes !== undefined && at1.ledgerBytes !== undefined && options.n2 > options.n1 ? (at2.ledgerBytes - at1.ledgerBytes) / (options.n2 - options.n1) : undefined;
  const report = {
    at: new Date().toISOString(),
    machine: { nproc: os.cpus().length, cpu: os.cpus()[0]?.model.trim(), memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)), node: process.version, redis: 'redis-server, appendonly yes, appendfsync everysec', ledger: databaseUrl ? 'PostgreSQL' : 'PGlite (embedded)' },
    options,
    withLedger: {
      throughputFirstN1: first,
      throughputRest: rest,
      samples: [at1, at2],
      redisUsedMemoryChangePercent: change(at1.redisUsedMemory, at2.redisUsedMemory),
      gatewayRssChangePercent: change(at1.gatewayRss, at2.gatewayRss),
      ledgerBytesEmpty: emptyLedger,
      ledgerTables: { ...relations, bytesPerCase: Math.round(relations.bytes / relations.cases) },
      sweepCaughtUpMs: [sweptFirstMs, sweptSecondMs],
      ledgerBytesPerCase: perCase !== undefined ? Math.round(perCase) : undefined,
      ledgerBytesPerCaseOverall: at2.ledgerBytes !== undefined ? Math.round((at2.ledgerBytes - emptyLedger) / options.n2) : undefined,
    },
    withoutLedger: { throughput: none, redisBytesPerCaseKept: Math.round((noneMemory - usedBefore) / options.n1) },
    ledgerCost: {
      intakePerSecondRatio: Number((first.intakePerSecond / none.intakePerSecond).toFixed(2)),
      finishedPerSecondRatio: Number((first.finishedPerSecond / none.finishedPerSecond).toFixed(2)),
    },
  };
  fs.writeFileSync(path.join(ROOT, 'bench-memory-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  say('');
  say(JSON.stringify(report, null, 2));
  const flat = Math.abs(report.withLedger.redisUsedMemoryChangePercent) <= 10 && Math.abs(report.withLedger.gatewayRssChangePercent) <= 10;
  say(`flat within 10 %: ${flat ? 'yes' : 'NO'}`);
  if (!flat || first.errors || none.errors) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`bench:memory: ${err.message}\n`);
  killAll();
  process.exit(1);
});
