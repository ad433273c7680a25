/**
 * `npm run bench [-- --concurrency 64 --n 20000 --fanout 1 --max-seconds 900 --monitor-cases 50
 * --cpu-prof --seal on|off --workers N --ledger embedded|postgres --node-red on|off --redis socket|tcp]`: how much the
 * gateway costs on top of the queue engine it stands on, all on this machine, in one run:
 *
 *   G   the gateway as `npm start` runs it (dist/src/main.js), REDIS_URL at a fresh redis-server
 *       (AOF everysec) through its Unix socket, as the embedded default reaches its own (`--redis tcp`:
 *       through loopback TCP, as a Redis on another host is reached), a generated config with `fanout` REST systems pointing at a stand-in; with
 *       `--workers N`, as deployed instead: one api and N worker processes (OW_ROLE), the ledger at
 *       BENCH_DATABASE_URL;
 *   B1  raw BullMQ: an express handler doing `queue.add`, a bare Worker posting to the same stand-in,
 *       on the same Redis reached the same way;
 *   NR  the peer a team would pick instead: Node-RED 4 doing the same job as a flow (http in → the
 *       same JSONata mapping in a change node → one http request per target to the same stand-in →
 *       http response; scripts/bench-node-red.ts), synchronous and in memory (`--node-red off` skips it);
 *   B2  the load client straight to the stand-in (what HTTP alone costs here).
 *
 * Each phase gets the same keep-alive load client, the same Redis (flushed in between) and the same
 * stand-in, which answers at once and records when each delivery arrived. Reported per phase:
 * intake throughput and p50/p99, submit→arrival throughput and p50/p99, CPU seconds per 1 000 cases
 * (the server process, from /proc/<pid>/stat, plus Redis's own), Redis commands per case (INFO
 * commandstats, which counts the commands Lua scripts run inside Redis too), peak RSS (VmHWM), Redis
 * bytes per case; then the ratios, and bench-report.json. After each timed run, `--monitor-cases`
 * more cases are sent with Redis MONITOR on, which lists every command per case and who sent it
 * (client commands apart from those run inside scripts); MONITOR slows Redis, hence apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import YAML from 'yaml';
import { nodeRedFlow, startNodeRed } from './bench-node-red';
import { BENCH_MAPPING, BENCH_MATERIALS, benchCase, children, freePort, killAll, MAIN, ROOT, sleep, startArgs, startStandIn, stopChild, TOKEN, waitReady, type StandIn } from './bench-support';


interface Options {
  concurrency: number;
  n: number;
  fanout: number;
  maxSeconds: number;
  workerConcurrency: number;
  /** Cases sent after the timed run with Redis MONITOR on, to list every command per case and who sent it (0: none). */
  monitorCases: number;
  /** Write a V8 CPU profile of the gateway (node --cpu-prof) next to the servers' log. */
  cpuProf: boolean;
  /** `--seal off`: the stand-in systems get `seal: false`, to see what the delivery seal costs. */
  seal: boolean;
  /**
   * `--workers N` (N ≥ 1): the gateway as it is deployed, one `OW_ROLE=api` process and N
   * `OW_ROLE=worker` processes, sharing the ledger at BENCH_DATABASE_URL (PostgreSQL: the embedded
   * one is a single process's). 0, the default: one process, as `npm start` runs it.
   */
  workers: number;
  /**
   * `--ledger postgres`: the one process keeps its ledger at BENCH_DATABASE_URL (PostgreSQL's own
   * memory and CPU not counted); `embedded`, the default, as `npm start` without DATABASE_URL.
   */
  ledger: 'embedded' | 'postgres';
  /** `--node-red off`: no Node-RED phase (profiling runs). */
  nodeRed: boolean;
  /** How G and B1 reach Redis: its Unix socket (the default, as the embedded Redis is reached) or loopback TCP. */
  redis: 'socket' | 'tcp';
}

function parseArgs(argv: string[]): Options {
  const o: Options = { concurrency: 64, n: 20_000, fanout: 1, maxSeconds: 900, workerConcurrency: 32, monitorCases: 50, cpuProf: false, seal: true, workers: 0, ledger: 'embedded', nodeRed: true, redis: 'socket' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1] ?? ''];
    if (flag === '--cpu-prof') {
      o.cpuProf = true;
      i--;
      continue;
    }
    const int = (): number => {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} needs a positive whole number, not "${value}"`);
      return v;
    };
    if (flag === '--concurrency') o.concurrency = int();
    else if (flag === '--n') o.n = int();
    else if (flag === '--fanout') o.fanout = int();
    else if (flag === '--max-seconds') o.maxSeconds = int();
    else if (flag === '--monitor-cases') o.monitorCases = value === '0' ? 0 : int();
    else if (flag === '--seal' && (value === 'on' || value === 'off')) o.seal = value === 'on';
    else if (flag === '--workers') o.workers = value === '0' ? 0 : int();
    else if (flag === '--node-red' && (value === 'on' || value === 'off')) o.nodeRed = value === 'on';
    else if (flag === '--ledger' && (value === 'embedded' || value === 'postgres')) o.ledger = value;
    else if (flag === '--redis' && (value === 'socket' || value === 'tcp')) o.redis = value;
    else throw new Error(`unknown flag ${flag} (--concurrency, --n, --fanout, --max-seconds, --monitor-cases, --cpu-prof, --seal on|off, --workers N, --ledger embedded|postgres, --node-red on|off, --redis socket|tcp)`);
  }
  if (o.fanout > 3) throw new Error('--fanout is 1, 2 or 3');
  if (o.workers > 0 && !process.env.BENCH_DATABASE_URL) throw new Error('--workers needs BENCH_DATABASE_URL: api and worker processes share one PostgreSQL ledger');
  if (o.workers > 0) o.ledger = 'postgres';
  if (o.ledger === 'postgres' && !process.env.BENCH_DATABASE_URL) throw new Error('--ledger postgres needs BENCH_DATABASE_URL');
  return o;
}

// --- Measurements of a process ------------------------------------------------------------------

const TICKS = 100; // USER_HZ on Linux
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}
/** A server and the processes it started (a child's own children too): what the server costs is theirs summed. */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const tasks = `/proc/${tree[i]}/task`;
    if (!fs.existsSync(tasks)) continue; // gone meanwhile
    for (const task of fs.readdirSync(tasks)) {
      const kids = fs.readFileSync(`${tasks}/${task}/children`, 'utf8').trim();
      if (kids) tree.push(...kids.split(' ').map(Number));
    }
  }
  return tree;
}

async function redisInfo(redis: Redis): Promise<{ commands: number; memory: number; cpu: number }> {
  const stats = await redis.info('commandstats');
  const commands = [...stats.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const cpuInfo = await redis.info('cpu');
  const cpu = Number(/used_cpu_sys:([\d.]+)/.exec(cpuInfo)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(cpuInfo)?.[1]);
  return { commands, memory, cpu };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

// --- The load client ------------------------------------------------------------------------------

interface Load {
  latencies: number[];
  /** When each case was sent, by caseId (performance.now()). */
  sentAt: Map<string, number>;
  ms: number;
  errors: number;
}

async function load(url: string, options: Options, prefix: string, sentAt = new Map<string, number>()): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(url);
  const result: Load = { latencies: [], sentAt, ms: 0, errors: 0 };
  let next = 0;
  const post = (body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let i = next++; i < options.n; i = next++) {
        const caseId = `${prefix}-${i}`;
        const t0 = performance.now();
        result.sentAt.set(caseId, t0);
        const status = await post(benchCase(caseId)).catch(() => 0);
        if (status !== 202 && status !== 200) result.errors++;
        result.latencies.push(performance.now() - t0);
      }
    }),
  );
  result.ms = performance.now() - started;
  agent.destroy();
  return result;
}

// --- B1: raw BullMQ, in a process of its own (run as `bench.js --b1 <redis URL or socket path> <port> <target>`) ---

async function b1Server(redisUrl: string, port: number, target: string, concurrency: number): Promise<void> {
  const { Queue, Worker } = await import('bullmq');
  const express = (await import('express')).default;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('deliveries', { connection });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const dest = new URL(target);
  const worker = new Worker(
    'deliveries',
    (job) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify(job.data);
        const req = http.request(
          { host: dest.hostname, port: dest.port, path: dest.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${(job.data as { caseId: string }).caseId}:${job.name}`, 'Content-Length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), concurrency },
  );
  worker.on('error', () => undefined);
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  const targets = (process.env.BENCH_TARGETS ?? 'bench-1').split(',');
  app.post('/api/v1/cases', async (req, res) => {
    const body = req.body as { caseId: string };
    await Promise.all(targets.map((t) => queue.add(t, body, { jobId: `${t}.${body.caseId}`, attempts: 8 })));
    res.status(202).json({ caseId: body.caseId, status: 'accepted' });
  });
  app.listen(port, '127.0.0.1');
}

// --- Every command of a few cases, and who sent it (Redis MONITOR) ------------------------------

/** Script names by the SHA-1 ioredis sends them under: BullMQ's and the gateway's own (dist/src/**\/lua). */
function scriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  const sha = (text: string) => crypto.createHash('sha1').update(text).digest('hex');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bull = require('bullmq/dist/cjs/scripts') as Record<string, { name: string; content: string }>;
  for (const script of Object.values(bull)) names.set(sha(script.content), `bullmq ${script.name}`);
  const shared = path.join(ROOT, 'dist/src/platform/lua');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.lua') && path.basename(dir) === 'lua') {
        const text = fs.readFileSync(full, 'utf8').replace(/^--! include ([a-z-]+)\n/gm, (_, piece: string) => `${fs.readFileSync(path.join(shared, `${piece}.lua`), 'utf8')}\n`);
        names.set(sha(text), `ow ${path.basename(path.dirname(dir))}/${entry.name.replace(/\.lua$/, '')}`);
      }
    }
  };
  walk(path.join(ROOT, 'dist/src'));
  return names;
}

interface MonitorResult {
  cases: number;
  /** Commands sent by clients (each command of a MULTI or a pipeline counted once): MONITOR lines not from Lua. */
  clientCommandsPerCase: number;
  /** Commands Lua scripts ran inside Redis: MONITOR lines from "lua". */
  luaCommandsPerCase: number;
  /** What INFO commandstats counts: both of the above, MULTI and EXEC included. */
  allCommandsPerCase: number;
  /** Per client command (scripts by name), per case: how often, and how many commands it ran inside. */
  byCommand: Array<{ command: string; perCase: number; innerPerCase: number }>;
}

/** A key with its case id (and our bench's case ids in job ids) replaced, to group alike commands. */
function keyShape(key: string | undefined): string {
  return (key ?? '').replace(/BENCH-[A-Za-z0-9]+-\d+-(?:MON-)?\d+/g, '<case>').replace(/\d+/g, '<n>');
}

async function monitorPass(redisUrl: string, url: string, options: Options, standIn: StandIn, prefix: string): Promise<MonitorResult | undefined> {
  if (options.monitorCases === 0) return undefined;
  const names = scriptNames();
  const watcher = new Redis(redisUrl);
  const monitor = await watcher.monitor();
  // A line that arrives in the same read as MONITOR's OK reaches ioredis before it knows it is
  // monitoring, and it reports a "command queue state error" for it: one line lost, nothing else.
  monitor.on('error', () => undefined);
  const lines: Array<{ source: string; args: string[] }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => lines.push({ source, args }));
  await sleep(200);
  lines.length = 0;
  const before = standIn.arrivals.size;
  const few: Options = { ...options, n: options.monitorCases, concurrency: Math.min(8, options.concurrency) };
  await load(`${url}/api/v1/cases`, few, `${prefix}-MON`);
  const deadline = Date.now() + 30_000;
  while (standIn.arrivals.size < before + few.n * options.fanout && Date.now() < deadline) await sleep(20);
  await sleep(300); // the jobs' own completion steps after the arrival
  monitor.disconnect();
  watcher.disconnect();
  const byCommand = new Map<string, { count: number; inner: number }>();
  let client = 0;
  let lua = 0;
  let current: { count: number; inner: number } | undefined;
  for (const line of lines) {
    const command = (line.args[0] ?? '').toLowerCase();
    if (line.source === 'lua') {
      lua++;
      if (current) current.inner++;
      continue;
    }
    client++;
    let label = command;
    if (command === 'evalsha' || command === 'eval') {
      const sha = command === 'evalsha' ? (line.args[1] ?? '') : crypto.createHash('sha1').update(line.args[1] ?? '').digest('hex');
      label = names.get(sha) ?? `${command} ${sha.slice(0, 8)} ${keyShape(line.args[3])}`;
    } else if (command !== 'multi' && command !== 'exec') label = `${command} ${keyShape(line.args[1])}`;
    const entry = byCommand.get(label) ?? { count: 0, inner: 0 };
    entry.count++;
    byCommand.set(label, entry);
    current = entry;
  }
  const per = (v: number) => Number((v / few.n).toFixed(2));
  return {
    cases: few.n,
    clientCommandsPerCase: per(client),
    luaCommandsPerCase: per(lua),
    allCommandsPerCase: per(client + lua),
    byCommand: [...byCommand.entries()].map(([command, e]) => ({ command, perCase: per(e.count), innerPerCase: per(e.inner) })).sort((a, b) => b.perCase + b.innerPerCase - (a.perCase + a.innerPerCase)),
  };
}

// --- One phase ------------------------------------------------------------------------------------

interface PhaseResult {
  name: string;
  cases: number;
  deliveries: number;
  errors: number;
  intake: { perSecond: number; p50Ms: number; p99Ms: number };
  endToEnd?: { perSecond: number; p50Ms: number; p99Ms: number; complete: boolean };
  cpuSecondsPer1000?: number;
  redisCpuSecondsPer1000?: number;
  redisCommandsPerCase?: number;
  /** Peak RSS (VmHWM) of the server's processes, summed (an upper bound of their joint peak when there are several). */
  peakRssMb?: number;
  /** RSS of the same processes once ready, before the load (2 s after readiness). */
  idleRssMb?: number;
  /** How many processes those figures are summed over (a gateway's embedded ledger may run in one of its own). */
  processes?: number;
  redisBytesPerInFlightCase?: number;
  redisBytesPerCaseKept?: number;
  /** Every command of a few more cases sent after the timed run (MONITOR slows Redis, so apart from it). */
  monitor?: MonitorResult;
}

/** A server process of a phase; the first of a phase takes the cases. */
interface Server {
  child: ChildProcess;
  url: string;
}

/**
 * One phase against servers already started: wait for them, measure their idle RSS, send the load,
 * wait for every delivery. `usesRedis` false (the Node-RED peer): no Redis figures and no MONITOR pass.
 */
async function runServerPhase(name: string, servers: Server[], redisUrl: string, redis: Redis, standIn: StandIn, options: Options, deadline: number, usesRedis = true): Promise<PhaseResult> {
  for (const { child, url } of servers) await waitReady(url, child, name, 90_000);
  const url = servers[0]!.url;
  await sleep(2000); // let start-up work (scripts loaded, schedulers, the ledger's first checkpoint) settle before counting
  const pids = servers.flatMap((s) => processTree(s.child.pid!));
  const cpuOfAll = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const idleRssMb = pids.reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0) / 2 ** 20;
  standIn.arrivals.clear();
  const before = { cpu: cpuOfAll(), redis: await redisInfo(redis) };
  const expected = options.n * options.fanout;
  let peakInFlight = 0;
  let bytesAtPeak = 0;
  let sampling = true;
  // Filled by the load client as it sends; the sampler reads it meanwhile.
  const sentSoFar = new Map<string, number>();
  const sampler = (async () => {
    while (sampling) {
      const inFlight = sentSoFar.size * options.fanout - standIn.arrivals.size;
      if (usesRedis && inFlight > peakInFlight) {
        const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
        peakInFlight = inFlight;
        bytesAtPeak = memory - before.redis.memory;
      }
      await sleep(100);
    }
  })();
  const result = await load(`${url}/api/v1/cases`, options, `BENCH-${name.split(' ')[0]}-${Date.now()}`, sentSoFar);
  // Until every delivery arrived, or nothing more arrives for 15 s (a broken phase, reported INCOMPLETE).
  let seen = -1;
  let quietSince = Date.now();
  while (standIn.arrivals.size < expected && Date.now() < deadline && Date.now() - quietSince < 15_000) {
    if (standIn.arrivals.size !== seen) [seen, quietSince] = [standIn.arrivals.size, Date.now()];
    await sleep(50);
  }
  sampling = false;
  await sampler;
  const after = { cpu: cpuOfAll(), redis: await redisInfo(redis) };
  const e2e: number[] = [];
  let last = 0;
  for (const [key, at] of standIn.arrivals) {
    const sent = result.sentAt.get(key.slice(0, key.lastIndexOf(':')));
    if (sent !== undefined) e2e.push(at - sent);
    last = Math.max(last, at);
  }
  let first = Infinity;
  for (const at of result.sentAt.values()) first = Math.min(first, at);
  const monitor = usesRedis ? await monitorPass(redisUrl, url, options, standIn, `BENCH-${name.split(' ')[0]}-${Date.now()}`) : undefined;
  const peakRssMb = pids.reduce((sum, pid) => sum + statusKb(pid, 'VmHWM'), 0) / 2 ** 20;
  return {
    name,
    cases: options.n,
    deliveries: standIn.arrivals.size,
    errors: result.errors,
    intake: { perSecond: options.n / (result.ms / 1000), p50Ms: percentile(result.latencies, 0.5), p99Ms: percentile(result.latencies, 0.99) },
    endToEnd: { perSecond: standIn.arrivals.size / ((last - first) / 1000), p50Ms: percentile(e2e, 0.5), p99Ms: percentile(e2e, 0.99), complete: standIn.arrivals.size >= expected },
    cpuSecondsPer1000: ((after.cpu - before.cpu) / options.n) * 1000,
    peakRssMb,
    idleRssMb,
    processes: pids.length,
    ...(usesRedis
      ? {
          redisCpuSecondsPer1000: ((after.redis.cpu - before.redis.cpu) / options.n) * 1000,
          redisCommandsPerCase: (after.redis.commands - before.redis.commands - 3) / options.n, // minus our own INFO calls
          redisBytesPerInFlightCase: peakInFlight > 0 ? bytesAtPeak / (peakInFlight / options.fanout) : undefined,
          redisBytesPerCaseKept: (after.redis.memory - before.redis.memory) / options.n,
        }
      : {}),
    ...(monitor ? { monitor } : {}),
  };
}

// --- main -----------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--b1') return b1Server(argv[1]!, Number(argv[2]), argv[3]!, Number(argv[4]));
  const options = parseArgs(argv);
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run npm run build (npm run bench does)');
  const deadline = Date.now() + options.maxSeconds * 1000;
  const bound = setTimeout(() => {
    process.stderr.write(`bench: not done within ${options.maxSeconds} s (--max-seconds); stopping\n`);
    killAll();
    process.exit(1);
  }, options.maxSeconds * 1000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-'));
  const log = fs.openSync(path.join(tmp, 'servers.log'), 'a');

  // A fresh redis-server, append-only with fsync every second, as production runs it.
  const redisPort = await freePort();
  const socket = path.join(tmp, 'redis.sock');
  const redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', tmp, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
  children.push(redisServer);
  // The bench's own reading (INFO, MONITOR) goes through TCP; the servers measured, as --redis says.
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const serversRedis = options.redis === 'socket' ? { url: `unix://${socket}`, ioredis: socket } : { url: redisUrl, ioredis: redisUrl };
  const redis = new Redis(redisUrl, { retryStrategy: (n) => (n > 50 ? null : 100) });
  redis.on('error', () => undefined); // refused until redis-server is up; retried above
  await redis.ping();
  const standIn = await startStandIn();
  const systems = Array.from({ length: options.fanout }, (_, i) => `bench-${i + 1}`);
  const phases: PhaseResult[] = [];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // The machine is shared: the 1-minute load average, sampled through the run, says how much.
  const load1: number[] = [os.loadavg()[0]!];
  const loadSampler = setInterval(() => load1.push(os.loadavg()[0]!), 5000);
  say(`bench: n ${options.n}, concurrency ${options.concurrency}, fan-out ${options.fanout}, worker concurrency ${options.workerConcurrency}, seal ${options.seal ? 'on' : 'off'}, Redis through ${options.redis === 'socket' ? 'its Unix socket' : 'loopback TCP'}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}; logs in ${tmp}`);

  // G: the gateway as `npm start` runs it.
  const configDir = path.join(tmp, 'config');
  fs.mkdirSync(path.join(configDir, 'systems'), { recursive: true });
  fs.writeFileSync(path.join(configDir, 'gateway.yaml'), YAML.stringify({ defaults: { concurrency: options.workerConcurrency, rateLimit: { max: 1_000_000, perMs: 1000 }, timeoutMs: 10_000 }, egress: { allow: ['127.0.0.1'] }, materials: BENCH_MATERIALS }));
  fs.writeFileSync(path.join(configDir, 'routes.yaml'), YAML.stringify({ routes: [{ itemCode: '*', targets: systems }] }));
  for (const id of systems) {
    const system = {
      id,
      name: `Stand-in ${id}`,
      level: 'city',
      protocol: 'rest',
      endpoint: `${standIn.url}/${id}/cases`,
      request: { body: BENCH_MAPPING },
      response: { success: 'code = "0"', receiptNo: 'data.slbh', error: 'msg' },
      result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}' },
      ...(options.seal ? {} : { seal: false }),
    };
    fs.writeFileSync(path.join(configDir, 'systems', `${id}.yaml`), YAML.stringify(system));
  }
  // One process as `npm start` runs it, or an api process and --workers worker processes.
  const roles = options.workers > 0 ? ['api', ...Array.from({ length: options.workers }, () => 'worker')] : ['all'];
  const servers: Server[] = [];
  for (const [i, role] of roles.entries()) {
    const port = await freePort();
    const child = spawn(process.execPath, [...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(tmp, 'cpu-prof')] : []), ...startArgs()], {
      cwd: tmp,
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'warn',
        REDIS_URL: serversRedis.url,
        OW_CONFIG_DIR: configDir,
        OW_DATA_DIR: path.join(tmp, `data-${i}`),
        PORT: String(port),
        HOST: '127.0.0.1',
        OW_INTAKE_TOKEN: TOKEN,
        OW_OPS_TOKEN: 'bench-ops-admin-token',
        OW_ROLE: role,
        ...(options.ledger === 'postgres' ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
      },
      stdio: ['ignore', log, log],
    });
    children.push(child);
    servers.push({ child, url: `http://127.0.0.1:${port}` });
  }
  say(`gateway: starting (dist/src/main.js${options.workers > 0 ? `: 1 api, ${options.workers} worker processes` : ''})…`);
  phases.push(await runServerPhase('gateway', servers, redisUrl, redis, standIn, options, deadline));
  for (const { child } of servers) await stopChild(child, 20_000);

  // B1: raw BullMQ on the same Redis, emptied first.
  await redis.flushall();
  const b1Port = await freePort();
  const b1 = spawn(process.execPath, [__filename, '--b1', serversRedis.ioredis, String(b1Port), `${standIn.url}/b1/cases`, String(options.workerConcurrency)], { env: { ...process.env, BENCH_TARGETS: systems.join(',') }, stdio: ['ignore', log, log] });
  children.push(b1);
  say('B1 (raw BullMQ): starting…');
  phases.push(await runServerPhase('B1 raw BullMQ', [{ child: b1, url: `http://127.0.0.1:${b1Port}` }], redisUrl, redis, standIn, options, deadline));
  await stopChild(b1, 20_000);

  // NR: the Node-RED flow, the same stand-in.
  if (options.nodeRed) {
    const nrPort = await freePort();
    const nr = startNodeRed(path.join(tmp, 'node-red'), nrPort, nodeRedFlow(standIn.url, systems), log);
    say('NR (Node-RED flow): starting…');
    phases.push(await runServerPhase('Node-RED', [{ child: nr, url: `http://127.0.0.1:${nrPort}` }], redisUrl, redis, standIn, options, deadline, false));
    await stopChild(nr, 20_000);
  }

  // B2: the load client straight to the stand-in.
  say('B2 (straight to the stand-in)…');
  const direct = await load(`${standIn.url}/b2/cases`, options, 'BENCH-B2');
  phases.push({ name: 'B2 direct', cases: options.n, deliveries: options.n, errors: direct.errors, intake: { perSecond: options.n / (direct.ms / 1000), p50Ms: percentile(direct.latencies, 0.5), p99Ms: percentile(direct.latencies, 0.99) } });

  clearTimeout(bound);
  clearInterval(loadSampler);
  load1.push(os.loadavg()[0]!);
  redis.disconnect();
  await standIn.close();
  await stopChild(redisServer, 20_000);

  const phase = (name: string) => phases.find((p) => p.name === name);
  const [g, r1, r2, nr] = [phase('gateway')!, phase('B1 raw BullMQ')!, phase('B2 direct')!, phase('Node-RED')];
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b !== 0 ? Number((a / b).toFixed(2)) : undefined);
  const ratios = {
    'gateway/B1': {
      intakePerSecond: ratio(g.intake.perSecond, r1.intake.perSecond),
      intakeP99: ratio(g.intake.p99Ms, r1.intake.p99Ms),
      endToEndPerSecond: ratio(g.endToEnd?.perSecond, r1.endToEnd?.perSecond),
      endToEndP99: ratio(g.endToEnd?.p99Ms, r1.endToEnd?.p99Ms),
      cpuPer1000: ratio(g.cpuSecondsPer1000, r1.cpuSecondsPer1000),
      redisCommandsPerCase: ratio(g.redisCommandsPerCase, r1.redisCommandsPerCase),
    },
    'gateway/B2': { intakePerSecond: ratio(g.intake.perSecond, r2.intake.perSecond), intakeP99: ratio(g.intake.p99Ms, r2.intake.p99Ms) },
    ...(nr
      ? {
          'gateway/Node-RED': {
            intakePerSecond: ratio(g.intake.perSecond, nr.intake.perSecond),
            intakeP99: ratio(g.intake.p99Ms, nr.intake.p99Ms),
            endToEndPerSecond: ratio(g.endToEnd?.perSecond, nr.endToEnd?.perSecond),
            cpuPer1000: ratio(g.cpuSecondsPer1000, nr.cpuSecondsPer1000),
            peakRss: ratio(g.peakRssMb, nr.peakRssMb),
          },
        }
      : {}),
  };
  // The targets set against the peer, each with this run's figure (e2e counts deliveries, so with
  // fan-out 3 it is the fan-out target).
  const peer = ratios['gateway/Node-RED'];
  const targets = peer
    ? [
        { target: 'CPU per case ≤ 1.3 × Node-RED', value: peer.cpuPer1000, met: peer.cpuPer1000 !== undefined && peer.cpuPer1000 <= 1.3 },
        { target: `${options.fanout > 1 ? 'deliveries/s' : 'end to end'} ≥ 0.8 × Node-RED`, value: peer.endToEndPerSecond, met: peer.endToEndPerSecond !== undefined && peer.endToEndPerSecond >= 0.8 },
        { target: 'intake p99 ≤ Node-RED', value: peer.intakeP99, met: peer.intakeP99 !== undefined && peer.intakeP99 <= 1 },
        { target: 'idle RSS ≤ 300 MB', value: Number(g.idleRssMb?.toFixed(0)), met: (g.idleRssMb ?? Infinity) <= 300 },
        { target: 'peak RSS ≤ 400 MB', value: Number(g.peakRssMb?.toFixed(0)), met: (g.peakRssMb ?? Infinity) <= 400 },
      ]
    : [];
  const machine = {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim(),
    node: process.version,
    redis: `redis-server, appendonly yes, appendfsync everysec, reached through ${options.redis === 'socket' ? 'its Unix socket' : 'loopback TCP'}`,
    loadAverage1m: { atStart: load1[0], atEnd: load1[load1.length - 1], min: Math.min(...load1), max: Math.max(...load1) },
  };
  const report = { at: new Date().toISOString(), machine, options, phases, ratios, targets };
  fs.writeFileSync(path.join(ROOT, 'bench-report.json'), `${JSON.stringify(report, null, 2)}\n`);

  const f = (v: number | undefined, d = 0) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));
  say('');
  say('phase            cases/s in  p50 ms  p99 ms | e2e/s   p50 ms  p99 ms | CPU s/1k  Redis CPU s/1k  cmds/case  idle RSS MB  peak RSS MB  Redis B/in-flight  B/case kept  errors');
  for (const p of phases) {
    say(
      `${p.name.padEnd(16)} ${f(p.intake.perSecond).padStart(10)}  ${f(p.intake.p50Ms, 1).padStart(6)}  ${f(p.intake.p99Ms, 1).padStart(6)} | ${f(p.endToEnd?.perSecond).padStart(6)}  ${f(p.endToEnd?.p50Ms, 1).padStart(6)}  ${f(p.endToEnd?.p99Ms, 1).padStart(6)} | ` +
        `${f(p.cpuSecondsPer1000, 2).padStart(8)}  ${f(p.redisCpuSecondsPer1000, 2).padStart(14)}  ${f(p.redisCommandsPerCase, 1).padStart(9)}  ${f(p.idleRssMb).padStart(11)}  ${f(p.peakRssMb).padStart(11)}  ${f(p.redisBytesPerInFlightCase).padStart(17)}  ${f(p.redisBytesPerCaseKept).padStart(11)}  ${p.errors}${p.endToEnd && !p.endToEnd.complete ? '  INCOMPLETE' : ''}`,
    );
  }
  for (const p of phases) {
    if (!p.monitor) continue;
    const m = p.monitor;
    say(`${p.name}: under MONITOR (${m.cases} cases): ${m.clientCommandsPerCase} client commands per case + ${m.luaCommandsPerCase} run inside scripts = ${m.allCommandsPerCase}`);
    for (const c of m.byCommand.filter((c) => c.perCase >= 0.05)) say(`  ${c.perCase.toFixed(2).padStart(6)} × ${c.command}${c.innerPerCase ? ` (+${c.innerPerCase.toFixed(2)} inside)` : ''}`);
  }
  say(`ratios: ${JSON.stringify(ratios)}`);
  for (const t of targets) say(`target ${t.met ? 'met    ' : 'NOT met'}  ${t.target}: ${t.value}`);
  say(`load average (1 min) during the run: ${machine.loadAverage1m.min.toFixed(1)}–${machine.loadAverage1m.max.toFixed(1)}`);
  say('report: bench-report.json');
  const incomplete = phases.some((p) => p.errors > 0 || (p.endToEnd && !p.endToEnd.complete));
  if (incomplete) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  killAll();
  process.exit(1);
});
