/**
 * The start-up stumbles of a new user, against the built processes: `npm start` (dist/src/main.js),
 * `npm run demo` (dist/scripts/demo.js) and `npm run sim` (dist/sim/main.js). Each failure is one
 * clear line, leaves no redis-server behind, and one run lists every problem.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { startGateway } from '../../src/gateway';
import { ListenError } from '../../src/platform/listen';
import { demoEnv } from '../../sim/samples';
import { eventually, INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, uniquePrefix, writeConfig } from '../support/harness';
import { freePort } from '../support/redis-server';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const DEMO = path.join(ROOT, 'dist/scripts/demo.js');
const SIM = path.join(ROOT, 'dist/sim/main.js');
const tokens = { OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN };

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string | undefined>, cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-cwd-')), args: string[] = []): Run {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [script, ...args], { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Live redis-server processes whose data folder lies under `dir`. */
function redisServersUnder(dir: string): string[] {
  const rows = execFileSync('ps', ['-eo', 'stat=,args=']).toString().split('\n');
  return rows.filter((row) => !row.trim().startsWith('Z') && row.includes('redis-server') && row.includes(dir));
}

/** Holds a port on 127.0.0.1, as another program would. */
async function occupy(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A copy of the shipped config/ whose endpoints point at the simulators on `port` instead of 9100. */
function shippedConfigOn(port: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-shipped-'));
  fs.cpSync(path.join(ROOT, 'config'), dir, { recursive: true });
  const rewrite = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) rewrite(full);
      else fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replaceAll('127.0.0.1:9100', `127.0.0.1:${port}`));
    }
  };
  rewrite(dir);
  return dir;
}

/** The listening sockets (`address:port`) of a process, as `ss` sees them: no traffic needed. */
function listeningOn(port: number): string[] {
  return execFileSync('ss', ['-Hltn', `sport = :${port}`]).toString().trim().split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3]!);
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |Unhandled error event/);

describe('npm start: start-up problems', () => {
  let configDir: string;

  beforeAll(() => {
    for (const built of [MAIN, DEMO, SIM]) if (!fs.existsSync(built)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
    configDir = writeConfig([restSystem('city-housing-reform', 'http://127.0.0.1:9/cases')], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] });
  });

  it('when the configuration is broken and the tokens are unset, then one run lists both and exits 1', async () => {
    const broken = writeConfig([restSystem('city-a', 'nope')], { routes: [{ itemCode: '*', targets: ['city-x'] }] });
    const r = run(MAIN, { OW_CONFIG_DIR: broken });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('routes.yaml at routes[0].targets[0]: unknown system "city-x"');
    expect(r.stderr()).toContain('onewindow-gateway: OW_INTAKE_TOKEN and OW_OPS_TOKEN must be set');
    noStack(r.stderr());
  });

  it('when REDIS_URL is unreachable, then one line names it (password redacted) and it exits 1 after the start-up deadline', async () => {
    const started = Date.now();
    const r = run(MAIN, { ...tokens, OW_CONFIG_DIR: configDir, REDIS_URL: 'redis://:s3cret-pass@127.0.0.1:1', OW_STARTUP_TIMEOUT_MS: '2000', PORT: '0' });
    expect(await r.exited).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(r.stderr()).toBe('onewindow-gateway: Redis at redis://:***@127.0.0.1:1 is not reachable (ECONNREFUSED)\n');
    expect(r.stdout() + r.stderr()).not.toContain('s3cret-pass');
  });

  it('when the port is taken, then one line says which and the embedded redis-server is stopped', async () => {
    const busy = await occupy();
    try {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-data-'));
      const r = run(MAIN, { ...tokens, OW_CONFIG_DIR: configDir, OW_DATA_DIR: dataDir, PORT: String(busy.port) });
      expect(await r.exited).toBe(1);
      // Without HOST it listens on every address, so the one taken on loopback is in the way too.
      expect(r.stderr()).toBe(`onewindow-gateway: port ${busy.port} on 0.0.0.0 is in use; set PORT\n`);
      expect(fs.existsSync(path.join(dataDir, 'redis'))).toBe(true); // it had started one…
      expect(redisServersUnder(dataDir)).toEqual([]); // …and stopped it
    } finally {
      await busy.close();
    }
  });

  it('when HOST and OW_DATA_DIR are set, then it listens on that address only and keeps Redis under $OW_DATA_DIR/redis', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-data-'));
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-cwd-'));
    const port = await freePort();
    const r = run(MAIN, { ...tokens, OW_CONFIG_DIR: configDir, OW_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port) }, cwd);
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), 45_000);
      expect(listeningOn(port)).toEqual([`127.0.0.1:${port}`]);
      expect(fs.readdirSync(path.join(dataDir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
      expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false);
    } finally {
      r.child.kill('SIGTERM');
    }
    expect(await r.exited).toBe(0);
    expect(redisServersUnder(dataDir)).toEqual([]);
  }, 70_000);

  it('when HOST is unset, then it listens on every address (0.0.0.0)', async () => {
    const port = await freePort();
    const r = run(MAIN, { ...tokens, OW_CONFIG_DIR: configDir, OW_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-data-')), PORT: String(port) });
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), 45_000);
      expect(listeningOn(port)).toEqual([`0.0.0.0:${port}`]);
    } finally {
      r.child.kill('SIGTERM');
    }
    expect(await r.exited).toBe(0);
  }, 70_000);
});

describe('startGateway', () => {
  it('when its port is taken, then it rejects with a clear error instead of waiting for ever', async () => {
    const busy = await occupy();
    try {
      const starting = startGateway({
        config: loadConfig(writeConfig([restSystem('city-housing-reform', 'http://127.0.0.1:9/cases')], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] }), {}),
        redisUrl: redisUrl(),
        tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN] },
        log: pino({ level: 'silent' }),
        port: busy.port,
        host: '127.0.0.1',
        keyPrefix: uniquePrefix(),
      });
      await expect(starting).rejects.toThrow(new ListenError(`port ${busy.port} on 127.0.0.1 is in use; set PORT`, 'EADDRINUSE'));
    } finally {
      await busy.close();
    }
  });
});

describe('npm run demo and npm run sim: ports and data', () => {
  it('when the gateway port is taken, then the demo says so in one line, on 127.0.0.1, and leaves no redis-server (its data under ./data/demo)', async () => {
    const busy = await occupy();
    const simPort = await freePort();
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-demo-'));
    try {
      const r = run(DEMO, { OW_CONFIG_DIR: shippedConfigOn(simPort), OW_SIM_PORT: String(simPort), PORT: String(busy.port) }, cwd);
      expect(await r.exited).toBe(1);
      expect(r.stderr()).toBe(`demo: port ${busy.port} on 127.0.0.1 is in use; set PORT\n`);
      expect(fs.existsSync(path.join(cwd, 'data/demo/redis'))).toBe(true);
      expect(fs.existsSync(path.join(cwd, 'data/redis'))).toBe(false);
      expect(redisServersUnder(cwd)).toEqual([]);
    } finally {
      await busy.close();
    }
  }, 40_000);

  it('when run again, then the demo says it continues the state in ./data/demo, and -- --fresh clears it first', async () => {
    // A taken gateway port ends each run right after the embedded Redis wrote its folder: enough to see the start.
    const busy = await occupy();
    const simPort = await freePort();
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-demo-again-'));
    const env = { OW_CONFIG_DIR: shippedConfigOn(simPort), OW_SIM_PORT: String(simPort), PORT: String(busy.port) };
    try {
      const first = run(DEMO, env, cwd);
      expect(await first.exited).toBe(1);
      expect(first.stdout()).not.toContain('Continuing');
      const again = run(DEMO, env, cwd);
      expect(await again.exited).toBe(1);
      expect(again.stdout()).toContain('Continuing the state in ./data/demo (cases, dead letters, paused systems of earlier runs); npm run demo -- --fresh starts over.');
      const marker = path.join(cwd, 'data/demo/earlier-run');
      fs.writeFileSync(marker, '');
      const fresh = run(DEMO, env, cwd, ['--fresh']);
      expect(await fresh.exited).toBe(1);
      expect(fresh.stdout()).toContain('Starting over: cleared ./data/demo.');
      expect(fresh.stdout()).not.toContain('Continuing');
      expect(fs.existsSync(marker)).toBe(false);
      expect(redisServersUnder(cwd)).toEqual([]);
      const wrong = run(DEMO, env, cwd, ['--frseh']);
      expect(await wrong.exited).toBe(1);
      expect(wrong.stderr()).toBe('demo: unknown argument "--frseh" (npm run demo -- --fresh starts over)\n');
    } finally {
      await busy.close();
    }
  }, 90_000);

  describe('when the demo has run to the end', () => {
    let dataDir: string;
    let out: string;
    let exitCode: number | null;
    beforeAll(async () => {
      const simPort = await freePort();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-demo-dead-'));
      const r = run(DEMO, { OW_CONFIG_DIR: shippedConfigOn(simPort), OW_SIM_PORT: String(simPort), OW_DATA_DIR: dataDir, PORT: '0', OW_DEMO_EXIT: '1' });
      exitCode = await r.exited;
      out = r.stdout();
    }, 180_000);

    it('then the demo has made dead letters: the system it keeps down gave its cases up after two attempts', () => {
      expect(exitCode).toBe(0);
      // 200 cases over 45 routes: the down system's route gets 5 of them, each a dead letter.
      const city = out.split('\n').find((line) => /^\s+city\s/.test(line))!.trim().split(/\s+/);
      expect(city[6]).toBe('5');
      expect(out).toContain('city-urban-management is down throughout (simulated), so its cases are dead letters');
      expect(redisServersUnder(dataDir)).toEqual([]);
    });

    it('then it has shown a case completed (补正) with a look-up document, handed over with its seal and verified as received', () => {
      expect(exitCode).toBe(0);
      const part = out.slice(out.indexOf('A look-up document as a material'), out.indexOf('Window look-up'));
      expect(part).toMatch(/^ {4}city-real-estate-registration +need_more: /m);
      expect(part).toMatch(/resubmitted \(补正\) with lookup:\/\/[0-9a-f-]{36}\/household: HTTP 202/);
      expect(part).toMatch(/^ {4}HOUSEHOLD +户籍信息.* bytes +sha256 [0-9a-f]{12}… +fetched once$/m);
      expect(part).toMatch(/^ {4}city-real-estate-registration +delivered +inline: 3 materials \(.*HOUSEHOLD \d+ bytes/m);
      expect(part).toMatch(/^ {4}city-real-estate-registration +HOUSEHOLD +\d+ bytes via inline, sha256 [0-9a-f]{12}… matches what it said, with its seal$/m);
      expect(part).toContain('POST /api/v1/seal/verify  the record as city-real-estate-registration received it, with the seal beside it: valid');
    });
  });

  it('when the simulator port is taken, then the demo names OW_SIM_PORT and leaves no redis-server', async () => {
    const busy = await occupy();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-demo-data-'));
    try {
      const r = run(DEMO, { OW_CONFIG_DIR: shippedConfigOn(busy.port), OW_SIM_PORT: String(busy.port), OW_DATA_DIR: dataDir, PORT: '0' });
      expect(await r.exited).toBe(1);
      expect(r.stderr()).toBe(`demo: simulators: port ${busy.port} on 127.0.0.1 is in use; set OW_SIM_PORT\n`);
      expect(fs.existsSync(path.join(dataDir, 'redis'))).toBe(true);
      expect(redisServersUnder(dataDir)).toEqual([]);
    } finally {
      await busy.close();
    }
  }, 40_000);

  it('when OW_SIM_PORT differs from the port the configuration sends to, then the demo refuses before starting anything', async () => {
    const r = run(DEMO, { OW_CONFIG_DIR: path.join(ROOT, 'config'), OW_SIM_PORT: String(await freePort()) });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(/^demo: OW_SIM_PORT is \d+, but 44 systems in .* send to 127\.0\.0\.1:9100 .*OW_CONFIG_DIR.*\n$/);
  });

  it('when OW_SIM_PORT is set, then npm run sim listens there', async () => {
    const port = await freePort();
    const r = run(SIM, { ...demoEnv(), OW_CONFIG_DIR: path.join(ROOT, 'config'), OW_SIM_PORT: String(port) });
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/sim/_stats`)).status).toBe(200), 20_000);
    } finally {
      r.child.kill('SIGTERM');
    }
    expect(await r.exited).toBe(0);
  }, 30_000);
});
