/**
 * `npm run demo`: the whole gateway on one machine. Embedded Redis, the simulators of all 44 legacy
 * systems, the gateway with the bundled config/, ~200 sample cases across every level, a live
 * progress bar, a summary per level, a case whose survey drawing is fetched from the material store
 * and handed over, a case completed (补正) with a look-up document as a material (demo-materials.ts),
 * a window look-up, and then it keeps serving until Ctrl-C.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import pretty from 'pino-pretty';
import { ConfigError, loadConfig, type GatewayConfig } from '../src/config/loader';
import type { SystemConfig } from '../src/config/schema';
import type { CaseView, DeliveryStatus } from '../src/cases/model';
import { routeCase } from '../src/cases/routing';
import { startGateway } from '../src/gateway';
import { Lifecycle } from '../src/platform/lifecycle';
import { loggerOptions, type Logger } from '../src/platform/logger';
import { sign } from '../src/platform/signing';
import { launchEmbeddedRedis } from '../src/platform/redis';
import { SAMPLE_FORM, demoEnv } from '../sim/samples';
import { startSimulators } from '../sim/server';
import { windowLookup } from './demo-lookup';
import { showLookupMaterial, showMaterials } from './demo-materials';

const INTAKE_TOKEN = 'demo-intake-token';
const OPS_TOKEN = 'demo-ops-token';
const CASES = 200;
/** Where the shipped system files send (http://127.0.0.1:9100/sim/…). */
const SHIPPED_SIM_PORT = 9100;
const CALLBACK_SECRET = 'demo-callback-secret';
/**
 * The simulated system that is down throughout the demo, with few attempts, so that its cases (5 of
 * the 200, the only ones its route gets) become dead letters for the console's dead-letter page.
 */
const DOWN_SYSTEM = 'city-urban-management';
const DOWN_RETRY: SystemConfig['retry'] = { attempts: 2, backoff: { type: 'fixed', delayMs: 1000, maxDelayMs: 1000 } };

/** Plays the intake platform: accepts callbacks and checks each one's HMAC signature. */
async function startCallbackReceiver(secret: string) {
  let received = 0;
  let bad = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = Number(req.headers['x-ow-timestamp']);
      const ok = req.headers['x-ow-signature'] === sign(secret, timestamp, body);
      if (ok) received++;
      else bad++;
      res.writeHead(ok ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`,
    received: () => received,
    badSignatures: () => bad,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}


/**
 * The gateway's logger in the demo: JSON lines to the log file, exactly as `npm start` writes them
 * to stdout; and, once the progress bar is done, the same lines prettified on this terminal by
 * pino-pretty. Only the demo prettifies: production lines stay JSON for the log shipper.
 */
function demoLogger(level: string, file: string): { log: Logger; showOnTerminal(): void } {
  const terminal = pretty({ colorize: Boolean(process.stdout.isTTY), singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: 1 });
  let showing = false;
  // Lines written before the summary would tear the progress bar: they go to the file only.
  const gate = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (showing) terminal.write(chunk);
      done();
    },
  });
  const streams = pino.multistream([
    { level: level as pino.Level, stream: pino.destination({ dest: file, mkdir: true, sync: false }) },
    { level: level as pino.Level, stream: gate },
  ]);
  return { log: pino(loggerOptions(level), streams), showOnTerminal: () => (showing = true) };
}

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴', '徐', '孙', '毛', '郑', '祝', '余'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超', '秀英', '建华', '晓东', '丽萍'];
const DISTRICTS = ['柯城区', '衢江区', '龙游县', '江山市', '常山县', '开化县'];
const CHANNELS = ['window', 'mobile', 'web', 'self-service'] as const;

function pick<T>(list: readonly T[]): T {
  return list[crypto.randomInt(list.length)]!;
}

/** An item code that a route's glob matches: the region part gets a Quzhou code, the rest a number. */
function itemCodeFor(glob: string): string {
  return glob.replace(/^(\d*)\*/, (_, digits: string) => (digits + '0802000').slice(0, 6)).replace(/\*/g, '001').replace(/\?/g, '1');
}

function idNumber(): string {
  const birth = `19${crypto.randomInt(50, 99)}0${crypto.randomInt(1, 9)}1${crypto.randomInt(0, 9)}`;
  return `33080${crypto.randomInt(1, 5)}${birth}${String(crypto.randomInt(0, 999)).padStart(3, '0')}${pick(['1', '2', 'X'])}`;
}

function sampleCase(n: number, itemCode: string, runId: string): Record<string, unknown> {
  const name = pick(SURNAMES) + pick(GIVEN);
  const id = idNumber();
  return {
    caseId: `QZ-${runId}-${String(n).padStart(6, '0')}`,
    itemCode,
    // About one case in twenty is one the legacy system will refuse (the simulators' marker).
    itemName: n % 20 === 7 ? `事项 ${itemCode} SIM-REJECT` : `事项 ${itemCode}`,
    channel: pick(CHANNELS),
    submittedAt: new Date().toISOString(),
    applicant: {
      kind: 'person',
      name,
      idType: 'ID_CARD',
      idNumber: id,
      phone: `138${String(crypto.randomInt(0, 1e8)).padStart(8, '0')}`,
      address: `衢州市${pick(DISTRICTS)}`,
    },
    materials: [{ name: '身份证', kind: 'ID_CARD', uri: `store://intake/id/${id}.pdf` }],
    form: SAMPLE_FORM,
  };
}

const LEVELS = ['national', 'provincial', 'city'] as const;
type Tally = Record<DeliveryStatus | 'accepted', number>;
const emptyTally = (): Tally => ({ accepted: 0, queued: 0, delivering: 0, delivered: 0, completed: 0, rejected: 0, dead: 0 });

function bar(done: number, total: number, width = 40): string {
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

// The demo's Ctrl-C, a failed start-up or a busy port: whatever started is stopped, within 20 s.
const lifecycle = new Lifecycle('demo', 20_000);
lifecycle.exitOnSignals(() => process.stdout.write('\nStopping…\n'));

/** Systems of the configuration that send to the simulators' shipped port although they run elsewhere. */
function pointingAtShippedPort(config: GatewayConfig, simPort: number): string[] {
  if (simPort === SHIPPED_SIM_PORT) return [];
  return [...config.systems.values()].filter((s) => /^https?:\/\/(127\.0\.0\.1|localhost):9100\//.test(s.endpoint)).map((s) => s.id);
}

async function main(): Promise<void> {
  // The bundled system files reference a few secrets; the demo fills in harmless values.
  Object.assign(process.env, demoEnv(process.env));
  const configDir = process.env.OW_CONFIG_DIR ?? './config';
  // Its own data, so that npm start never comes up with the demo's paused systems and dead letters.
  const dataDir = path.resolve(process.env.OW_DATA_DIR || 'data/demo');
  // Loopback only: the demo's tokens are printed on the screen and in the README.
  const host = process.env.HOST || '127.0.0.1';
  const simPort = Number(process.env.OW_SIM_PORT || SHIPPED_SIM_PORT);
  const problems: string[] = [];
  let config: GatewayConfig | undefined;
  try {
    config = loadConfig(configDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message);
  }
  if (!Number.isInteger(simPort) || simPort < 0 || simPort > 65535) problems.push(`OW_SIM_PORT must be a port number, not "${process.env.OW_SIM_PORT}"`);
  const stray = config ? pointingAtShippedPort(config, simPort) : [];
  if (stray.length > 0) {
    problems.push(
      `OW_SIM_PORT is ${simPort}, but ${stray.length} systems in ${path.resolve(configDir)} send to 127.0.0.1:${SHIPPED_SIM_PORT} (e.g. ${stray[0]}): ` +
        `point their endpoints at 127.0.0.1:${simPort} in a copy of config/ (OW_CONFIG_DIR), or leave OW_SIM_PORT unset`,
    );
  }
  const args = process.argv.slice(2);
  const fresh = args.includes('--fresh');
  for (const arg of args.filter((a) => a !== '--fresh')) problems.push(`unknown argument "${arg}" (npm run demo -- --fresh starts over)`);
  if (fresh && (dataDir === path.parse(dataDir).root || process.cwd().startsWith(dataDir))) problems.push(`--fresh will not clear ${dataDir}: it holds the working directory`);
  if (problems.length > 0 || !config) return lifecycle.exit(1, problems);

  // A second run continues the first one's cases, dead letters and paused systems: said, and --fresh starts over.
  const shownDir = path.relative(process.cwd(), dataDir) || dataDir;
  const earlier = fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0;
  if (fresh && earlier) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(`Starting over: cleared ./${shownDir}${process.env.REDIS_URL ? ` (not the Redis at REDIS_URL, which keeps its data)` : ''}.\n`);
  } else if (earlier) {
    process.stdout.write(`Continuing the state in ./${shownDir} (cases, dead letters, paused systems of earlier runs); npm run demo -- --fresh starts over.\n`);
  }

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    try {
      const embedded = await launchEmbeddedRedis(path.join(dataDir, 'redis'), lifecycle.signal);
      lifecycle.add(embedded, 'the embedded redis-server');
      redisUrl = embedded.url;
    } catch (err) {
      return lifecycle.exit(1, (err as Error).message);
    }
  }

  // Legacy systems decide after a moment; one case in twenty is refused, one in twenty needs more.
  const sims = await startSimulators({
    configDir,
    port: simPort,
    host: '127.0.0.1',
    env: process.env,
    defaults: { decisionDelayMs: 1500, outcomeMix: { rejected: 0.05, need_more: 0.05 } },
  }).catch((err: Error) => lifecycle.exit(1, `simulators: ${err.message}`));
  lifecycle.add({ stop: () => sims.close() }, 'the simulated systems');
  // A little weather: a few systems fail now and then (retried), a few refuse some cases.
  const ids = [...config.systems.keys()];
  for (const id of ids.filter((_, i) => i % 7 === 3)) sims.setFaults(id, { failureRate: 0.2 });
  for (const id of ids.filter((_, i) => i % 11 === 5)) sims.setFaults(id, { latencyMs: 300 });
  // And one system down all along, giving up after two attempts: its cases are the demo's dead letters.
  const down = config.systems.get(DOWN_SYSTEM);
  if (down) {
    sims.setFaults(DOWN_SYSTEM, { down: true });
    const systems = new Map(config.systems);
    systems.set(DOWN_SYSTEM, { ...down, retry: DOWN_RETRY, circuitBreaker: { ...down.circuitBreaker, failureThreshold: 100 } });
    config = { ...config, systems };
  }

  const logFile = path.join(dataDir, 'gateway.log');
  const { log, showOnTerminal } = demoLogger(process.env.LOG_LEVEL ?? 'info', logFile);
  // The intake platform's side: a small receiver that checks every callback's signature.
  const receiver = await startCallbackReceiver(CALLBACK_SECRET);
  lifecycle.add({ stop: () => receiver.close() }, 'the intake platform stand-in');
  config.gateway.intake = { callbackUrl: receiver.url, callbackSecret: CALLBACK_SECRET };

  const port = Number(process.env.PORT ?? config.gateway.server.port);
  const gateway = await startGateway({ config, redisUrl, tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN] }, log, port, host, dataDir, ledger: { url: process.env.DATABASE_URL } }).catch((err: Error) =>
    lifecycle.exit(1, err.message),
  );
  lifecycle.add(gateway, 'the gateway');
  // What a person opens; the demo itself talks to the address it listens on.
  const shown = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(host) ? `http://localhost:${gateway.port}` : gateway.url;
  const base = gateway.url;
  sims.setGatewayUrl(gateway.url);
  process.stdout.write(`OneWindow Gateway demo\n  gateway   ${shown} (listening on ${host})\n  simulators ${sims.url} (${config.systems.size} legacy systems)\n  callbacks ${receiver.url} (signatures checked)\n  redis     ${redisUrl}\n  data      ${dataDir}\n  log       ${logFile}\n\n`);

  const runId = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const routes = config.routes.routes;
  const submitted: Array<{ caseId: string; targets: string[] }> = [];
  process.stdout.write(`Submitting ${CASES} cases across ${routes.length} item routes…\n`);
  for (let n = 1; n <= CASES; n++) {
    const c = sampleCase(n, itemCodeFor(routes[(n - 1) % routes.length]!.itemCode), runId);
    const res = await fetch(`${base}/api/v1/cases`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${INTAKE_TOKEN}` },
      body: JSON.stringify(c),
    });
    if (res.status === 202 || res.status === 200) {
      submitted.push({ caseId: c.caseId as string, targets: routeCase(c as never, config) });
    } else {
      process.stdout.write(`  case ${String(c.caseId)}: HTTP ${res.status} ${await res.text()}\n`);
    }
  }

  const deliveriesTotal = submitted.reduce((n, s) => n + s.targets.length, 0);
  const tallies = () => Object.fromEntries(LEVELS.map((l) => [l, emptyTally()])) as Record<(typeof LEVELS)[number], Tally>;
  let summary = tallies();
  const deadline = Date.now() + 90_000;
  // Polled systems are asked every few seconds; give them a little while before counting them settled.
  const pollGrace = Date.now() + 20_000;
  for (;;) {
    summary = tallies();
    const views = await Promise.all(
      submitted.map(async (s) => {
        const res = await fetch(`${base}/api/v1/cases/${s.caseId}`, { headers: { Authorization: `Bearer ${INTAKE_TOKEN}` } });
        return (await res.json()) as CaseView;
      }),
    );
    let settled = 0;
    for (const view of views) {
      for (const d of view.deliveries) {
        const level = config.systems.get(d.systemId)?.level ?? 'city';
        summary[level].accepted++;
        summary[level][d.status]++;
        // Settled: decided (completed), refused, dead, or a polled system still deciding.
        const polled = config.systems.get(d.systemId)?.result?.mode === 'poll';
        if (d.status === 'completed' || d.status === 'rejected' || d.status === 'dead' || (d.status === 'delivered' && polled && Date.now() > pollGrace)) settled++;
      }
    }
    process.stdout.write(`\r  deliveries ${bar(settled, deliveriesTotal)}`);
    if (settled === deliveriesTotal || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  process.stdout.write('\n\nSummary by level (deliveries; a fan-out case counts once per target system)\n');
  const header = ['level', 'accepted', 'delivered', 'completed', 'retrying', 'rejected', 'dead'];
  const rows = LEVELS.map((l) => {
    const t = summary[l];
    return [l, t.accepted, t.delivered, t.completed, t.queued + t.delivering, t.rejected, t.dead].map(String);
  });
  const totals = header.slice(1).map((_, i) => String(rows.reduce((n, r) => n + Number(r[i + 1]), 0)));
  const table = [header, ...rows, ['total', ...totals]];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const [i, row] of table.entries()) {
    process.stdout.write('  ' + row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ') + '\n');
    if (i === 0 || i === rows.length) process.stdout.write('  ' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  }
  const stats = sims.stats();
  const duplicates = Object.values(stats).reduce((n, s) => n + s.duplicates, 0);
  process.stdout.write(`\n  redeliveries dropped by the simulators (Idempotency-Key): ${duplicates}\n`);
  process.stdout.write(`  callbacks received by the intake side: ${receiver.received()} (bad signatures: ${receiver.badSignatures()})\n`);
  await showMaterials({ url: `http://127.0.0.1:${gateway.port}`, intakeToken: INTAKE_TOKEN, sims, runId });
  await showLookupMaterial({ url: `http://127.0.0.1:${gateway.port}`, intakeToken: INTAKE_TOKEN, sims, runId });
  await windowLookup({ url: `http://127.0.0.1:${gateway.port}`, intakeToken: INTAKE_TOKEN, sealer: gateway.seals });
  process.stdout.write(`\nThe gateway keeps serving: try\n  curl -H 'Authorization: Bearer ${INTAKE_TOKEN}' ${base}/api/v1/cases/${submitted[0]?.caseId ?? ''}\n`);
  process.stdout.write(`  console: ${shown}/console   (ops token: ${OPS_TOKEN})\n`);
  if (down) process.stdout.write(`  ${DOWN_SYSTEM} is down throughout (simulated), so its cases are dead letters: see 死信 / Dead letters, and replay them after\n    curl -X PUT ${sims.url}/sim/_control/${DOWN_SYSTEM} -H 'Content-Type: application/json' -d '{"down": false}'\n`);
  process.stdout.write('Press Ctrl-C to stop.\n');
  process.stdout.write(`\nThe gateway's log from now on (JSON in ${logFile}; prettified here by pino-pretty):\n`);
  showOnTerminal();

  if (process.env.OW_DEMO_EXIT === '1') await lifecycle.exit(0);
}

main().catch((err: Error) => lifecycle.exit(1, err.message));
