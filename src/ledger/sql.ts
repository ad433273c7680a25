/**
 * The ledger's two databases behind one small interface: PostgreSQL (or openGauss, KingbaseES)
 * through `pg` when DATABASE_URL is set, else PGlite in-process under $OW_DATA_DIR/ledger. The SQL
 * is the same for both; only connecting, transactions and closing differ.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export type SqlValue = string | number | boolean | null;

export interface Sql {
  query<R extends object>(text: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Several statements at once, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface SqlDatabase extends Sql {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class LedgerInUseError extends Error {}

export function connectPostgres(url: string, onIdleError: (err: Error) => void): SqlDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
  // A database restart kills idle connections; without a listener that would crash the process.
  pool.on('error', onIdleError);
  const on = (client: pg.Pool | pg.PoolClient): Sql => ({
    query: async <R extends object>(text: string, params: readonly SqlValue[] = []) => (await client.query<R>(text, [...params])).rows,
    exec: async (text: string) => void (await client.query(text)),
  });
  return {
    kind: 'postgres',
    ...on(pool),
    async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // Checked out, a client has no pool listener: a database that dies between two statements
      // would otherwise be an unhandled 'error' event. The next statement fails and says why.
      let broken: Error | undefined;
      const lost = (err: Error) => {
        broken = err;
        onIdleError(err);
      };
      client.on('error', lost);
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', lost);
        client.release(broken); // a broken connection is dropped, not handed out again
      }
    },
    close: () => pool.end(),
  };
}

/** Folders this process has open: PGlite would corrupt a data folder opened twice. */
const openHere = new Set<string>();

/**
 * PGlite is one process's database: a lock file names the owner. A lock left by a process that is
 * gone (kill -9, a power cut) is taken over; one held by a live process is a clear refusal.
 */
function lock(dir: string): () => void {
  const file = path.join(dir, 'gateway.lock');
  const refuse = (pid: number) =>
    new LedgerInUseError(
      `the embedded ledger at ${dir} is in use by process ${pid}: PGlite serves one process only; run several gateway processes (OW_ROLE) with DATABASE_URL pointing at PostgreSQL`,
    );
  if (openHere.has(dir)) throw refuse(process.pid);
  for (let tries = 0; ; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) throw refuse(pid);
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  openHere.add(dir);
  return () => {
    openHere.delete(dir);
    fs.rmSync(file, { force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PostgreSQL's shared buffers in the embedded ledger. PGlite's default, 160 MB, is WebAssembly memory
 * the process holds for good once the buffers have been used; the ledger's working set (cases archived
 * a few thousand a day, looked up by id) is a small part of it, and the operating system's page cache
 * holds the data files behind it. Only caching changes: every commit is written as before.
 */
const SHARED_BUFFERS = '16MB';

/**
 * A new data folder's cluster (initdb) is made in a short-lived process of its own, then moved into
 * place whole. PGlite makes it with a second WebAssembly PostgreSQL beside the first, some 600 MB that
 * a process does not give back: made in the gateway's process, the embedded ledger held ~900 MB of
 * RSS from its first start on; opened ready-made, ~130 MB. Moved into place only when complete, a
 * folder is never half made. A folder without PG_VERSION (an older gateway's initdb interrupted) is
 * set aside under another name, not deleted, and made anew.
 */
async function makeCluster(pgdata: string): Promise<void> {
  if (fs.existsSync(path.join(pgdata, 'PG_VERSION'))) return;
  const making = `${pgdata}.initdb-${process.pid}`;
  fs.rmSync(making, { recursive: true, force: true });
  const script = 'const [pglite, dir] = process.argv.slice(1); require(pglite).PGlite.create(dir).then((db) => db.close()).catch((err) => { process.stderr.write(String(err && err.message)); process.exit(1); });';
  try {
    await promisify(execFile)(process.execPath, ['-e', script, require.resolve('@electric-sql/pglite'), making]);
  } catch (err) {
    fs.rmSync(making, { recursive: true, force: true });
    const { stderr } = err as { stderr?: string };
    throw new Error(`the embedded ledger's database could not be made in ${pgdata}: ${stderr?.trim() || (err as Error).message}`, { cause: err });
  }
  if (fs.existsSync(pgdata)) fs.renameSync(pgdata, `${pgdata}.incomplete-${Date.now()}`);
  fs.renameSync(making, pgdata);
}

export async function openPglite(dir: string): Promise<SqlDatabase> {
  fs.mkdirSync(dir, { recursive: true });
  const unlock = lock(path.resolve(dir));
  let db;
  try {
    const pgdata = path.join(dir, 'pgdata');
    await makeCluster(pgdata);
    // Loaded only here: PostgreSQL deployments never pay for the WASM build.
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create(pgdata, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] });
  } catch (err) {
    unlock();
    throw err;
  }
  type Queryable = Pick<typeof db, 'query' | 'exec'>;
  const on = (q: Queryable): Sql => ({
    query: async <R extends object>(text: string, params: readonly SqlValue[] = []) => (await q.query<R>(text, [...params])).rows,
    exec: async (text: string) => void (await q.exec(text)),
  });
  const opened = db;
  return {
    kind: 'pglite',
    ...on(opened),
    transaction: <T>(work: (tx: Sql) => Promise<T>) => opened.transaction((tx) => work(on(tx))),
    async close() {
      try {
        await opened.close();
      } finally {
        unlock();
      }
    },
  };
}
