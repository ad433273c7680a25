/**
 * The ops command line (dist/src/cli/main.js) and what a start-up refuses, as processes: check-config
 * lists every problem and starts nothing; placeholder or short secrets stop `npm start` naming the
 * variable; OW_ENV_FILE is read first (the environment wins); the daily actions talk to a running
 * gateway's API only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import YAML from 'yaml';
import { demoEnv } from '../../sim/samples';
import { eventually, INTAKE_TOKEN, legacyServer, OPS_TOKEN, redisUrl, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { READY_WAIT_MS, spawnGateway, stopGateway, untilReady, type GatewayProcess } from '../support/gateway-process';
import { freePort } from '../support/redis-server';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
// A database of its own: the spawned gateway uses the default key prefix.
const REDIS_DB = 12;
const GOOD_TOKENS = { OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN };

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: Record<string, string | undefined>): Promise<Ran> {
  const child = spawn(process.execPath, [script, ...args], { cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-cli-')), env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function envFile(lines: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-env-')), 'gateway.env');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

beforeAll(() => {
  for (const built of [MAIN, CLI]) if (!fs.existsSync(built)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
});

describe('ow check-config', () => {
  it('when the shipped config/ and the demo variables with real tokens are checked, then it exits 0 and says so', async () => {
    const r = await run(CLI, ['check-config', path.join(ROOT, 'config')], { ...demoEnv(), ...GOOD_TOKENS });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/environment OK: 44 systems/);
    expect(r.code).toBe(0);
  });

  it('when a folder and the environment are wrong in several ways, then one run lists every problem and exits 1', async () => {
    const broken = writeConfig([restSystem('city-a', 'nope')], { routes: [{ itemCode: '*', targets: ['city-x'] }] });
    const r = await run(CLI, ['check-config', broken], { OW_INTAKE_TOKEN: 'short-token', OW_OPS_TOKEN: 'change-me-ops-token', OW_ROLE: 'boss' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('systems/city-a.yaml at endpoint');
    expect(r.stderr).toContain('routes.yaml at routes[0].targets[0]: unknown system "city-x"');
    expect(r.stderr).toContain('ow: OW_ROLE must be one of');
    expect(r.stderr).toContain('ow: OW_INTAKE_TOKEN is shorter than 16 bytes');
    expect(r.stderr).toContain('ow: OW_OPS_TOKEN is a placeholder');
    expect(r.stderr).not.toContain('short-token');
    expect(r.stdout).toBe('');
  });
});

describe('npm start refuses placeholder and short secrets', () => {
  const k8sSecret = (): string => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy/k8s/secret.yaml'), 'utf8')).map((d) => d.toJS() as { metadata?: { name?: string }; stringData?: Record<string, string> });
    const data = docs.find((d) => d.metadata?.name === 'onewindow-env')!.stringData!;
    return envFile(Object.entries(data).map(([k, v]) => `${k}=${JSON.stringify(v)}`));
  };

  it.each([
    ['deploy/.env.example', () => path.join(ROOT, 'deploy/.env.example')],
    ['the deploy/k8s Secret', k8sSecret],
  ])('when %s is loaded as shipped, then the start is refused naming each placeholder, never its value', async (_name, file) => {
    const port = await freePort();
    const r = await run(MAIN, [], { OW_ENV_FILE: file(), OW_CONFIG_DIR: path.join(ROOT, 'config'), HOST: '127.0.0.1', PORT: String(port), OW_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-data-')) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('onewindow-gateway: OW_INTAKE_TOKEN is a placeholder');
    expect(r.stderr).toContain('onewindow-gateway: OW_OPS_TOKEN is a placeholder');
    expect(r.stderr).toMatch(/variables the configuration uses are placeholders .*CITY_HOUSING_TOKEN/);
    expect(r.stderr).not.toContain('change-me');
  });

  it('when a gateway token or secret is shorter than 16 bytes, then the start is refused naming it, with the other problems', async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/cases')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    const r = await run(MAIN, [], { OW_CONFIG_DIR: dir, OW_INTAKE_TOKEN: `${INTAKE_TOKEN},tiny`, OW_OPS_TOKEN: OPS_TOKEN, OW_VIEWER_TOKEN: 'secret', OW_CALLBACK_URL: 'http://127.0.0.1:9/cb', OW_CALLBACK_SECRET: 'cb-secret', OW_SHUTDOWN_GRACE_MS: 'soon' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'onewindow-gateway: OW_SHUTDOWN_GRACE_MS must be a number of milliseconds, not "soon"',
      expect.stringMatching(/^onewindow-gateway: OW_INTAKE_TOKEN is shorter than 16 bytes/),
      expect.stringMatching(/^onewindow-gateway: OW_VIEWER_TOKEN is a placeholder/),
      expect.stringMatching(/^onewindow-gateway: OW_CALLBACK_SECRET is shorter than 16 bytes/),
    ]);
  });

  it('when asked for --help, then it prints its usage and exits 0 without starting', async () => {
    const r = await run(MAIN, ['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm start/);
    expect(r.stdout).toContain('OW_ENV_FILE');
    const unknown = await run(MAIN, ['--port=1'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown argument "--port=1"');
  });
});

describe('OW_ENV_FILE and the daily actions against a running gateway', () => {
  let legacy: LegacyServer;
  let gateway: GatewayProcess;
  let dir: string;
  let file: string;
  const FILE_OPS_TOKEN = 'file-ops-token-0123456789';
  const cli = (args: string[], env: Record<string, string> = {}) => run(CLI, args, { OW_URL: gateway.url, OW_TOKEN: OPS_TOKEN, OW_OPERATOR: '值班员 张三', ...env });

  beforeAll(async () => {
    const flush = new Redis(`${redisUrl()}/${REDIS_DB}`);
    await flush.flushdb();
    flush.disconnect();
    legacy = await legacyServer((_req, _n, res) => replyJson(res, 200, { code: '0', data: { slbh: 'SL-1' } }));
    const retry = { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } };
    dir = writeConfig([restSystem('city-ok', `${legacy.url}/cases`), restSystem('city-gone', 'http://127.0.0.1:1/cases', { retry })], { routes: [{ itemCode: '*', targets: ['city-ok', 'city-gone'] }] });
    // The intake token only in the file; the ops token in both, where the environment's wins.
    file = envFile(['# the gateway\'s own', '', `OW_INTAKE_TOKEN="${INTAKE_TOKEN}"`, `OW_OPS_TOKEN=${FILE_OPS_TOKEN}`, `OW_CONFIG_DIR='${dir}'`]);
    gateway = await spawnGateway('cli', { OW_ENV_FILE: file, OW_OPS_TOKEN: OPS_TOKEN, REDIS_URL: `${redisUrl()}/${REDIS_DB}`, OW_LEDGER: 'off', OW_SHUTDOWN_GRACE_MS: '1000' });
    await untilReady(gateway);
  }, READY_WAIT_MS + 30_000);

  afterAll(async () => {
    await stopGateway(gateway);
    await legacy?.close();
  });

  it('when OW_ENV_FILE names a file, then its variables are read and a variable already set wins', async () => {
    expect((await submit(gateway, sampleCase())).status).toBe(202);
    const systems = (token: string) => fetch(`${gateway.url}/api/v1/admin/systems`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await systems(OPS_TOKEN)).toBe(200);
    expect(await systems(FILE_OPS_TOKEN)).toBe(401);
  });

  it('when ops pause, resume, list dead letters, replay one and read a case, then each prints what the API answered', async () => {
    const { caseId } = (await submit(gateway, sampleCase())).body as { caseId: string };
    const deadId = `city-gone.${caseId}`;
    await eventually(async () => {
      const r = await cli(['dead-letters', '--system', 'city-gone', '--json']);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as { items: Array<{ id: string }> }).items.map((d) => d.id)).toContain(deadId);
    }, 20_000);
    const listed = await cli(['dead-letters']);
    expect(listed.stdout).toMatch(/^ID\s+FAILED AT\s+ATTEMPTS\s+LAST ERROR/);
    expect(listed.stdout).toContain(deadId);

    const paused = await cli(['pause', 'city-ok', '--reason', '系统维护']);
    expect([paused.code, paused.stdout]).toEqual([0, 'city-ok: paused (circuit closed, 0 waiting)\n']);
    const table = (await cli(['systems'])).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+PAUSED\s+CIRCUIT\s+WAITING\s+ACTIVE\s+DELAYED\s+DEAD\s+LAST ERROR$/);
    expect(table.find((l) => l.startsWith('city-ok '))).toMatch(/^city-ok\s+yes\s+closed\s/);
    expect(table.find((l) => l.startsWith('city-gone '))).toMatch(/^city-gone\s+no\s+\w+\s+\d+\s+\d+\s+\d+\s+[1-9]\d*\s+\S/);
    expect((await cli(['resume', 'city-ok'])).stdout).toBe('city-ok: running (circuit closed, 0 waiting)\n');

    const replayed = await cli(['replay', deadId, '--reason', 'retry after fix']);
    expect([replayed.code, replayed.stdout]).toEqual([0, `${deadId}: queued again\n`]);
    const view = await cli(['case', caseId]);
    expect(view.code).toBe(0);
    expect(view.stdout.split('\n')[0]).toMatch(new RegExp(`^${caseId}\\s`));
    expect(view.stdout).toMatch(/\ncity-ok\s+(delivered|completed)\s+1\s+SL-1/);
    expect(view.stdout).toMatch(/\ncity-gone\s+\w+/);
    expect(JSON.parse((await cli(['case', caseId, '--json'])).stdout)).toEqual(expect.objectContaining({ caseId }));
    // The audit trail names the operator the command line sent.
    const audit = await fetch(`${gateway.url}/api/v1/admin/audit?limit=20`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } }).then((r) => r.json() as Promise<{ items: Array<{ action: string; who: string }> }>);
    expect(audit.items.find((e) => e.action === 'system.pause')?.who).toContain('值班员 张三');
  }, 60_000);

  it('when ops add a system file, its secret added to OW_ENV_FILE, and reload, then the gateway reads both again and the command says what it added; a broken folder lists every problem and exits 1', async () => {
    expect((await run(CLI, ['--help'], {})).stdout).toMatch(/\n {2}reload \[--reason R\]\s+read the gateway's OW_CONFIG_DIR again/);
    // Its secret as a file names it, added to OW_ENV_FILE now: a reload reads the file again, no restart.
    fs.writeFileSync(path.join(dir, 'systems', 'city-new.yaml'), YAML.stringify(restSystem('city-new', `${legacy.url}/new`, { auth: { type: 'bearer', token: '${CITY_NEW_TOKEN}' } })));
    const unset = await cli(['reload']);
    expect([unset.code, unset.stderr.split('\n')[1]]).toEqual([1, '  systems/city-new.yaml at auth.token: environment variable CITY_NEW_TOKEN is not set']);
    fs.appendFileSync(file, 'CITY_NEW_TOKEN=city-new-secret-0123\n');
    const reloaded = await cli(['reload', '--reason', '新增系统']);
    expect([reloaded.code, reloaded.stderr]).toEqual([0, '']);
    expect(reloaded.stdout).toBe(['added:      city-new (version 1)', 'changed:    none', 'unchanged:  2 systems', 'routes:     unchanged (version 1)', ''].join('\n'));
    const c = sampleCase({ targets: ['city-new'] });
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect(legacy.received.find((r) => r.url === '/new' && (r.json as { bizNo?: string }).bizNo === c.caseId)?.headers.authorization).toBe('Bearer city-new-secret-0123'));

    fs.writeFileSync(path.join(dir, 'systems', 'city-bad.yaml'), YAML.stringify(restSystem('city-bad', 'not a url', { timeoutMs: 'soon' })));
    const refused = await cli(['reload']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')).toEqual([
      'ow: 400 invalid_config: The configuration folder does not load as at start-up; nothing was changed.',
      expect.stringMatching(/^ {2}systems\/city-bad\.yaml at endpoint: /),
      expect.stringMatching(/^ {2}systems\/city-bad\.yaml at timeoutMs: /),
      '',
    ]);
    fs.rmSync(path.join(dir, 'systems', 'city-bad.yaml'));
    expect(JSON.parse((await cli(['reload', '--json'])).stdout)).toMatchObject({ added: [], unchanged: ['city-gone', 'city-new', 'city-ok'] });
  }, 60_000);

  it('when the token is wrong, the gateway unreachable or the command unknown, then one line says so with its exit code', async () => {
    const refused = await cli(['systems'], { OW_TOKEN: 'not-a-token-of-this-gateway' });
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toMatch(/^ow: 401 unauthorized: .*\(check OW_TOKEN\)\n$/);
    const unknown = await cli(['case', 'QZ-NO-SUCH-CASE']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^ow: 404 unknown_case: /);
    const port = await freePort();
    const away = await cli(['systems'], { OW_URL: `http://127.0.0.1:${port}` });
    expect([away.code, away.stderr]).toEqual([3, `ow: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED); set OW_URL\n`]);
    const wrong = await cli(['frobnicate']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^ow: unknown command "frobnicate"\nusage: /);
  });
});
