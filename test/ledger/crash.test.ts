/**
 * kill -9 between the ledger write and the Redis delete (the test hook OW_TEST_CRASH_AFTER_LEDGER_WRITE
 * makes the built gateway, `node dist/src/main.js`, SIGKILL itself at exactly that point): nothing
 * is lost, and the repeated move duplicates nothing. Its own Redis, its own PostgreSQL, or PGlite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import { openLedger, type Ledger } from '../../src/ledger/ledger';
import { INTAKE_TOKEN, OPS_TOKEN, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, submit, writeConfig, type LegacyServer } from '../support/harness';
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server';
import { BACKENDS, type LedgerPlace, LEDGER_WAIT_MS } from './backends';
import { startTestPostgres, type TestPostgres } from './postgres';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');
const RESULT_TOKEN = 'result-token-crash';
let pg: TestPostgres;
let legacy: LegacyServer;

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
  pg = await startTestPostgres();
  legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
}, LEDGER_WAIT_MS);
afterAll(async () => {
  await legacy?.close();
  await pg?.destroy();
});

interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  stderr: () => string;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  let err = '';
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), OW_INTAKE_TOKEN: INTAKE_TOKEN, OW_OPS_TOKEN: OPS_TOKEN, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${err}`);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  }, 30_000);
  return { process: child, url, exited, stderr: () => err };
}

describe.each(BACKENDS)('a crash between the ledger write and the Redis delete, on $name', (backend) => {
  let redis: TestRedis;
  let client: Redis;
  let place: LedgerPlace;
  let child: Child | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url);
    place = await backend.place(pg);
  }, LEDGER_WAIT_MS);
  afterAll(async () => {
    if (child && child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGTERM');
      await child.exited;
    }
    client?.disconnect();
    await redis?.stop();
  });

  /** The ledger as a separate reader sees it (PGlite: the dead gateway's stale lock is taken over). */
  async function withLedger<T>(read: (ledger: Ledger) => Promise<T>): Promise<T> {
    const ledger = await openLedger({ url: place.url, dataDir: place.dataDir, log: pino({ level: 'silent' }) });
    try {
      return await read(ledger);
    } finally {
      await ledger.close();
    }
  }

  it('when the gateway is killed right after writing, then a restart finishes the move: every case once in the ledger, gone from Redis, still answered', async () => {
    const configDir = writeConfig(
      [restSystem('city-a', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: RESULT_TOKEN } })],
      { routes: [{ itemCode: '*', targets: ['city-a'] }] },
      { retention: { hot: '2s', sweepEvery: '200ms' } },
    );
    const env = { REDIS_URL: redis.url, OW_CONFIG_DIR: configDir, OW_DATA_DIR: place.dataDir, ...(place.url ? { DATABASE_URL: place.url } : {}) };
    child = await startChild({ ...env, OW_TEST_CRASH_AFTER_LEDGER_WRITE: '1' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = sampleCase();
      ids.push(String(c.caseId));
      expect((await submit(child, c)).status).toBe(202);
    }
    await eventually(async () => {
      for (const id of ids) expect(await client.hget(`ow:{${id}}:d:city-a`, 'status')).toBe('delivered');
    });
    // Within retention.hot, so every result is in before the sweep may remove (and so crash).
    for (const id of ids) expect((await pushResult(child, 'city-a', { ywh: id }, RESULT_TOKEN)).status).toBe(200);

    expect(await child.exited).toBe('SIGKILL');
    for (const id of ids) expect(await client.exists(`ow:{${id}}:case`)).toBe(1); // nothing deleted yet
    expect(await withLedger((l) => l.query('SELECT case_id FROM ledger_cases'))).toHaveLength(5);

    child = await startChild(env);
    await eventually(async () => {
      for (const id of ids) expect(await client.exists(`ow:{${id}}:case`)).toBe(0);
    }, 20_000);
    for (const id of ids) {
      const res = await fetch(`${child.url}/api/v1/cases/${id}`, { headers: { Authorization: `Bearer ${INTAKE_TOKEN}` } });
      const view = (await res.json()) as { archived: boolean; status: string; deliveries: { history: { event: string }[] }[] };
      expect(view.archived).toBe(true);
      expect(view.status).toBe('completed');
      expect(view.deliveries).toHaveLength(1);
      expect(view.deliveries[0]!.history.filter((h) => h.event === 'result')).toHaveLength(1);
    }
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const rows = await withLedger(async (l) => ({
      cases: await l.query<{ case_id: string }>('SELECT case_id FROM ledger_cases ORDER BY case_id'),
      deliveries: await l.query('SELECT case_id FROM ledger_deliveries'),
    }));
    expect(rows.cases.map((r) => r.case_id)).toEqual([...ids].sort());
    expect(rows.deliveries).toHaveLength(5);
    expect(await client.zcard('ow:ledger:finished')).toBe(0);
    expect(await client.zcard('ow:ledger:archived')).toBe(0);
  }, 90_000);
});
