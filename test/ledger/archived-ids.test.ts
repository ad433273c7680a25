/**
 * The archived-ids filter (src/ledger/archived-ids.ts) on a real Redis and a real PGlite ledger:
 * until it is complete every id is a "maybe" (intake asks the ledger, as without a filter); the
 * sweep fills it from what the ledger already holds; once complete, an id never archived is "no"
 * without a ledger question, and an archived one is always "maybe".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import { ArchivedIds, filteredArchive } from '../../src/ledger/archived-ids';
import { openLedger, type Ledger } from '../../src/ledger/ledger';
import { redisUrl, uniquePrefix } from '../support/harness';
import { archivedCase, LEDGER_WAIT_MS } from './backends';

let redis: Redis;
let ledger: Ledger;
beforeAll(async () => {
  redis = new Redis(redisUrl());
  ledger = await openLedger({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ow-archived-ids-')), log: pino({ level: 'silent' }) });
}, LEDGER_WAIT_MS);
afterAll(async () => {
  redis?.disconnect();
  await ledger?.close();
});

describe('the archived-ids filter', () => {
  it('when it is not complete, then every id may be archived; once complete, only the ones added are', async () => {
    const ids = new ArchivedIds(redis, uniquePrefix());
    expect(await ids.mightHold('QZ-NEVER')).toBe(true);
    await ids.add(['QZ-A1', 'QZ-A2']);
    expect(await ids.complete()).toBe(false);
    await ids.markComplete();
    expect(await ids.complete()).toBe(true);
    expect(await ids.mightHold('QZ-A1')).toBe(true);
    expect(await ids.mightHold('QZ-A2')).toBe(true);
    const unknown = Array.from({ length: 2000 }, (_, i) => `QZ-NEW-${i}`);
    const maybe = await Promise.all(unknown.map((id) => ids.mightHold(id)));
    expect(maybe.filter(Boolean)).toEqual([]); // two ids in 2^26 bits: no false "maybe" among 2 000
  });

  it('when it is filled page by page from the ledger, then every archived id is a "maybe", and intake asks the ledger only for those', async () => {
    const prefix = uniquePrefix();
    const ids = new ArchivedIds(redis, prefix);
    const archived = Array.from({ length: 120 }, (_, i) => `QZ-L-${String(i).padStart(3, '0')}`);
    await ledger.writeCases(archived.map((id) => archivedCase(id, '2026-11-28T01:30:00.000Z', '2026-11-28T02:00:00.000Z')));
    for (let after = ''; ; ) {
      const page = await ledger.caseIdsAfter(after, 50);
      await ids.add(page);
      if (page.length < 50) break;
      after = page.at(-1)!;
    }
    await ids.markComplete();
    expect((await Promise.all(archived.map((id) => ids.mightHold(id)))).every(Boolean)).toBe(true);

    let asked = 0;
    const counting = { ...ledger, healthy: () => true, readCase: ledger.readCase.bind(ledger), archivedHash: (id: string) => ((asked += 1), ledger.archivedHash(id)) } as unknown as Ledger;
    const archive = filteredArchive(counting, ids);
    expect(await archive.archivedHash('QZ-L-007')).toMatchObject({ hash: 'h', deliveries: [{ systemId: 'city-a', status: 'completed' }] });
    expect(await archive.archivedHash('QZ-L-NEW')).toBeUndefined();
    expect(asked).toBe(1);
  });
});
