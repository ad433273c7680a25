/**
 * Versioned migrations: src/ledger/migrations/NNN_name.sql, applied in order at start, each in its
 * own transaction together with its row in schema_migrations. A ledger whose schema is newer than
 * this code is refused: an older gateway writing into a newer schema could lose what it does not know.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Sql, SqlDatabase } from './sql';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export class LedgerSchemaError extends Error {}

/** The .sql files beside this module (copied to dist by `npm run build`), else in the source tree. */
export function migrationsDir(): string {
  const candidates = [path.join(__dirname, 'migrations'), path.resolve(__dirname, '../../../src/ledger/migrations')];
  const found = candidates.find((dir) => fs.existsSync(dir));
  if (!found) throw new LedgerSchemaError(`the ledger's migrations are missing (looked in ${candidates.join(' and ')})`);
  return found;
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return fs
    .readdirSync(dir)
    .map((file) => /^(\d+)_([\w-]+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2]!, sql: fs.readFileSync(path.join(dir, m[0]), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

function tooNew(found: number, known: number): LedgerSchemaError {
  return new LedgerSchemaError(
    `the ledger's schema is version ${found}, newer than this gateway knows (${known}): run the gateway version that wrote it, or restore a backup made before the upgrade`,
  );
}

/** Applies what is missing; answers the schema version the ledger is at afterwards. */
export async function migrate(db: SqlDatabase, migrations: Migration[] = loadMigrations()): Promise<number> {
  const known = migrations.at(-1)?.version ?? 0;
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
  const current = async (tx: Sql) => (await tx.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations'))[0]?.version ?? 0;
  const before = await current(db);
  if (before > known) throw tooNew(before, known);
  for (const migration of migrations.filter((m) => m.version > before)) {
    await db.transaction(async (tx) => {
      // Several gateway processes may start at once against one PostgreSQL: one migrates, the others wait.
      await tx.query('SELECT pg_advisory_xact_lock(7150001)');
      const now = await current(tx);
      if (now > known) throw tooNew(now, known);
      if (now >= migration.version) return; // another process applied it meanwhile
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    });
  }
  return current(db);
}
