/** The case store's Lua scripts, each transition and the replay guard, on the run's real Redis. */
import path from 'node:path';
import Redis from 'ioredis';
import { LuaScripts } from '../platform/lua';
import { CaseChanges, type CaseChange } from './changes';
import type { Case } from './model';
import { CaseStore } from './store';

const at = '2026-12-01T09:00:00.000Z';

function sampleCase(caseId: string): Case {
  return {
    caseId,
    itemCode: '330800-FG-001',
    itemName: '出具房改核查证明',
    channel: 'window',
    submittedAt: '2026-12-01T09:00:00+08:00',
    applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234' },
    materials: [],
    form: {},
  };
}

describe('the case store', () => {
  let redis: Redis;
  let store: CaseStore;
  let prefix: string;
  const heard: CaseChange[] = [];

  beforeAll(() => {
    redis = new Redis(process.env.OW_TEST_REDIS_URL!);
    prefix = `tstore${Date.now()}`;
    const changes = new CaseChanges();
    changes.on((c) => heard.push(c));
    store = new CaseStore(redis, { prefix, events: true, changes });
  });
  afterAll(() => redis.disconnect());

  async function accepted(caseId: string): Promise<void> {
    await store.accept({ case: sampleCase(caseId), hash: 'h', acceptedAt: at, targets: ['sys-a'] });
  }

  it('accepts a case once: the second accept answers the first record', async () => {
    const first = await store.accept({ case: sampleCase('QZ-S1'), hash: 'h1', acceptedAt: at, targets: ['sys-a', 'sys-b'] });
    const second = await store.accept({ case: sampleCase('QZ-S1'), hash: 'h2', acceptedAt: at, targets: ['sys-a'] });
    expect(first.created).toBe(true);
    // Routed elsewhere this time: the stored case's own deliveries are read and answered.
    expect(second).toMatchObject({ created: false, record: { hash: 'h1', targets: ['sys-a', 'sys-b'] }, statuses: ['queued', 'queued'] });
    expect(await store.deliveryStatus('QZ-S1', 'sys-b')).toBe('queued');
    // Routed alike (the usual resubmission): the accept script answers each delivery's status itself.
    await store.beginAttempt('QZ-S1', 'sys-b', at);
    const third = await store.accept({ case: sampleCase('QZ-S1'), hash: 'h1', acceptedAt: at, targets: ['sys-a', 'sys-b'] });
    expect(third).toMatchObject({ created: false, statuses: ['queued', 'delivering'] });
  });

  it('runs its scripts as before after Redis forgot them (a restarted server, SCRIPT FLUSH): EVALSHA is answered NOSCRIPT, and the script is sent whole once', async () => {
    await accepted('QZ-S0');
    await redis.script('FLUSH');
    expect(await store.beginAttempt('QZ-S0', 'sys-a', at)).toMatchObject({ send: true, status: 'delivering', attempts: 1 });
    expect(await store.record('QZ-S0', 'sys-a', { status: 'delivered', receiptNo: 'SL-0' }, { at, event: 'delivered' })).toBe('delivered');
  });

  it('moves queued → delivering → delivered → completed, raising an event and a change for each told status', async () => {
    await accepted('QZ-S2');
    // An attempt that may send gets the stored case with it.
    expect(await store.beginAttempt('QZ-S2', 'sys-a', at)).toEqual({ send: true, status: 'delivering', attempts: 1, sending: 0, record: expect.objectContaining({ case: sampleCase('QZ-S2'), targets: ['sys-a'] }) });
    expect(await store.record('QZ-S2', 'sys-a', { status: 'delivered', receiptNo: 'SL-1' }, { at, event: 'delivered' })).toBe('delivered');
    expect(await store.receiptHolders('sys-a', 'SL-1')).toEqual([{ caseId: 'QZ-S2', status: 'delivered', open: true }]);
    expect(await store.recordResult({ caseId: 'QZ-S2', systemId: 'sys-a', outcome: 'approved' }, at)).toBe('recorded');
    expect(await store.recordResult({ caseId: 'QZ-S2', systemId: 'sys-a', outcome: 'approved' }, at)).toBe('duplicate');
    expect((await store.outbox('QZ-S2')).map((e) => e.event)).toEqual(['delivery.delivered', 'delivery.completed']);
    expect(heard.filter((c) => c.caseId === 'QZ-S2').map((c) => c.status)).toEqual(['delivered', 'completed']);
    expect((await store.view('QZ-S2'))?.status).toBe('completed');
  });

  it('keeps a late acknowledgement after the result as history only: nothing moves back, no event', async () => {
    await accepted('QZ-S3');
    await store.beginAttempt('QZ-S3', 'sys-a', at);
    await store.recordResult({ caseId: 'QZ-S3', systemId: 'sys-a', outcome: 'approved' }, at);
    expect(await store.record('QZ-S3', 'sys-a', { status: 'delivered', receiptNo: 'SL-3' }, { at, event: 'delivered' })).toBe('completed');
    expect((await store.outbox('QZ-S3')).map((e) => e.event)).toEqual(['delivery.completed']);
    expect((await store.delivery('QZ-S3', 'sys-a'))?.history.map((h) => h.event)).toEqual(['accepted', 'attempt', 'result', 'delivered']);
  });

  it('never begins an attempt past sending, and a throttled try gives its attempt back', async () => {
    await accepted('QZ-S4');
    await store.beginAttempt('QZ-S4', 'sys-a', at);
    await store.record('QZ-S4', 'sys-a', { status: 'queued', attempts: 0 }, { at, event: 'throttled' });
    expect((await store.beginAttempt('QZ-S4', 'sys-a', at)).attempts).toBe(1);
    await store.record('QZ-S4', 'sys-a', { status: 'rejected', lastError: 'no' }, { at, event: 'rejected' });
    expect(await store.beginAttempt('QZ-S4', 'sys-a', at)).toEqual({ send: false, status: 'rejected', attempts: 1, sending: 0 });
  });

  it('runs a script sent twice with the same operation id (a resend after a reconnect) only once', async () => {
    await accepted('QZ-S5');
    const scripts = new LuaScripts(redis, path.join(__dirname, 'lua'), ['begin-attempt', 'record']);
    const keys = [`${prefix}:{QZ-S5}:d:sys-a`, `${prefix}:{QZ-S5}:h:sys-a`, `${prefix}:{QZ-S5}:case`];
    const entry = JSON.stringify({ at, event: 'attempt' });
    const stored = await redis.get(`${prefix}:{QZ-S5}:case`);
    expect(await scripts.run('begin-attempt', keys, [at, entry, 'op-1'])).toEqual(['delivering', '1', stored, '0']);
    expect(await scripts.run('begin-attempt', keys, [at, entry, 'op-1'])).toEqual(['delivering', '1', stored, '0']);
    const record = [`${prefix}:{QZ-S5}:d:sys-a`, `${prefix}:{QZ-S5}:h:sys-a`, `${prefix}:{QZ-S5}:outbox`];
    const args = ['dead', '{}', '{"event":"delivery.dead"}', at, JSON.stringify({ at, event: 'dead' }), 'op-2'];
    expect(await scripts.run('record', record, args)).toEqual(['dead', '']);
    expect(await scripts.run('record', record, args)).toEqual(['dead', '']);
    expect(await redis.llen(`${prefix}:{QZ-S5}:outbox`)).toBe(1);
    expect(await redis.llen(`${prefix}:{QZ-S5}:h:sys-a`)).toBe(3); // accepted, attempt, dead
    const results = new LuaScripts(redis, path.join(__dirname, 'lua'), ['record-result']);
    // A need_more result stops the case's clock in the same run: once, however often it is sent.
    const result = ['{"outcome":"need_more"}', JSON.stringify({ at, event: 'result' }), '{"event":"delivery.completed"}', at, 'SL-5', JSON.stringify({ at, event: 'stop', reason: 'need_more' }), 'op-3'];
    const withClock = [...record, `${prefix}:{QZ-S5}:clock`];
    expect(await results.run('record-result', withClock, result)).toBe('recorded');
    expect(await results.run('record-result', withClock, result)).toBe('recorded');
    expect(await redis.llen(`${prefix}:{QZ-S5}:clock`)).toBe(1);
    expect(await redis.hmget(`${prefix}:{QZ-S5}:d:sys-a`, 'status', 'receiptNo', 'op')).toEqual(['completed', 'SL-5', 'op-3']);
    expect(await redis.llen(`${prefix}:{QZ-S5}:outbox`)).toBe(2);
    expect(await redis.llen(`${prefix}:{QZ-S5}:h:sys-a`)).toBe(4);
  });

  it('indexes every delivery holding a receipt number, drops one given another number, and reads the single-case index of an earlier gateway', async () => {
    for (const caseId of ['QZ-R1', 'QZ-R2', 'QZ-R3']) await accepted(caseId);
    await store.record('QZ-R1', 'sys-a', { status: 'delivered', receiptNo: 'SL-R' }, { at, event: 'delivered' });
    await store.record('QZ-R2', 'sys-a', { status: 'delivered', receiptNo: 'SL-R' }, { at, event: 'delivered' });
    expect((await store.receiptHolders('sys-a', 'SL-R')).map((h) => [h.caseId, h.open])).toEqual([['QZ-R1', true], ['QZ-R2', true]]);
    // A replay acknowledged under a new number leaves the old one.
    await store.record('QZ-R2', 'sys-a', { status: 'delivered', receiptNo: 'SL-R2' }, { at, event: 'delivered' });
    expect((await store.receiptHolders('sys-a', 'SL-R')).map((h) => h.caseId)).toEqual(['QZ-R1']);
    expect(await redis.smembers(`${prefix}:receipts:sys-a:SL-R`)).toEqual(['QZ-R1']);
    // Before the sets, one string named the last case given the number.
    await redis.hset(`${prefix}:{QZ-R3}:d:sys-a`, 'receiptNo', 'SL-R');
    await redis.set(`${prefix}:receipt:sys-a:SL-R`, 'QZ-R3');
    expect((await store.receiptHolders('sys-a', 'SL-R')).map((h) => h.caseId)).toEqual(['QZ-R1', 'QZ-R3']);
  });
});
