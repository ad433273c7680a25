/** The two ledgers every ledger test runs on: a real PostgreSQL cluster of its own, and PGlite. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestPostgres } from './postgres';

export interface LedgerPlace {
  url?: string;
  dataDir: string;
}

export interface Backend {
  name: 'PostgreSQL' | 'PGlite';
  place: (pg: TestPostgres) => Promise<LedgerPlace>;
}

export const BACKENDS: Backend[] = [
  { name: 'PostgreSQL', place: async (pg) => ({ url: await pg.database(), dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
  { name: 'PGlite', place: async () => ({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
];
