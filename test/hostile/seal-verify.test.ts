/**
 * The public verify endpoint as a stranger uses it: no trace of their text in the ops audit trail,
 * and no payload, however large, that holds the event loop or buys a megabyte of answer.
 */
import http from 'node:http';
import type { RunningGateway } from '../../src/gateway';
import { admin, restSystem, startTestGateway, writeConfig } from '../support/harness';
import { sample, scrape } from '../observability/prom';
import { marriageRecord, tempDir } from '../seal/helpers';

/** POSTs a body and resolves once every byte of it is on the wire, and again with the answer. */
function post(url: string, body: string): { sent: Promise<void>; answered: Promise<{ status: number; json: any }> } {
  let sent!: () => void;
  const sentPromise = new Promise<void>((resolve) => (sent = resolve));
  const answered = new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body, sent);
  });
  return { sent: sentPromise, answered };
}

describe('when strangers call POST /api/v1/seal/verify', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    gateway = await startTestGateway(dir, { dataDir: tempDir('verify-hostile') });
  });
  afterAll(() => gateway.stop());

  it('then what they send is counted in metrics and never written to the ops audit trail', async () => {
    const seal = gateway.seals.seal({ document: marriageRecord(), purpose: '办理测试（X）', caseId: 'QZ-1', systemId: 'city-a' });
    const planted = { ...seal, keyId: '值班员李四 已批准 QZ-1 的补正', signature: 'AAAA' };
    for (const body of [{ seal, payload: marriageRecord() }, { seal: planted, payload: marriageRecord() }]) {
      expect((await post(`${gateway.url}/api/v1/seal/verify`, JSON.stringify(body)).answered).status).toBe(200);
    }
    const audit = (await admin(gateway, 'GET', '/audit')).body.items as Array<Record<string, string>>;
    expect(audit.filter((e) => e.action === 'seal.verify')).toEqual([]);
    expect(JSON.stringify(audit)).not.toContain('值班员李四');
    const metrics = await scrape(gateway.url);
    expect(sample(metrics, 'ow_seal_operations_total', { operation: 'verify', outcome: 'ok' })).toBe(1);
    expect(sample(metrics, 'ow_seal_operations_total', { operation: 'verify', outcome: 'invalid' })).toBe(1);
  });

  it('then four 1.5 MB payloads of 120 000 fields each leave /healthz answering before any of them, and each answer is short', async () => {
    const seal = gateway.seals.seal({ document: marriageRecord(), purpose: '办理测试（X）', caseId: 'QZ-1', systemId: 'city-a' });
    const payload: Record<string, string> = {};
    for (let i = 0; i < 120_000; i++) payload[`f${i}`] = 'x';
    const body = JSON.stringify({ seal, payload });
    const calls = Array.from({ length: 4 }, () => post(`${gateway.url}/api/v1/seal/verify`, body));
    await Promise.all(calls.map((c) => c.sent));
    // Give the gateway the bodies before asking it anything else (on an event loop that verified them
    // itself, the first verification would now hold /healthz until it was done).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const order: string[] = [];
    const healthz = fetch(`${gateway.url}/healthz`).then((res) => order.push(`healthz ${res.status}`));
    const answers = calls.map((c) => c.answered.then((a) => (order.push('verify'), a)));
    await Promise.all([healthz, ...answers]);
    expect(order[0]).toBe('healthz 200');
    for (const answer of await Promise.all(answers)) {
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ valid: false, changed: [''], reason: expect.stringContaining('more than 256 fields, too many to compare one by one') });
    }
  }, 60_000);
});
