/**
 * A system whose results are polled (`result.mode: poll`) that asks for more (补正): the applicant's
 * completed case is delivered to it again, its poll is registered again for the new sending, and
 * the decision polled after it is recorded; nothing left of the first sending's poll stands in the way.
 */
import { Queue } from 'bullmq';
import type { RunningGateway } from '../../src/gateway';
import Redis from 'ioredis';
import { POLL_QUEUE } from '../../src/results/poller';
import { caseView, eventually, legacyServer, pushResult, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';

const RESULT_TOKEN = 'polled-push-token';

/** What the simulated system answers a poll of a receipt number with. */
type Answer = { status: 'PENDING' } | { status: 'DONE'; jg: '1' | '2'; yj: string };

describe.each([
  { receipts: 'a new receipt number for each sending', sameReceipt: false },
  { receipts: 'the same receipt number for both sendings', sameReceipt: true },
])('a polled system sent a case again after 补正, giving $receipts', ({ sameReceipt }) => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  /** Per receipt number; the test decides when each is answered. */
  const answers = new Map<string, Answer>();
  const sendings = new Map<string, number>();
  let dir: string;
  /** The poll queue as the gateway keeps it, to see its jobs. */
  let polls: Queue;
  const keyPrefix = uniquePrefix();

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => {
      const url = new URL(req.url, 'http://x');
      if (req.method === 'POST') {
        const bizNo = (req.json as { bizNo: string }).bizNo;
        const n = (sendings.get(bizNo) ?? 0) + 1;
        sendings.set(bizNo, n);
        const receiptNo = sameReceipt ? `SL-${bizNo}` : `SL-${bizNo}-${n}`;
        if (!answers.has(receiptNo) || n > 1) answers.set(receiptNo, { status: 'PENDING' });
        return replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: receiptNo } });
      }
      const receiptNo = decodeURIComponent(url.pathname.split('/').pop()!);
      replyJson(res, 200, { code: '0', data: answers.get(receiptNo) ?? { status: 'PENDING' } });
    });
    dir = writeConfig(
      [
        restSystem('prov-polled', `${legacy.url}/cases`, {
          result: {
            mode: 'poll',
            // It may also push a result (the same map): a 补正 request pushed while a poll waits.
            inboundToken: RESULT_TOKEN,
            map: '{"caseId": caseId, "outcome": $lookup({"1": "approved", "2": "need_more"}, data.jg), "message": data.yj}',
            poll: { endpoint: `${legacy.url}/results/{receiptNo}?case={caseId}`, intervalMs: 100, until: 'data.status = "DONE"', maxAgeMs: 120_000 },
          },
        }),
      ],
      { routes: [{ itemCode: '*', targets: ['prov-polled'] }] },
    );
    gateway = await startTestGateway(dir, { keyPrefix });
    polls = new Queue(POLL_QUEUE, { connection: new Redis(redisUrl(), { maxRetriesPerRequest: null }), prefix: `${keyPrefix}:bull` });
  });
  afterAll(async () => {
    await polls?.close();
    await gateway?.stop();
    await legacy.close();
  });

  const delivery = async (caseId: string) => (await caseView(gateway, caseId)).body.deliveries[0] as { status: string; receiptNo?: string; result?: { outcome: string; message?: string }; history: Array<{ event: string }> };
  /** The receipt number of the case's delivery, once it is delivered. */
  const deliveredReceipt = (caseId: string) =>
    eventually(async () => {
      const d = await delivery(caseId);
      expect(d.status).toBe('delivered');
      return d.receiptNo!;
    });

  it('when the system asks for more and the completed case is resubmitted, then the new sending is polled and its decision recorded', async () => {
    const c = sampleCase({ itemCode: '330800-FG-001' });
    const caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    const first = await deliveredReceipt(caseId);
    answers.set(first, { status: 'DONE', jg: '2', yj: '请补充购房合同' });
    await eventually(async () => expect((await delivery(caseId)).result).toEqual(expect.objectContaining({ outcome: 'need_more', message: '请补充购房合同' })));
    // The first sending's poll is over: nothing of it is left waiting.
    await eventually(async () => expect(await polls.count()).toBe(0));

    const completed = { ...c, form: { ...(c.form as object), contract: '已补正' } };
    expect((await submit(gateway, completed)).status).toBe(202);
    const second = await eventually(async () => {
      const d = await delivery(caseId);
      expect(d.status).toBe('delivered');
      expect(d.history.filter((h) => h.event === 'delivered')).toHaveLength(2);
      return d.receiptNo!;
    });
    expect(sendings.get(caseId)).toBe(2);
    expect(second === first).toBe(sameReceipt);
    // Polled while pending (the poll registered again), then the decision.
    const looks = legacy.received.filter((r) => r.method === 'GET').length;
    await eventually(async () => expect(legacy.received.filter((r) => r.method === 'GET' && r.url.includes(encodeURIComponent(second))).length).toBeGreaterThan(0));
    await eventually(async () => expect(legacy.received.filter((r) => r.method === 'GET').length).toBeGreaterThan(looks));
    answers.set(second, { status: 'DONE', jg: '1', yj: '准予' });
    const done = await eventually(async () => {
      const d = await delivery(caseId);
      expect(d.status).toBe('completed');
      expect(d.result).toEqual(expect.objectContaining({ outcome: 'approved', message: '准予' }));
      return d;
    }, 20_000);
    expect(done.history.map((h) => h.event).filter((e) => ['delivered', 'result', 'resubmitted'].includes(e))).toEqual(['delivered', 'result', 'resubmitted', 'delivered', 'result']);
    expect((await caseView(gateway, caseId)).body.status).toBe('completed');
  });

  it('when the 补正 request is pushed while the first poll still waits, then the new sending is polled, and the first sending\'s poll ends without a look', async () => {
    const c = sampleCase({ itemCode: '330800-FG-001' });
    const caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    const first = await deliveredReceipt(caseId);
    // Hold the first sending's poll back (as a long intervalMs would) while the rest happens.
    const held = await eventually(async () => {
      const jobs = (await polls.getDelayed()).filter((j) => (j.data as { caseId: string }).caseId === caseId);
      expect(jobs).toHaveLength(1);
      await jobs[0]!.changeDelay(3_600_000);
      return jobs[0]!;
    });
    expect((await pushResult(gateway, 'prov-polled', { data: { jg: '2', yj: '请补充购房合同' }, caseId }, RESULT_TOKEN)).status).toBe(200);
    expect((await delivery(caseId)).result).toEqual(expect.objectContaining({ outcome: 'need_more' }));

    expect((await submit(gateway, { ...c, form: { ...(c.form as object), contract: '已补正' } })).status).toBe(202);
    const second = await eventually(async () => {
      const d = await delivery(caseId);
      expect(d.history.filter((h) => h.event === 'delivered')).toHaveLength(2);
      return d.receiptNo!;
    });
    expect(second === first).toBe(sameReceipt);
    const polledBefore = () => legacy.received.filter((r) => r.method === 'GET' && r.url.includes(`case=${encodeURIComponent(caseId)}`)).length;
    await eventually(async () => expect(polledBefore()).toBeGreaterThan(0));
    answers.set(second, { status: 'DONE', jg: '1', yj: '准予' });
    await eventually(async () => expect((await delivery(caseId)).result).toEqual(expect.objectContaining({ outcome: 'approved' })), 20_000);

    // The held poll, let go, finds a later sending polled: it ends without asking the system.
    const looks = polledBefore();
    await held.promote();
    await eventually(async () => expect(await polls.getJobState(held.id!)).toBe('unknown')); // completed, removed
    expect(polledBefore()).toBe(looks);
    expect((await delivery(caseId)).status).toBe('completed');
  });
});
