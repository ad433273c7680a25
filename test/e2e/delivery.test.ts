import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';

describe('when a case is submitted for a REST system', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`)], { routes: [{ itemCode: '330800-FG-*', targets: ['city-housing-reform'] }] });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  it('then it is delivered with its fields mapped and its receipt recorded', async () => {
    const c = sampleCase();
    const accepted = await submit(gateway, c);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ caseId: c.caseId, status: 'accepted', deliveries: [{ systemId: 'city-housing-reform', status: 'queued' }] });

    const view = await eventually(async () => {
      const v = await caseView(gateway, c.caseId as string);
      expect(v.body.deliveries[0].status).toBe('delivered');
      return v.body;
    });
    expect(view.deliveries[0].receiptNo).toMatch(/^SL\d+$/);
    expect(legacy.received).toHaveLength(1);
    expect(legacy.received[0]!.json).toEqual({ bizNo: c.caseId, sqrxm: '张三', sfzh: '330802199001011234', sxbm: '330800-FG-001' });
    expect(legacy.received[0]!.headers['idempotency-key']).toBe(`${c.caseId}:city-housing-reform`);
    expect(view.deliveries[0].history.map((h: { event: string }) => h.event)).toEqual(['accepted', 'attempt', 'delivered']);
  });
});

describe('when legacy systems misbehave', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  // Behaviour by the applicant's name, so one server can play every kind of system.
  const behaviour = new Map<string, (n: number) => [number, unknown] | 'hang'>();

  beforeAll(async () => {
    const seen = new Map<string, number>();
    legacy = await legacyServer((req, _n, res) => {
      const body = req.json as { bizNo: string; sqrxm: string };
      const n = (seen.get(body.bizNo) ?? 0) + 1;
      seen.set(body.bizNo, n);
      const decide = behaviour.get(body.sqrxm) ?? (() => [200, { code: '0', msg: '成功', data: { slbh: `OK-${body.bizNo}` } }]);
      const answer = decide(n);
      if (answer === 'hang') return; // never answers
      replyJson(res, answer[0], answer[1]);
    });
    const system = (id: string) =>
      restSystem(id, `${legacy.url}/cases`, { timeoutMs: 300, retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 20, maxDelayMs: 100 } } });
    const dir = writeConfig([system('prov-a'), system('prov-b')], {
      routes: [
        { itemCode: '330800-FG-*', targets: ['prov-a'] },
        { itemCode: '33*-SCJG-*', targets: ['prov-a', 'prov-b'] },
      ],
    });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  const received = (caseId: string) => legacy.received.filter((r) => (r.json as { bizNo: string }).bizNo === caseId);
  const settled = (caseId: string, status: string) =>
    eventually(async () => {
      const v = await caseView(gateway, caseId);
      for (const d of v.body.deliveries) expect(d.status).toBe(status);
      return v.body;
    });

  it('then a fan-out case is delivered to each target once', async () => {
    const c = sampleCase({ itemCode: '330801-SCJG-0002' });
    const accepted = await submit(gateway, c);
    expect(accepted.body.deliveries.map((d: { systemId: string }) => d.systemId)).toEqual(['prov-a', 'prov-b']);
    const view = await settled(c.caseId as string, 'delivered');
    expect(view.status).toBe('in_progress');
    expect(received(c.caseId as string)).toHaveLength(2);
  });

  it('then a system that answers 500 twice is retried and delivered once', async () => {
    behaviour.set('五百两次', (n) => (n <= 2 ? [500, { message: 'internal error' }] : [200, { code: '0', msg: '成功', data: { slbh: 'SL-3' } }]));
    const c = sampleCase({ applicant: { kind: 'person', name: '五百两次', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    await submit(gateway, c);
    const view = await settled(c.caseId as string, 'delivered');
    expect(view.deliveries[0]).toMatchObject({ attempts: 3, receiptNo: 'SL-3' });
    expect(view.deliveries[0].history.map((h: { event: string }) => h.event)).toEqual([
      'accepted', 'attempt', 'retry_scheduled', 'attempt', 'retry_scheduled', 'attempt', 'delivered',
    ]);
    expect(view.deliveries[0].history[2].detail).toContain('HTTP 500');
    expect(received(c.caseId as string)).toHaveLength(3);
  });

  it('then a business refusal ends rejected without a retry', async () => {
    behaviour.set('材料不齐', () => [200, { code: '1', msg: '材料不齐全' }]);
    const c = sampleCase({ applicant: { kind: 'person', name: '材料不齐', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    await submit(gateway, c);
    const view = await settled(c.caseId as string, 'rejected');
    expect(view.status).toBe('failed');
    expect(view.deliveries[0]).toMatchObject({ attempts: 1, lastError: expect.stringContaining('材料不齐全') });
    await new Promise((r) => setTimeout(r, 200));
    expect(received(c.caseId as string)).toHaveLength(1);
  });

  it('then a 4xx answer ends rejected without a retry', async () => {
    behaviour.set('坏请求', () => [400, { error: 'bad field sfzh' }]);
    const c = sampleCase({ applicant: { kind: 'person', name: '坏请求', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    await submit(gateway, c);
    const view = await settled(c.caseId as string, 'rejected');
    expect(view.deliveries[0].lastError).toContain('HTTP 400');
    expect(received(c.caseId as string)).toHaveLength(1);
  });

  it('then a refusal the system marks retryable is retried', async () => {
    behaviour.set('系统繁忙', (n) => (n === 1 ? [200, { code: '9', msg: '系统繁忙' }] : [200, { code: '0', msg: '成功', data: { slbh: 'SL-OK' } }]));
    const c = sampleCase({ applicant: { kind: 'person', name: '系统繁忙', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    await submit(gateway, c);
    const view = await settled(c.caseId as string, 'delivered');
    expect(view.deliveries[0].attempts).toBe(2);
  });

  it('then a system that never answers ends dead after its attempts', async () => {
    behaviour.set('无应答', () => 'hang');
    const c = sampleCase({ applicant: { kind: 'person', name: '无应答', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    await submit(gateway, c);
    const view = await settled(c.caseId as string, 'dead');
    expect(view.status).toBe('failed');
    expect(view.deliveries[0]).toMatchObject({ attempts: 3, lastError: expect.stringContaining('did not answer within 300 ms') });
    expect(received(c.caseId as string)).toHaveLength(3);
  });
});
