/** The two ledgers every ledger test runs on: a real PostgreSQL cluster of its own, and PGlite. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArchivedCase } from '../../src/ledger/ledger';
import type { TestPostgres } from './postgres';

export interface LedgerPlace {
  url?: string;
  dataDir: string;
}

export interface Backend {
  name: 'PostgreSQL' | 'PGlite';
  place: (pg: TestPostgres) => Promise<LedgerPlace>;
}

/**
 * How long a hook or test that starts a gateway with a ledger may take. A start takes seconds; PGlite's
 * first start (initdb and the migrations in WebAssembly) on a busy 2-core machine has taken over a
 * minute. The bound only turns a hang into a failure.
 */
export const LEDGER_WAIT_MS = 150_000;

export const BACKENDS: Backend[] = [
  { name: 'PostgreSQL', place: async (pg) => ({ url: await pg.database(), dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
  { name: 'PGlite', place: async () => ({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-ledger-')) }) },
];

/** A one-target completed case as the sweep would archive it. */
export function archivedCase(caseId: string, acceptedAt: string, finishedAt: string, extra: Partial<ArchivedCase> = {}): ArchivedCase {
  return {
    record: {
      case: { caseId, itemCode: '330800-FG-001', itemName: '出具房改核查证明', channel: 'window', submittedAt: acceptedAt, applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234' }, materials: [], form: {} },
      hash: 'h',
      acceptedAt,
      targets: ['city-a'],
    },
    status: 'completed',
    finishedAt,
    deliveries: [
      {
        systemId: 'city-a',
        level: 'city',
        status: 'completed',
        attempts: 1,
        receiptNo: 'SL1',
        result: { caseId, systemId: 'city-a', outcome: 'approved', message: '同意' },
        history: [
          { at: acceptedAt, event: 'accepted' },
          { at: finishedAt, event: 'result', detail: 'approved' },
        ],
        discarded: false,
        endedAt: finishedAt,
        deliveredAt: acceptedAt,
        completedAt: finishedAt,
      },
    ],
    ...extra,
  };
}
