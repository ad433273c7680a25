/**
 * The ledger itself, on real PostgreSQL and on real PGlite: migrations, the newer-schema refusal,
 * the single-process lock, idempotent writes, reads in the status API's shape, and retention.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openLedger, type Ledger } from '../../src/ledger/ledger';
import { archivedCase, LEDGER_WAIT_MS } from './backends';
import { startTestPostgres, type TestPostgres } from './postgres';

const log = pino({ level: 'silent' });
let pgServer: TestPostgres;

beforeAll(async () => {
  pgServer = await startTestPostgres();
}, LEDGER_WAIT_MS);
afterAll(() => pgServer?.destroy());


type Backend = { name: string; open: () => Promise<{ url?: string; dataDir: string }> };
const backends: Backend[] = [
  { name: 'PostgreSQL', open: async () => ({ url: await pgServer.database(), dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
  { name: 'PGlite', open: async () => ({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
];

describe.each(backends)('the ledger on $name', (backend) => {
  let where: { url?: string; dataDir: string };
  let ledger: Ledger;
  beforeAll(async () => {
    where = await backend.open();
    ledger = await openLedger({ ...where, log });
  }, LEDGER_WAIT_MS);
  afterAll(() => ledger?.close());

  it('when opened, then every migration is applied once and recorded', async () => {
    const rows = await ledger.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows).toEqual([
      { version: 1, name: 'init' },
      { version: 2, name: 'audit_drain' },
      { version: 3, name: 'materials' },
    ]);
    const tables = await ledger.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
    expect(tables.map((t) => t.table_name)).toEqual(['ledger_audit', 'ledger_cases', 'ledger_deliveries', 'ledger_lookups', 'ledger_secrets', 'schema_migrations']);
  });

  it('when a case is written twice, then it is there once, read back in the status API shape with archived: true', async () => {
    const c = archivedCase('QZ-DB-1', '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z');
    await ledger.writeCase(c);
    await ledger.writeCase(c);
    expect(await ledger.query('SELECT case_id FROM ledger_cases WHERE case_id = $1', ['QZ-DB-1'])).toHaveLength(1);
    expect(await ledger.query('SELECT case_id FROM ledger_deliveries WHERE case_id = $1', ['QZ-DB-1'])).toHaveLength(1);
    expect(await ledger.readCase('QZ-DB-1')).toEqual({
      caseId: 'QZ-DB-1',
      itemCode: '330800-FG-001',
      status: 'completed',
      acceptedAt: '2026-11-28T01:30:00.000Z',
      archived: true,
      deliveries: [{ systemId: 'city-a', status: 'completed', attempts: 1, receiptNo: 'SL1', result: c.deliveries[0]!.result, history: c.deliveries[0]!.history }],
    });
    expect(await ledger.readCase('QZ-DB-nope')).toBeUndefined();
  });

  it('when many intakes ask at once whether their cases were archived, then each gets its own answer', async () => {
    const twoTargets = archivedCase('QZ-ASK-2', '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z');
    twoTargets.record.targets = ['city-a', 'city-b'];
    twoTargets.record.hash = 'h2';
    twoTargets.deliveries.push({ ...twoTargets.deliveries[0]!, systemId: 'city-b', status: 'rejected' });
    await ledger.writeCases([archivedCase('QZ-ASK-1', '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z'), twoTargets]);
    const ids = Array.from({ length: 60 }, (_, i) => `QZ-ASK-NEW-${i}`);
    const asked = ['QZ-ASK-1', ...ids.slice(0, 30), 'QZ-ASK-2', ...ids.slice(30), 'QZ-ASK-1'];
    const answers = await Promise.all(asked.map((id) => ledger.archivedHash(id)));
    expect(answers[0]).toEqual({ hash: 'h', deliveries: [{ systemId: 'city-a', status: 'completed' }] });
    expect(answers[31]).toEqual({ hash: 'h2', deliveries: [{ systemId: 'city-a', status: 'completed' }, { systemId: 'city-b', status: 'rejected' }] });
    expect(answers.at(-1)).toEqual(answers[0]);
    expect(answers.filter((a) => a === undefined)).toHaveLength(60);
    // An id with JSON's special characters is one id, not a way into the query.
    expect(await ledger.archivedHash('QZ-ASK-1", "x')).toBeUndefined();
  });

  it('when retention runs, then exactly the cases finished and audit entries made before the cutoff go', async () => {
    const cutoff = new Date('2026-06-01T00:00:00.000Z');
    await ledger.writeCase(archivedCase('QZ-RET-old', '2026-05-30T00:00:00.000Z', '2026-05-31T23:59:59.999Z'));
    await ledger.writeCase(archivedCase('QZ-RET-edge', '2026-05-30T00:00:00.000Z', '2026-06-01T00:00:00.000Z'));
    await ledger.writeCase(archivedCase('QZ-RET-new', '2026-05-30T00:00:00.000Z', '2026-06-02T00:00:00.000Z'));
    for (const at of ['2026-05-31T23:59:59.999Z', '2026-06-01T00:00:00.000Z']) {
      await ledger.query("INSERT INTO ledger_audit (at, who, action, target) VALUES ($1::timestamptz, 'ops', 'system.pause', 'city-a')", [at]);
    }
    // Audit entries have a cutoff of their own (six months at least, whatever cases keep): an earlier one keeps them.
    expect(await ledger.purge(cutoff, new Date('2026-01-01T00:00:00.000Z'))).toEqual({ cases: 1, audit: 0, lookups: 0 });
    const purged = await ledger.purge(cutoff);
    expect(purged).toEqual({ cases: 0, audit: 1, lookups: 0 });
    const left = await ledger.query<{ case_id: string }>("SELECT case_id FROM ledger_cases WHERE case_id LIKE 'QZ-RET-%' ORDER BY case_id");
    expect(left.map((r) => r.case_id)).toEqual(['QZ-RET-edge', 'QZ-RET-new']);
    expect(await ledger.query("SELECT 1 FROM ledger_deliveries WHERE case_id = 'QZ-RET-old'")).toHaveLength(0);
  });

  it('when the schema is newer than the code, then opening it is refused with one clear line', async () => {
    await ledger.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')");
    await ledger.close();
    await expect(openLedger({ ...where, log })).rejects.toThrow("the ledger's schema is version 999, newer than this gateway knows (3)");
    // Back as it was, for the other tests.
    const cleanup = await openLedgerIgnoringVersion(where);
    ledger = cleanup;
  });

  it('when 500 one-target cases are written, then each takes a few kilobytes (docs/operations.md: how big a day is)', async () => {
    const size = async () => (await ledger.query<{ bytes: string }>("SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c WHERE c.relname IN ('ledger_cases', 'ledger_deliveries') "))[0]!.bytes;
    const before = Number(await size());
    for (let i = 0; i < 500; i++) {
      const c = archivedCase(`QZ-SIZE-${i}`, '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z');
      c.deliveries[0]!.history.splice(1, 0, { at: '2026-11-28T01:30:01.000Z', event: 'attempt' }, { at: '2026-11-28T01:30:02.000Z', event: 'delivered', detail: 'receiptNo SL1' });
      await ledger.writeCase(c);
    }
    const perCase = (Number(await size()) - before) / 500;
    process.stdout.write(`ledger on ${backend.name}: ${Math.round(perCase)} bytes per one-target case (tables and indexes)\n`);
    expect(perCase).toBeGreaterThan(500);
    expect(perCase).toBeLessThan(16_384);
  }, LEDGER_WAIT_MS);

  if (backend.name === 'PGlite') {
    it('when a second opener comes while it is open, then it is refused clearly; a stale lock is taken over', async () => {
      await expect(openLedger({ ...where, log })).rejects.toThrow(/in use by process \d+: PGlite serves one process only; .*DATABASE_URL/);
      await ledger.close();
      fs.writeFileSync(path.join(where.dataDir, 'ledger', 'gateway.lock'), '999999'); // a process that is gone
      ledger = await openLedger({ ...where, log });
      expect(await ledger.readCase('QZ-DB-1')).toBeDefined();
    });
  }
});

describe('the embedded ledger made in a folder of its own', () => {
  it('when its database folder was left half made, then it is set aside (not deleted) and made anew', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-'));
    const ledgerDir = path.join(dataDir, 'ledger');
    fs.mkdirSync(path.join(ledgerDir, 'pgdata', 'base'), { recursive: true });
    fs.writeFileSync(path.join(ledgerDir, 'pgdata', 'base', 'left-over'), 'x'); // no PG_VERSION: an initdb cut short
    const made = await openLedger({ dataDir, log });
    try {
      await made.writeCase(archivedCase('QZ-MADE-1', '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z'));
      expect(await made.readCase('QZ-MADE-1')).toBeDefined();
      expect(fs.existsSync(path.join(ledgerDir, 'pgdata', 'PG_VERSION'))).toBe(true);
      const aside = fs.readdirSync(ledgerDir).filter((name) => name.startsWith('pgdata.incomplete-'));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(ledgerDir, aside[0]!, 'base', 'left-over'), 'utf8')).toBe('x');
      expect(fs.readdirSync(ledgerDir).filter((name) => name.includes('.initdb-'))).toEqual([]); // nothing half made left behind
    } finally {
      await made.close();
    }
  }, 120_000);
});

/** Removes the future migration row the refusal test added, then opens normally. */
async function openLedgerIgnoringVersion(where: { url?: string; dataDir: string }): Promise<Ledger> {
  if (where.url) {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: where.url });
    await client.connect();
    await client.query('DELETE FROM schema_migrations WHERE version = 999');
    await client.end();
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(path.join(where.dataDir, 'ledger', 'pgdata'));
    await db.query('DELETE FROM schema_migrations WHERE version = 999');
    await db.close();
  }
  return openLedger({ ...where, log });
}
