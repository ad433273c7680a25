import net from 'node:net';
import {
  caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';

// A killed or cut-off worker's job is handed out again after this long (BullMQ's default is 30 s).
process.env.OW_STALLED_INTERVAL_MS = '500';

describe('graceful shutdown', () => {
  let legacy: LegacyServer;
  let latencyMs = 400;
  let dir: string;

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      setTimeout(() => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }), latencyMs);
    });
    dir = writeConfig([restSystem('city-housing-reform', `${legacy.url}/cases`, { timeoutMs: 5000 })], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] });
  });
  afterAll(() => legacy.close());

  it('when stopped, then intake answers 503 at once and the delivery in flight is finished first', async () => {
    const gateway = await startTestGateway(dir, { keyPrefix: uniquePrefix() });
    const c = sampleCase();
    await submit(gateway, c);
    await eventually(async () => expect(legacy.received.some((r) => (r.json as { bizNo: string }).bizNo === c.caseId)).toBe(true));
    const stopping = gateway.stop();
    const late = await fetch(`${gateway.url}/api/v1/cases`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer test-intake-token' }, body: JSON.stringify(sampleCase()) }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    await stopping;
    const view = await startTestGateway(dir, { keyPrefix: uniquePrefix() }); // any instance reads the store
    await view.stop();
    // The delivery was allowed to finish before the workers closed.
    expect(legacy.received.filter((r) => (r.json as { bizNo: string }).bizNo === c.caseId)).toHaveLength(1);
  });

  it('when a delivery outlasts the shutdown deadline, then it is redelivered by the next instance, not lost', async () => {
    latencyMs = 1500;
    const keyPrefix = uniquePrefix();
    const first = await startTestGateway(dir, { keyPrefix, shutdownGraceMs: 100 });
    const c = sampleCase();
    await submit(first, c);
    await eventually(async () => expect(legacy.received.some((r) => (r.json as { bizNo: string }).bizNo === c.caseId)).toBe(true));
    const started = Date.now();
    await first.stop();
    expect(Date.now() - started).toBeLessThan(1400);

    latencyMs = 10;
    const second = await startTestGateway(dir, { keyPrefix });
    try {
      const d = await eventually(async () => {
        const v = (await caseView(second, c.caseId as string)).body.deliveries[0];
        expect(v.status).toBe('delivered');
        return v;
      }, 10_000);
      expect(d.attempts).toBe(2);
      const sent = legacy.received.filter((r) => (r.json as { bizNo: string }).bizNo === c.caseId);
      expect(sent.length).toBe(2);
      expect(new Set(sent.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`${c.caseId}:city-housing-reform`]));
    } finally {
      await second.stop();
    }
  });

  it("when a caller's kept-alive connection is busy as the gateway stops, then the stop does not wait for that connection's idle timeout", async () => {
    const gateway = await startTestGateway(dir, { keyPrefix: uniquePrefix() });
    const body = JSON.stringify(sampleCase());
    // A request under way on a kept-alive connection: its head is in (Node has answered its
    // `Expect: 100-continue`, so the request is dispatched), its body still to come.
    const socket = net.connect(Number(new URL(gateway.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (b: Buffer) => (answer += b.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /api/v1/cases HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer test-intake-token\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
    await eventually(async () => expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/));
    const stopping = gateway.stop();
    socket.write(body);
    // Answered — taken (202) if it got past the shutdown check before the stop, else refused (503) —
    // then closed by the gateway well before the 65 s a kept-alive connection may idle: otherwise the
    // stop, and this test, would wait.
    await closed;
    await stopping;
    expect(answer.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '')).toMatch(/^HTTP\/1\.1 (202 Accepted|503 Service Unavailable)\r\n/);
  });
});

