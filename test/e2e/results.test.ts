import crypto from 'node:crypto';
import type { RunningGateway } from '../../src/gateway';
import {
  OPS_TOKEN, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';

const RESULT_TOKEN = 'housing-result-token';
const pushMap = '{"caseId": ywh, "receiptNo": slbh, "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more"}, jg), "message": yj, "decidedAt": wcsj}';

describe('results come home', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let callbacks: LegacyServer;
  let callbackStatus = 200;
  // The legacy system pushes its result before it acknowledges, when asked to.
  const pushFirst = new Set<string>();
  // Poll answers by receipt number: pending until decided.
  const decided = new Map<string, string>();
  // Receipts whose decision comes with a NUL in its message.
  const garbled = new Set<string>();

  beforeAll(async () => {
    callbacks = await legacyServer((_req, _n, res) => replyJson(res, callbackStatus, { ok: callbackStatus < 300 }));
    legacy = await legacyServer((req, _n, res) => {
      if (req.method === 'GET') {
        const receiptNo = decodeURIComponent(/^\/results\/([^?]+)/.exec(req.url)?.[1] ?? '');
        const outcome = decided.get(receiptNo);
        return replyJson(res, 200, outcome ? { code: '0', data: { status: 'DONE', jg: outcome, yj: garbled.has(receiptNo) ? '办\u0000结' : '办结' } } : { code: '0', data: { status: 'PENDING' } });
      }
      const body = req.json as { bizNo: string };
      const receiptNo = `SL-${body.bizNo}`;
      if (pushFirst.has(body.bizNo)) {
        void pushResult(gateway, 'city-housing-reform', { ywh: body.bizNo, slbh: receiptNo, jg: '1', yj: '准予' }, RESULT_TOKEN).then(() =>
          replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: receiptNo } }),
        );
        return;
      }
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: receiptNo } });
    });
    const dir = writeConfig(
      [
        restSystem('city-housing-reform', `${legacy.url}/cases`, { result: { mode: 'push', map: pushMap, inboundToken: RESULT_TOKEN } }),
        restSystem('prov-polled', `${legacy.url}/cases`, {
          result: {
            mode: 'poll',
            map: '{"outcome": data.jg = "1" ? "approved" : "rejected", "message": data.yj}',
            poll: { endpoint: `${legacy.url}/results/{receiptNo}?case={caseId}`, intervalMs: 100, until: 'data.status = "DONE"', maxAgeMs: 1500 },
          },
        }),
      ],
      { routes: [{ itemCode: '330800-FG-*', targets: ['city-housing-reform'] }, { itemCode: '330000-POLL-*', targets: ['prov-polled'] }] },
      { intake: { callbackUrl: `${callbacks.url}/callbacks`, callbackSecret: 'cb-secret' } },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await callbacks.close();
  });

  const delivered = async (caseId: string) =>
    eventually(async () => {
      const v = await caseView(gateway, caseId);
      expect(v.body.deliveries[0].status).toBe('delivered');
      return v.body;
    });

  it('when a result is pushed by caseId, then the delivery is completed with it', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    const pushed = await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, slbh: `SL-${c.caseId}`, jg: '1', yj: '准予办理', wcsj: '2026-11-28T10:00:00+08:00' }, RESULT_TOKEN);
    expect(pushed).toEqual({ status: 200, body: { accepted: true, caseId: c.caseId, duplicate: false } });
    const view = (await caseView(gateway, c.caseId as string)).body;
    expect(view.status).toBe('completed');
    expect(view.deliveries[0]).toMatchObject({
      status: 'completed',
      receiptNo: `SL-${c.caseId}`,
      result: { caseId: c.caseId, systemId: 'city-housing-reform', receiptNo: `SL-${c.caseId}`, outcome: 'approved', message: '准予办理', decidedAt: '2026-11-28T10:00:00+08:00' },
    });
  });

  it('when a result carries only the receipt number, then it is correlated by it', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    const pushed = await pushResult(gateway, 'city-housing-reform', { slbh: `SL-${c.caseId}`, jg: '0', yj: '不予受理' }, RESULT_TOKEN);
    expect(pushed.status).toBe(200);
    expect(pushed.body.caseId).toBe(c.caseId);
    expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].result.outcome).toBe('rejected');
  });

  it('when the same result is pushed twice, then 200 both times and it is recorded once', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    const result = { ywh: c.caseId, slbh: `SL-${c.caseId}`, jg: '1', yj: '准予' };
    expect((await pushResult(gateway, 'city-housing-reform', result, RESULT_TOKEN)).body.duplicate).toBe(false);
    expect((await pushResult(gateway, 'city-housing-reform', result, RESULT_TOKEN)).body).toEqual({ accepted: true, caseId: c.caseId, duplicate: true });
    const history = (await caseView(gateway, c.caseId as string)).body.deliveries[0].history;
    expect(history.filter((h: { event: string }) => h.event === 'result')).toHaveLength(1);
  });

  it('when a second, different result arrives, then both are in the history and the latest wins', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, jg: '2', yj: '请补正材料' }, RESULT_TOKEN);
    await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, jg: '1', yj: '准予' }, RESULT_TOKEN);
    const d = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
    expect(d.result.outcome).toBe('approved');
    const results = d.history.filter((h: { event: string }) => h.event === 'result').map((h: { detail: string }) => h.detail);
    expect(results).toHaveLength(2);
    expect(results[0]).toContain('need_more');
    expect(results[1]).toContain('approved');
  });

  it('when the result arrives before the acknowledgement is recorded, then the delivery still ends completed', async () => {
    const c = sampleCase();
    pushFirst.add(c.caseId as string);
    await submit(gateway, c);
    const d = await eventually(async () => {
      const v = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(v.history.map((h: { event: string }) => h.event)).toContain('delivered');
      return v;
    });
    expect(d.status).toBe('completed');
    expect(d.receiptNo).toBe(`SL-${c.caseId}`);
    // True order: the result was recorded while the attempt was still waiting for its answer.
    expect(d.history.map((h: { event: string }) => h.event)).toEqual(['accepted', 'attempt', 'result', 'delivered']);
    const ats = d.history.map((h: { at: string }) => h.at);
    expect([...ats].sort()).toEqual(ats);
  });

  it('when a result names an unknown case, then 404 unknown_case, it is parked for ops, and re-matched when the case is delivered', async () => {
    const caseId = `QZ-LATE-${crypto.randomBytes(3).toString('hex')}`;
    const pushed = await pushResult(gateway, 'city-housing-reform', { ywh: caseId, jg: '1', yj: '准予' }, RESULT_TOKEN);
    expect(pushed.status).toBe(404);
    expect(pushed.body.error.code).toBe('unknown_case');
    const list = async () => (await (await fetch(`${gateway.url}/api/v1/admin/unmatched-results`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } })).json() as { items: any[] }).items;
    expect((await list()).some((u) => u.result.caseId === caseId && u.systemId === 'city-housing-reform')).toBe(true);

    await submit(gateway, sampleCase({ caseId }));
    const d = await eventually(async () => {
      const v = (await caseView(gateway, caseId)).body.deliveries[0];
      expect(v.status).toBe('completed');
      return v;
    });
    expect(d.result.outcome).toBe('approved');
    expect((await list()).some((u) => u.result.caseId === caseId)).toBe(false);
  });

  it('when the token is wrong or the result is malformed, then it is refused and nothing changes', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    expect((await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, jg: '1' }, 'wrong')).status).toBe(401);
    const bad = await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, jg: '7' }, RESULT_TOKEN);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_result', details: [{ path: 'outcome', message: expect.any(String) }] });
    expect((await pushResult(gateway, 'nat-nowhere', { ywh: c.caseId, jg: '1' }, RESULT_TOKEN)).status).toBe(401); // unknown ids answer as a wrong token does
    expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered');
  });

  it('when a system is polled, then the result is fetched on a schedule until it is decided', async () => {
    const c = sampleCase({ itemCode: '330000-POLL-001' });
    await submit(gateway, c);
    await delivered(c.caseId as string);
    const polls = () => legacy.received.filter((r) => r.method === 'GET' && r.url === `/results/SL-${c.caseId}?case=${c.caseId}`).length;
    await eventually(async () => expect(polls()).toBeGreaterThanOrEqual(2));
    expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered');

    decided.set(`SL-${c.caseId}`, '1');
    const d = await eventually(async () => {
      const v = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(v.status).toBe('completed');
      return v;
    });
    expect(d.result).toMatchObject({ caseId: c.caseId, receiptNo: `SL-${c.caseId}`, outcome: 'approved', message: '办结' });
    const after = polls();
    await new Promise((r) => setTimeout(r, 300));
    expect(polls()).toBe(after);
  });

  it('when a polled decision carries a NUL, then it is not recorded: the poll is a miss, and the delivery ages out dead', async () => {
    const c = sampleCase({ itemCode: '330000-POLL-003' });
    garbled.add(`SL-${c.caseId}`);
    decided.set(`SL-${c.caseId}`, '1');
    await submit(gateway, c);
    const d = await eventually(async () => {
      const v = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(v.status).toBe('dead');
      return v;
    }, 8000);
    expect(d.result).toBeUndefined();
    expect(d.lastError).toBe('no result from prov-polled within 1500 ms of polling');
    expect(legacy.received.filter((r) => r.method === 'GET' && r.url.startsWith(`/results/SL-${c.caseId}`)).length).toBeGreaterThanOrEqual(2);
  });

  it('when a polled system never decides, then the delivery ages out dead with a clear error', async () => {
    const c = sampleCase({ itemCode: '330000-POLL-002' });
    await submit(gateway, c);
    const d = await eventually(async () => {
      const v = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(v.status).toBe('dead');
      return v;
    }, 8000);
    expect(d.lastError).toBe('no result from prov-polled within 1500 ms of polling');
  });

  it('then every event reaches the intake platform signed, in order, retried on 500 with the same eventId', async () => {
    callbackStatus = 500;
    const c = sampleCase();
    await submit(gateway, c);
    await delivered(c.caseId as string);
    await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, jg: '1', yj: '准予' }, RESULT_TOKEN);
    const forCase = () => callbacks.received.filter((r) => (r.json as { caseId: string }).caseId === c.caseId);
    await eventually(async () => expect(forCase().length).toBeGreaterThanOrEqual(2));
    callbackStatus = 200;
    await eventually(async () => {
      const ok = new Set(forCase().map((r) => (r.json as { eventId: string }).eventId));
      expect(ok.size).toBe(2);
      expect(forCase().at(-1)!.json).toMatchObject({ event: 'delivery.completed' });
    });
    const tries = forCase();
    const firstEvent = tries[0]!.json as { eventId: string };
    expect(tries.filter((t) => (t.json as { eventId: string }).eventId === firstEvent.eventId).length).toBeGreaterThanOrEqual(2);
    for (const t of tries) {
      const signature = 'sha256=' + crypto.createHmac('sha256', 'cb-secret').update(`${t.headers['x-ow-timestamp']}.${t.body}`).digest('hex');
      expect(t.headers['x-ow-signature']).toBe(signature);
      expect(t.headers['x-ow-event-id']).toBe((t.json as { eventId: string }).eventId);
    }
    // Order: every try of "delivered" comes before the first try of "completed".
    const events = tries.map((t) => (t.json as { event: string }).event);
    expect(events.lastIndexOf('delivery.delivered')).toBeLessThan(events.indexOf('delivery.completed'));
    expect(tries.at(-1)!.json).toMatchObject({
      caseId: c.caseId, systemId: 'city-housing-reform', status: 'completed', receiptNo: `SL-${c.caseId}`, result: { outcome: 'approved' },
    });
  });
});
