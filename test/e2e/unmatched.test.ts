/**
 * Unmatched results (issue 9): parked within a per-system cap (count and bytes), refused clearly and
 * with nothing stored beyond it on every result endpoint, re-matched through their case and receipt
 * indexes without reading the rest of the parked set, and listed page by page.
 */
import crypto from 'node:crypto';
import Redis from 'ioredis';
import iconv from 'iconv-lite';
import * as soap from 'soap';
import type { RunningGateway } from '../../src/gateway';
import type { UnmatchedResult } from '../../src/results/unmatched-store';
import { monitorRedis } from '../support/redis-monitor';
import {
  OPS_TOKEN, admin, caseView, eventually, legacyServer, pushResult, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig,
  type LegacyServer,
} from '../support/harness';
import { storedState, xmlSystem } from '../xml/support';
import { addWsdls, caseServiceWsdl, soapSystem } from '../soap/support';

const map = '{"caseId": ywh, "receiptNo": slbh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}';
const TOKENS = { count: 'count-token', bytes: 'bytes-token', xml: 'xml-capped-token', soap: 'soap-capped-token', roomy: 'roomy-token', roomyB: 'roomy-b-token' };

/** A REST push system of the common dialect with its own inbound token. */
const pushSystem = (id: string, endpoint: string, token: string) => restSystem(id, endpoint, { result: { mode: 'push', map, inboundToken: token } });

const unknownCaseId = () => `QZ-NONE-${crypto.randomBytes(4).toString('hex')}`;

/** Every unmatched result the admin list has, following `next` page by page. */
async function listAll(gateway: RunningGateway, query: string, limit: number): Promise<{ items: UnmatchedResult[]; pages: number }> {
  const items: UnmatchedResult[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await admin(gateway, 'GET', `/unmatched-results?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...(res.body.items as UnmatchedResult[]));
    cursor = res.body.next as string | undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

let legacy: LegacyServer;
beforeAll(async () => {
  // Every delivery is acknowledged under the receipt number SL-<caseId>.
  legacy = await legacyServer((req, _n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } }));
});
afterAll(async () => {
  await legacy.close();
});

describe('when a system has parked as many unmatched results as it may', () => {
  let gateway: RunningGateway;
  let prefix: string;

  beforeAll(async () => {
    const dir = writeConfig(
      [
        pushSystem('city-count', `${legacy.url}/cases`, TOKENS.count),
        pushSystem('city-bytes', `${legacy.url}/cases`, TOKENS.bytes),
        xmlSystem('city-xml-capped', `${legacy.url}/cases`, { result: { ...(xmlSystem('x', '').result as object), inboundToken: TOKENS.xml } }),
        soapSystem('prov-soap-capped', `${legacy.url}/soap`, { result: { ...(soapSystem('x', '').result as object), inboundToken: TOKENS.soap, inboundUsername: 'qz-capped' } }),
      ],
      { routes: [{ itemCode: '330800-FG-*', targets: ['city-count'] }] },
      { unmatched: { maxPerSystem: 3, maxBytesPerSystem: '64kb' } },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    prefix = uniquePrefix();
    gateway = await startTestGateway(dir, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await gateway.stop();
  });

  it('then, by count, the next one is refused with 507 unmatched_full, saying it was NOT kept, and nothing is stored', async () => {
    const parked = [unknownCaseId(), unknownCaseId(), unknownCaseId()];
    for (const caseId of parked) expect((await pushResult(gateway, 'city-count', { ywh: caseId, jg: '1' }, TOKENS.count)).status).toBe(404);
    const before = await storedState(prefix);

    const refusedCase = unknownCaseId();
    const refused = await pushResult(gateway, 'city-count', { ywh: refusedCase, slbh: `SL-${refusedCase}`, jg: '1', yj: '准予' }, TOKENS.count);
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe('unmatched_full');
    expect(refused.body.error.message).toMatch(/NOT kept: city-count already has 3 unmatched results \(\d+ bytes\) parked, and may park at most 3 results/);
    expect(await storedState(prefix)).toEqual(before);

    const listed = (await admin(gateway, 'GET', '/unmatched-results?systemId=city-count')).body.items as UnmatchedResult[];
    expect(listed.map((u) => u.result.caseId).sort()).toEqual([...parked].sort());

    // The refused result is not waiting anywhere: its case, once delivered, stays without a result.
    await submit(gateway, sampleCase({ caseId: refusedCase }));
    await eventually(async () => expect((await caseView(gateway, refusedCase)).body.deliveries[0].status).toBe('delivered'));
    await new Promise((r) => setTimeout(r, 200));
    expect((await caseView(gateway, refusedCase)).body.deliveries[0].status).toBe('delivered');

    // A parked result claimed by its case makes room again.
    await submit(gateway, sampleCase({ caseId: parked[0] }));
    await eventually(async () => expect((await caseView(gateway, parked[0]!)).body.deliveries[0].status).toBe('completed'));
    expect((await pushResult(gateway, 'city-count', { ywh: unknownCaseId(), jg: '1' }, TOKENS.count)).status).toBe(404);
    expect((await pushResult(gateway, 'city-count', { ywh: unknownCaseId(), jg: '1' }, TOKENS.count)).status).toBe(507);
  });

  it('then, by bytes, a result that would pass the byte cap is refused although the count has room, and nothing is stored', async () => {
    // About 25 KB each: two fit under 64 KB, a third would not.
    const big = (caseId: string) => ({ ywh: caseId, jg: '1', fj: 'x'.repeat(25_000) });
    expect((await pushResult(gateway, 'city-bytes', big(unknownCaseId()), TOKENS.bytes)).status).toBe(404);
    expect((await pushResult(gateway, 'city-bytes', big(unknownCaseId()), TOKENS.bytes)).status).toBe(404);
    const before = await storedState(prefix);
    const refused = await pushResult(gateway, 'city-bytes', big(unknownCaseId()), TOKENS.bytes);
    expect(refused.status).toBe(507);
    expect(refused.body.error.message).toMatch(/city-bytes already has 2 unmatched results \(5\d{4} bytes\) parked, and may park at most 3 results or 65536 bytes/);
    expect(await storedState(prefix)).toEqual(before);
    // A small one still fits: the cap is on what is parked, not on how often.
    expect((await pushResult(gateway, 'city-bytes', { ywh: unknownCaseId(), jg: '1' }, TOKENS.bytes)).status).toBe(404);
    // Another system's cap is its own.
    expect((await gateway.store.unmatched.usage('city-count')).count).toBe(3);
  });

  it('then the XML endpoint acks 507 <code>unmatched_full</code> in the system charset, and nothing is stored', async () => {
    const push = async (caseId: string) => {
      const res = await fetch(`${gateway.url}/xml/results/city-xml-capped`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=GBK', authorization: `Bearer ${TOKENS.xml}` },
        body: iconv.encode(`<Result><ywh>${caseId}</ywh><jg>1</jg><yj>准予</yj></Result>`, 'gbk'),
      });
      return { status: res.status, text: iconv.decode(Buffer.from(await res.arrayBuffer()), 'gbk') };
    };
    for (let i = 0; i < 3; i++) expect((await push(unknownCaseId())).status).toBe(404);
    const before = await storedState(prefix);
    const refused = await push(unknownCaseId());
    expect(refused.status).toBe(507);
    expect(refused.text).toMatch(/^<\?xml version="1.0" encoding="GBK"\?><Ack><code>unmatched_full<\/code><msg>No delivery matches this result and it was NOT kept: city-xml-capped already has 3 /);
    expect(await storedState(prefix)).toEqual(before);
  });

  it('then SOAP PushResult answers a receiver Fault that says unmatched_full, and nothing is stored', async () => {
    const client = await soap.createClientAsync(`${gateway.url}/soap/results?wsdl`, { disableCache: true });
    client.setSecurity(new soap.WSSecurity('qz-capped', TOKENS.soap, { passwordType: 'PasswordDigest' }));
    const push = (caseId: string) =>
      new Promise<unknown>((resolve, reject) => {
        (client as any).ResultService.ResultSoap11.PushResult({ systemId: 'prov-soap-capped', caseId, outcome: '1' }, (err: any, result: unknown) => (err ? reject(err) : resolve(result)));
      });
    const fault = (err: any) => ({ status: err?.response?.status, code: err?.root?.Envelope?.Body?.Fault?.faultcode, text: err?.root?.Envelope?.Body?.Fault?.faultstring });
    for (let i = 0; i < 3; i++) expect((await push(unknownCaseId()).catch(fault)) as { text: string }).toMatchObject({ text: expect.stringMatching(/^unknown_case: /) });
    const before = await storedState(prefix);
    const refused = await push(unknownCaseId()).catch(fault);
    expect(refused).toMatchObject({ status: 500, code: expect.stringMatching(/Server$/), text: expect.stringMatching(/^unmatched_full: No delivery matches this result and it was NOT kept: prov-soap-capped already has 3 /) });
    expect(await storedState(prefix)).toEqual(before);
  });
});

describe('when results are parked and their deliveries are acknowledged later', () => {
  let gateway: RunningGateway;
  let prefix: string;

  beforeAll(async () => {
    const dir = writeConfig(
      [pushSystem('city-roomy', `${legacy.url}/cases`, TOKENS.roomy), pushSystem('city-roomy-b', `${legacy.url}/cases`, TOKENS.roomyB)],
      { routes: [{ itemCode: '330800-FG-*', targets: ['city-roomy'] }] },
    );
    prefix = uniquePrefix();
    gateway = await startTestGateway(dir, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await gateway.stop();
  });

  /** Pushes `n` results of unknown cases to a system, a few at a time. */
  async function parkMany(systemId: string, token: string, n: number): Promise<string[]> {
    const caseIds = Array.from({ length: n }, unknownCaseId);
    for (let i = 0; i < n; i += 20) {
      const answers = await Promise.all(caseIds.slice(i, i + 20).map((caseId) => pushResult(gateway, systemId, { ywh: caseId, jg: '0', yj: '不予受理' }, token)));
      for (const a of answers) expect(a.status).toBe(404);
    }
    return caseIds;
  }

  it('then re-matching by caseId and by receipt number reads only what names them, however many are parked', async () => {
    await parkMany('city-roomy', TOKENS.roomy, 300);
    const byCase = unknownCaseId();
    const byReceipt = unknownCaseId();
    expect((await pushResult(gateway, 'city-roomy', { ywh: byCase, jg: '1', yj: '准予' }, TOKENS.roomy)).status).toBe(404);
    // Only the receipt number the legacy system will give the delivery.
    expect((await pushResult(gateway, 'city-roomy', { slbh: `SL-${byReceipt}`, jg: '1', yj: '准予' }, TOKENS.roomy)).status).toBe(404);

    // Every command Redis runs on this gateway's unmatched keys while the two are delivered and matched.
    const seen: string[][] = [];
    const tag = `${prefix}:{unmatched:`;
    const monitor = await monitorRedis(redisUrl(), (args) => {
      if (args.slice(1).some((a) => a.startsWith(tag) || a === `${prefix}:unmatched`)) seen.push(args);
    });
    try {
      await submit(gateway, sampleCase({ caseId: byCase }));
      await submit(gateway, sampleCase({ caseId: byReceipt }));
      for (const caseId of [byCase, byReceipt]) {
        const d = await eventually(async () => {
          const v = (await caseView(gateway, caseId)).body.deliveries[0];
          expect(v.status).toBe('completed');
          return v;
        });
        expect(d.result).toMatchObject({ caseId, outcome: 'approved', message: '准予', receiptNo: `SL-${caseId}` });
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      monitor.stop();
    }
    const commands = seen.map((args) => args[0]!.toLowerCase());
    // The index look-ups, the reads of the two matched results and their drops: nothing that walks the set.
    expect(commands.filter((c) => ['hvals', 'hgetall', 'hkeys', 'hscan', 'zrangebyscore', 'scan', 'keys', 'smembers'].includes(c))).toEqual([]);
    expect(seen.filter((args) => args[0]!.toLowerCase() === 'zrange').every((args) => /:(case|receipt):/.test(args[1]!))).toBe(true);
    expect(commands.filter((c) => c === 'hmget')).toHaveLength(2);
    expect(seen.length).toBeLessThan(30);
    expect((await gateway.store.unmatched.usage('city-roomy')).count).toBe(300);
  });

  it('then ops re-match one by its id with one look-up: 200 when it matches, 409 when not, 404 when there is none', async () => {
    // A result parked although its delivery was acknowledged (a crash between the two), claimed by hand.
    const kase = sampleCase();
    const caseId = kase.caseId as string;
    await submit(gateway, kase);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0].status).toBe('delivered'));
    const id = `city-roomy-b.${crypto.randomUUID()}`;
    const late: UnmatchedResult = { id: `city-roomy.${crypto.randomUUID()}`, systemId: 'city-roomy', receivedAt: new Date().toISOString(), pushed: {}, result: { caseId, outcome: 'approved', message: '补录' }, reason: 'test' };
    expect(await gateway.store.unmatched.park(late, { maxPerSystem: 1000, maxBytesPerSystem: 1 << 24 })).toEqual({ parked: true });

    expect(await admin(gateway, 'POST', `/unmatched-results/${late.id}/rematch`)).toEqual({ status: 200, body: { id: late.id, matched: true } });
    expect((await caseView(gateway, caseId)).body.deliveries[0]).toMatchObject({ status: 'completed', result: { outcome: 'approved', message: '补录' } });
    expect(await gateway.store.unmatched.get(late.id)).toBeUndefined();
    expect((await admin(gateway, 'POST', `/unmatched-results/${late.id}/rematch`)).status).toBe(404);

    const [stillUnknown] = await parkMany('city-roomy-b', TOKENS.roomyB, 1);
    const parked = ((await admin(gateway, 'GET', '/unmatched-results?systemId=city-roomy-b')).body.items as UnmatchedResult[]).find((u) => u.result.caseId === stillUnknown)!;
    expect(await admin(gateway, 'POST', `/unmatched-results/${parked.id}/rematch`)).toEqual({ status: 409, body: { id: parked.id, matched: false } });
    expect((await admin(gateway, 'POST', `/unmatched-results/${id}/rematch`)).status).toBe(404);
    expect((await admin(gateway, 'POST', '/unmatched-results/not-an-id/rematch')).body.error.code).toBe('not_found');
    // Each re-match is in the ops trail, with what came of it.
    const trail = (await admin(gateway, 'GET', '/audit?limit=20')).body.items as Array<{ action: string; target: string; detail: string }>;
    expect(trail.filter((e) => e.action === 'unmatched.rematch').map((e) => [e.target, e.detail])).toEqual([
      [parked.id, 'still unmatched'],
      [late.id, 'matched and recorded'],
    ]);
  });

  it('then the ops list pages through every parked result exactly once, across systems and while more arrive', async () => {
    await parkMany('city-roomy-b', TOKENS.roomyB, 40);
    const all = (await gateway.store.unmatched.page(['city-roomy', 'city-roomy-b'], { limit: 10_000, maxBytes: Infinity })).items.map((u) => u.id);
    expect(all.length).toBeGreaterThan(340);

    const first = await admin(gateway, 'GET', '/unmatched-results?limit=7');
    const arriving = parkMany('city-roomy', TOKENS.roomy, 20);
    const { items, pages } = await listAll(gateway, '', 7);
    await arriving;
    const ids = items.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of all) expect(ids).toContain(id);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(all.length / 7));
    expect(first.body.items.map((u: UnmatchedResult) => u.id)).toEqual(ids.slice(0, 7));
    // By system id (then in the order they were parked).
    const systems = items.map((u) => u.systemId);
    expect(systems).toEqual([...systems].sort());

    const onlyB = await listAll(gateway, '&systemId=city-roomy-b', 9);
    expect(onlyB.items.every((u) => u.systemId === 'city-roomy-b')).toBe(true);
    expect(onlyB.items).toHaveLength(all.filter((id) => id.startsWith('city-roomy-b.')).length);
    expect((await admin(gateway, 'GET', '/unmatched-results?systemId=city-nothing')).body).toEqual({ items: [] });
  });

  it('then a page stops early at its byte budget, one result always fitting', async () => {
    const page = await gateway.store.unmatched.page(['city-roomy'], { limit: 50, maxBytes: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.next).toBeDefined();
    const next = await gateway.store.unmatched.page(['city-roomy'], { limit: 50, maxBytes: 1, cursor: page.next });
    expect(next.items[0]!.id).not.toBe(page.items[0]!.id);
  });

  it('then a bad query is refused with 400 invalid_request', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=x', 'cursor=garbage', 'systemId=NOT%20AN%20ID', 'other=1']) {
      const res = await fetch(`${gateway.url}/api/v1/admin/unmatched-results?${query}`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
      expect({ query, status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ query, status: 400, code: 'invalid_request' });
    }
  });
});

describe('when an earlier gateway left its unmatched results in one hash', () => {
  it('then they move to their systems at start, none dropped, whatever the cap', async () => {
    const prefix = uniquePrefix();
    const redis = new Redis(redisUrl());
    const old = (n: number): UnmatchedResult => ({ id: crypto.randomUUID(), systemId: 'city-old', receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), pushed: { n }, result: { caseId: `QZ-OLD-${n}`, outcome: 'approved' }, reason: 'old' });
    const olds = [1, 2, 3].map(old);
    try {
      for (const u of olds) await redis.hset(`${prefix}:unmatched`, u.id, JSON.stringify(u));
      const dir = writeConfig([pushSystem('city-old', `${legacy.url}/cases`, 'old-token')], { routes: [{ itemCode: '330800-FG-*', targets: ['city-old'] }] }, { unmatched: { maxPerSystem: 1 } });
      const gateway = await startTestGateway(dir, { keyPrefix: prefix });
      try {
        const items = await eventually(async () => {
          const listed = (await admin(gateway, 'GET', '/unmatched-results')).body.items as UnmatchedResult[];
          expect(listed).toHaveLength(3);
          return listed;
        });
        expect(items.map((u) => u.id).sort()).toEqual(olds.map((u) => `city-old.${u.id}`).sort());
        expect(await redis.exists(`${prefix}:unmatched`)).toBe(0);
      } finally {
        await gateway.stop();
      }
    } finally {
      redis.disconnect();
    }
  });
});

describe('when a system whose receipt counter restarted gives two open deliveries one receipt number', () => {
  const TOKEN = 'restarted-token';
  const SOAP_TOKEN = 'restarted-soap-token';
  const XML_TOKEN = 'restarted-xml-token';
  const soapMap = '{"caseId": caseId, "receiptNo": receiptNo, "outcome": outcome = "1" ? "approved" : "rejected", "message": message}';
  // The receipt number each case is acknowledged with; SL-<caseId> for any other.
  const receiptOf = new Map<string, string>();
  let counter: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    counter = await legacyServer((req, _n, res) => {
      const bizNo = (req.json as { bizNo: string }).bizNo;
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: receiptOf.get(bizNo) ?? `SL-${bizNo}` } });
    });
    const dir = writeConfig(
      [
        pushSystem('city-restarted', `${counter.url}/cases`, TOKEN),
        // Pushes over SOAP: PushResult's own argument names.
        restSystem('city-restarted-soap', `${counter.url}/cases`, { result: { mode: 'push', map: soapMap, inboundToken: SOAP_TOKEN, inboundUsername: 'qz-restarted' } }),
        // Pushes XML: the document with its root element.
        restSystem('city-restarted-xml', `${counter.url}/cases`, { result: { mode: 'push', map: `Result.${map}`, inboundToken: XML_TOKEN } }),
      ],
      {
        routes: [
          { itemCode: '330800-FG-*', targets: ['city-restarted'] },
          { itemCode: '330800-BDC-*', targets: ['city-restarted-soap'] },
          { itemCode: '330800-RS-*', targets: ['city-restarted-xml'] },
        ],
      },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await counter.close();
  });

  /** Two cases (of the item routed to `itemCode`'s system), both acknowledged with the same receipt number. */
  async function twoWithOneReceipt(itemCode = '330800-FG-001'): Promise<{ a: string; b: string; receiptNo: string }> {
    const receiptNo = `SL-${crypto.randomBytes(4).toString('hex')}`;
    const [a, b] = [sampleCase({ itemCode }), sampleCase({ itemCode })].map((c) => c.caseId as string) as [string, string];
    for (const caseId of [a, b]) {
      receiptOf.set(caseId, receiptNo);
      expect((await submit(gateway, sampleCase({ caseId, itemCode }))).status).toBe(202);
      await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries[0]).toMatchObject({ status: 'delivered', receiptNo }));
    }
    return { a, b, receiptNo };
  }
  const delivery = async (caseId: string) => (await caseView(gateway, caseId)).body.deliveries[0];

  it('then the collision is noted in both histories, a result naming only that number is parked as ambiguous_receipt (409) with both cases, and completes neither', async () => {
    const { a, b, receiptNo } = await twoWithOneReceipt();
    // Noted in both histories when the second receipt was recorded.
    expect((await delivery(a)).history).toContainEqual(expect.objectContaining({ event: 'receipt_shared', detail: expect.stringContaining(`held by the open delivery of case ${b}`) }));
    expect((await delivery(b)).history).toContainEqual(expect.objectContaining({ event: 'receipt_shared', detail: expect.stringContaining(`held by the open delivery of case ${a}`) }));

    const pushed = await pushResult(gateway, 'city-restarted', { slbh: receiptNo, jg: '1', yj: '准予' }, TOKEN);
    expect(pushed.status).toBe(409);
    expect(pushed.body.error.code).toBe('ambiguous_receipt');
    expect(pushed.body.error.message).toContain(`(cases ${[a, b].sort().join(', ')})`);
    expect((await delivery(a)).status).toBe('delivered');
    expect((await delivery(b)).status).toBe('delivered');
    const listed = (await admin(gateway, 'GET', '/unmatched-results?systemId=city-restarted')).body.items as UnmatchedResult[];
    const parked = listed.find((u) => u.result.receiptNo === receiptNo)!;
    expect(parked).toMatchObject({ candidates: [a, b].sort(), reason: expect.stringContaining('is held by more than one delivery (cases') });

    // Named by its caseId, a result still goes where it says; the other delivery keeps waiting.
    expect((await pushResult(gateway, 'city-restarted', { ywh: a, slbh: receiptNo, jg: '0', yj: '不予受理' }, TOKEN)).status).toBe(200);
    expect(await delivery(a)).toMatchObject({ status: 'completed', result: { outcome: 'rejected' } });
    expect((await delivery(b)).status).toBe('delivered');
    // The same result again, by the receipt number alone, is a duplicate of a's: b is not completed with it.
    expect((await pushResult(gateway, 'city-restarted', { slbh: receiptNo, jg: '0', yj: '不予受理' }, TOKEN)).body).toMatchObject({ caseId: a, duplicate: true });
    expect((await delivery(b)).status).toBe('delivered');
    // Now only b is open: ops re-match the parked result to it.
    expect(await admin(gateway, 'POST', `/unmatched-results/${parked.id}/rematch`)).toEqual({ status: 200, body: { id: parked.id, matched: true } });
    expect(await delivery(b)).toMatchObject({ status: 'completed', result: { outcome: 'approved', message: '准予', receiptNo } });
  });

  it('then a result whose caseId and receipt number name different deliveries is refused with 409 receipt_mismatch, and nothing changes', async () => {
    const kase = sampleCase();
    const caseId = kase.caseId as string;
    await submit(gateway, kase);
    await eventually(async () => expect((await delivery(caseId)).status).toBe('delivered'));
    const before = await gateway.store.unmatched.usage('city-restarted');
    const refused = await pushResult(gateway, 'city-restarted', { ywh: caseId, slbh: 'SL-SOMEONE-ELSE', jg: '1', yj: '准予' }, TOKEN);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'receipt_mismatch', message: expect.stringContaining(`case ${caseId}`) });
    expect(await delivery(caseId)).toMatchObject({ status: 'delivered', receiptNo: `SL-${caseId}` });
    expect(await gateway.store.unmatched.usage('city-restarted')).toEqual(before);
  });

  it('then the XML endpoint acks 409 <code>ambiguous_receipt</code> and SOAP PushResult answers a sender Fault that says so', async () => {
    const { a, b, receiptNo } = await twoWithOneReceipt('330800-RS-001');
    const xml = await fetch(`${gateway.url}/xml/results/city-restarted-xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', authorization: `Bearer ${XML_TOKEN}` },
      body: `<Result><slbh>${receiptNo}</slbh><jg>1</jg><yj>准予</yj></Result>`,
    });
    expect(xml.status).toBe(409);
    expect(await xml.text()).toContain('<code>ambiguous_receipt</code>');
    const mismatch = await fetch(`${gateway.url}/xml/results/city-restarted-xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', authorization: `Bearer ${XML_TOKEN}` },
      body: `<Result><ywh>${a}</ywh><slbh>SL-SOMEONE-ELSE</slbh><jg>1</jg></Result>`,
    });
    expect(mismatch.status).toBe(409);
    expect(await mismatch.text()).toContain('<code>receipt_mismatch</code>');

    const soapCase = await twoWithOneReceipt('330800-BDC-001');
    const client = await soap.createClientAsync(`${gateway.url}/soap/results?wsdl`, { disableCache: true });
    client.setSecurity(new soap.WSSecurity('qz-restarted', SOAP_TOKEN, { passwordType: 'PasswordDigest' }));
    const fault = await new Promise<any>((resolve, reject) => {
      (client as any).ResultService.ResultSoap11.PushResult({ systemId: 'city-restarted-soap', receiptNo: soapCase.receiptNo, outcome: '1' }, (err: any) => (err ? resolve(err) : reject(new Error('accepted'))));
    });
    expect(fault.root?.Envelope?.Body?.Fault).toMatchObject({ faultcode: expect.stringMatching(/Client$/), faultstring: expect.stringMatching(/^ambiguous_receipt: Receipt number /) });
    for (const caseId of [a, b, soapCase.a, soapCase.b]) expect((await delivery(caseId)).status).toBe('delivered');
  });
});
