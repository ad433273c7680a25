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
