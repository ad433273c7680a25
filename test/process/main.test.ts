/**
 * `npm start` as an operator runs it: the built gateway as a real child process.
 */
import { execSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { eventually, legacyServer, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { freePort } from '../support/redis-server';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string | undefined>, cwd: string): Run {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv });
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('npm start (dist/src/main.js)', () => {
  let legacy: LegacyServer;
  let configDir: string;

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    configDir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] });
  });
  afterAll(() => legacy.close());

  const tokens = { OW_INTAKE_TOKEN: 'test-intake-token', OW_OPS_TOKEN: 'test-ops-admin-token' };

  it('when the configuration is broken, then it lists every error and exits 1 without a stack trace', async () => {
    const broken = writeConfig([restSystem('city-a', 'nope', { colour: 'red' })], { routes: [{ itemCode: '*', targets: ['city-x'] }] });
    const r = run({ ...tokens, OW_CONFIG_DIR: broken }, os.tmpdir());
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('systems/city-a.yaml at endpoint');
    expect(r.stderr()).toContain('colour');
    expect(r.stderr()).toContain('routes.yaml at routes[0].targets[0]: unknown system "city-x"');
    expect(r.stderr()).not.toMatch(/\n\s+at /);
  });

  it('when the tokens are not set, then it says which and exits 1', async () => {
    const r = run({ OW_CONFIG_DIR: configDir }, os.tmpdir());
    expect(await r.exited).toBe(1);
    expect(r.stderr().trim()).toBe('onewindow-gateway: OW_INTAKE_TOKEN and OW_OPS_TOKEN must be set (bearer tokens of the intake platform and of ops staff)');
  });

  it('when redis-server is not installed and REDIS_URL is unset, then one line says how to install it', async () => {
    // A PATH with nothing on it: node itself is started by its full path.
    const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-path-'));
    const r = run({ ...tokens, OW_CONFIG_DIR: configDir, PATH: emptyPath }, os.tmpdir());
    expect(await r.exited).toBe(1);
    const lines = r.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('apt-get install -y redis-server');
  });

  it('when REDIS_URL is unset, then it runs its own redis-server under ./data/redis and stops it on SIGTERM', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-start-'));
    const port = await freePort();
    const r = run({ ...tokens, OW_CONFIG_DIR: configDir, PORT: String(port) }, cwd);
    // A failed expectation must not leave the gateway (and its Redis) running: the file would never end.
    try {
      const gateway = { url: `http://127.0.0.1:${port}` };
      // The embedded ledger (PGlite) starts with the process: slow on a loaded machine.
      await eventually(async () => expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200), 90_000);
      const c = sampleCase();
      expect((await submit(gateway, c)).status).toBe(202);
      await eventually(async () => expect(legacy.received.some((x) => (x.json as { bizNo: string }).bizNo === c.caseId)).toBe(true));
      expect(fs.readdirSync(path.join(cwd, 'data/redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
      // It holds every case and has no password: it listens on no TCP port, only on a socket its user alone may open.
      const socket = path.join(cwd, 'data/redis/redis.sock');
      expect(fs.statSync(socket).isSocket()).toBe(true);
      expect(fs.statSync(socket).mode & 0o777).toBe(0o700);
      const redis = new Redis({ path: socket });
      try {
        expect(await redis.config('GET', 'port')).toEqual(['port', '0']);
      } finally {
        redis.disconnect();
      }
      if (process.getuid?.() === 0) {
        // Another user of the machine (nobody) is refused at the socket itself, in folders anyone may enter.
        fs.chmodSync(cwd, 0o755);
        const other = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('net').connect(${JSON.stringify(socket)}).on('error', (e) => { console.log(e.code); process.exit(0); }).on('connect', () => { console.log('connected'); process.exit(0); })`], { encoding: 'utf8' });
        expect(other.stdout.trim()).toBe('EACCES');
      }

      r.child.kill('SIGTERM');
      expect(await r.exited).toBe(0);
    } finally {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    }
    // The embedded redis-server went with it: nothing listens on its port any more.
    const leftovers = execSync('ps -eo args').toString();
    expect(leftovers).not.toContain(`--dir ${path.join(cwd, 'data/redis')}`);
  }, 120_000);
});
