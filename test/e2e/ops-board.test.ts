/**
 * What is broken now, dry runs, and replays that cannot go wrong (issue 13): the systems board's
 * health fields and problem order, why a case waits and until when, dry runs of REST, GBK XML and
 * SOAP bodies with nothing sent, bulk replay refused without a filter, a dead letter's case
 * corrected (audited with its diff) and replayed, paging, and unmatched results discarded.
 */
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import { parseSealHeader, type Seal } from '../../src/seal/seal';
import {
  admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';
import { addWsdls, caseServiceWsdl, soapSystem } from '../soap/support';
import { xmlSystem } from '../xml/support';

const delivery = async (gateway: RunningGateway, caseId: string) => (await caseView(gateway, caseId)).body.deliveries[0];

describe('at 3 a.m. the gateway says what is broken, and ops cannot make it worse', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let deadMode: 'down' | 'ok' = 'down';

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      if (req.url.startsWith('/down')) return replyJson(res, 503, { code: '500', msg: '系统维护中' });
      if (req.url.startsWith('/dead') && deadMode === 'down') return replyJson(res, 503, { code: '500', msg: '数据库不可用' });
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    const dir = writeConfig(
      [
        restSystem('city-steady', `${legacy.url}/steady`, { auth: { type: 'bearer', token: 'steady-secret-token' }, result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: 'steady-push' } }),
        // A retry an hour away: the case must say so, with the time.
        restSystem('prov-down', `${legacy.url}/down`, { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 3_600_000 } }, circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 } }),
        restSystem('prov-dead', `${legacy.url}/dead`, { retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } }, circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 } }),
        xmlSystem('city-xml', `${legacy.url}/xml`),
        soapSystem('prov-soap', `${legacy.url}/soap`, { auth: { type: 'wsse', username: 'gw', password: 'wsse-secret-pw', passwordType: 'PasswordText' } }),
      ],
      {
        routes: [
          { itemCode: 'STEADY-*', targets: ['city-steady'] },
          { itemCode: 'DOWN-*', targets: ['prov-down'] },
          { itemCode: 'DEAD-*', targets: ['prov-dead'] },
          { itemCode: 'XML-*', targets: ['city-xml'] },
        ],
      },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  it('then a paused system and a retry backoff say why the case waits and until when, and the board lists problem systems first', async () => {
    await admin(gateway, 'POST', '/systems/city-steady/pause', { reason: '系统升级' });
    const paused = sampleCase({ itemCode: 'STEADY-1' });
    await submit(gateway, paused);
    const down = sampleCase({ itemCode: 'DOWN-1' });
    const submitted = Date.now();
    await submit(gateway, down);

    await eventually(async () => expect(await delivery(gateway, down.caseId as string)).toMatchObject({ status: 'queued', attempts: 1, waitingFor: 'retry' }));
    const retry = await delivery(gateway, down.caseId as string);
    const next = Date.parse(retry.nextAttemptAt);
    expect(next).toBeGreaterThan(submitted + 3_590_000);
    expect(next).toBeLessThan(Date.now() + 3_601_000);

    const waiting = await delivery(gateway, paused.caseId as string);
    expect(waiting).toMatchObject({ status: 'queued', waitingFor: 'paused' });
    // Paused: nothing is sent until resumed, so there is no time to show (never one in the past).
    expect(waiting.nextAttemptAt).toBeUndefined();

    const board = (await admin(gateway, 'GET', '/systems')).body as Array<Record<string, any>>;
    expect(board.map((s) => s.id).slice(0, 2)).toEqual(['city-steady', 'prov-down']);
    expect(board[0]).toMatchObject({ paused: true, problems: ['paused'], window: { open: true }, queue: { waiting: 1 }, oldestWaitingAt: expect.any(String), deadLetters: 0, version: 1, source: 'file' });
    expect(board[1]).toMatchObject({ problems: ['failing'], failingSince: expect.any(String), lastError: expect.stringContaining('HTTP 503'), queue: { delayed: 1 } });
    expect(board[1].lastSuccessAt).toBeUndefined();
    expect(board.find((s) => s.id === 'city-xml')).toMatchObject({ problems: [] });

    await admin(gateway, 'POST', '/systems/city-steady/resume');
    await eventually(async () => expect((await delivery(gateway, paused.caseId as string)).status).toBe('delivered'));
    const steady = (await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-steady');
    expect(steady).toMatchObject({ problems: [], lastSuccessAt: expect.any(String) });
    expect(steady.failingSince).toBeUndefined();
  });

  it('then a dry run shows the exact REST, GBK XML and SOAP bodies, credentials redacted, and sends nothing', async () => {
    const stored = sampleCase({ itemCode: 'STEADY-2' });
    await submit(gateway, stored);
    await eventually(async () => expect((await delivery(gateway, stored.caseId as string)).status).toBe('delivered'));
    const sentBefore = legacy.received.length;

    const rest = await admin(gateway, 'POST', '/systems/city-steady/dry-run', { caseId: stored.caseId, reply: { code: '0', data: { slbh: 'SL-DRY' } } });
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ systemId: 'city-steady', version: 1, proposed: false, caseSource: 'stored', sent: false, reply: { success: true, receiptNo: 'SL-DRY', retryable: false } });
    expect(rest.body.request).toMatchObject({ endpoint: `${legacy.url}/steady`, method: 'POST', charset: 'utf-8', headers: { Authorization: 'Bearer [redacted]', 'Idempotency-Key': `${stored.caseId}:city-steady` } });
    expect(JSON.parse(rest.body.request.body)).toMatchObject({ bizNo: stored.caseId, sqrxm: '张三', sxbm: 'STEADY-2' });
    expect(JSON.stringify(rest.body)).not.toContain('330802199001011234');
    expect(JSON.stringify(rest.body)).not.toContain('steady-secret-token');
    // The seal the delivery would carry, made by the same maker the worker uses.
    const restSeal = parseSealHeader(String(rest.body.request.headers['X-OW-Seal'])) as Seal;
    expect(restSeal).toMatchObject({ caseId: stored.caseId, systemId: 'city-steady', purpose: `办理${String(stored.itemName)}（STEADY-2）` });

    // A proposed configuration: validated like PUT, used, not stored.
    const current = (await admin(gateway, 'GET', '/systems/city-steady')).body;
    const proposed = await admin(gateway, 'POST', '/systems/city-steady/dry-run', { caseId: stored.caseId, system: { ...current.system, request: { body: '{"ywh": caseId}' } } });
    expect(proposed.body).toMatchObject({ proposed: true, request: { body: JSON.stringify({ ywh: stored.caseId }) } });
    const broken = await admin(gateway, 'POST', '/systems/city-steady/dry-run', { system: { ...current.system, request: { body: '{"a": ' } } });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: 'invalid_config', details: [expect.objectContaining({ path: 'request.body' })] });
    const schema = await admin(gateway, 'POST', '/systems/city-steady/dry-run', { system: { ...current.system, timeoutMs: 'soon' } });
    expect(schema.body.error).toMatchObject({ code: 'invalid_config', details: [expect.objectContaining({ path: 'timeoutMs' })] });
    expect((await admin(gateway, 'GET', '/systems/city-steady')).body.version).toBe(1);

    const xml = await admin(gateway, 'POST', '/systems/city-xml/dry-run', {});
    expect(xml.status).toBe(200);
    expect(xml.body.request).toMatchObject({ charset: 'GBK', headers: { 'Content-Type': 'text/xml; charset=GBK' } });
    expect(xml.body.request.body).toMatch(/^<\?xml version="1.0" encoding="GBK"\?>/);
    expect(xml.body.request.body).toContain('<sqrxm>');
    // The bytes are GBK: two per Chinese character, fewer than UTF-8's three.
    expect(xml.body.request.byteLength).toBe(iconv.encode(xml.body.request.body, 'gbk').length);
    expect(xml.body.request.byteLength).toBeLessThan(Buffer.byteLength(xml.body.request.body, 'utf8'));

    const soap = await admin(gateway, 'POST', '/systems/prov-soap/dry-run', { case: sampleCase() });
    expect(soap.status).toBe(200);
    expect(soap.body).toMatchObject({ caseSource: 'given', request: { method: 'POST', endpoint: `${legacy.url}/soap` } });
    expect(soap.body.request.body).toMatch(/Envelope/);
    expect(soap.body.request.body).toMatch(/<(\w+:)?SubmitCase\b/);
    expect(soap.body.request.body).toContain('[redacted]');
    expect(JSON.stringify(soap.body)).not.toContain('wsse-secret-pw');
    expect(parseSealHeader(String(soap.body.request.headers['X-OW-Seal']))).toMatchObject({ systemId: 'prov-soap' });

    await new Promise((r) => setTimeout(r, 200));
    expect(legacy.received.length).toBe(sentBefore);
  });

  it('then a bulk replay needs a filter or all, a dry run only counts, and a corrected case is checked as intake checks one, audited with its diff and replayed', async () => {
    const first = sampleCase({ itemCode: 'DEAD-1' });
    const second = sampleCase({ itemCode: 'DEAD-2' });
    await submit(gateway, first);
    await submit(gateway, second);
    await eventually(async () => {
      expect((await delivery(gateway, first.caseId as string)).status).toBe('dead');
      expect((await delivery(gateway, second.caseId as string)).status).toBe('dead');
    });

    const refused = await admin(gateway, 'POST', '/dead-letters/replay', {});
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    expect((await admin(gateway, 'POST', '/dead-letters/replay', { systemId: 'prov-dead', dryRun: true })).body).toEqual({ count: 2, dryRun: true });
    expect((await admin(gateway, 'POST', '/dead-letters/replay', { all: true, dryRun: true })).body).toEqual({ count: 2, dryRun: true });
    expect((await delivery(gateway, first.caseId as string)).status).toBe('dead');

    const page1 = (await admin(gateway, 'GET', '/dead-letters?limit=1')).body;
    expect(page1.items).toHaveLength(1);
    const page2 = (await admin(gateway, 'GET', `/dead-letters?limit=1&cursor=${page1.next}`)).body;
    expect(page2.items).toHaveLength(1);
    expect(page2.next).toBeUndefined();
    expect([page1.items[0].caseId, page2.items[0].caseId].sort()).toEqual([first.caseId, second.caseId].sort());
    expect((await admin(gateway, 'GET', '/dead-letters?cursor=bogus')).status).toBe(400);

    const id = `prov-dead.${first.caseId}`;
    const corrected = { ...first, applicant: { ...(first.applicant as object), name: '张三丰' }, form: { purpose: '继承' } };
    // Bad input changes nothing: another caseId, or a case that is not canonical.
    expect((await admin(gateway, 'POST', `/dead-letters/${id}/replay`, { case: { ...corrected, caseId: second.caseId } })).status).toBe(400);
    const invalid = await admin(gateway, 'POST', `/dead-letters/${id}/replay`, { case: { ...corrected, itemName: '' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toEqual([expect.objectContaining({ path: 'case.itemName' })]);
    // A corrected case is checked as intake checks one: no XML markup keys in its form.
    const markup = await admin(gateway, 'POST', `/dead-letters/${id}/replay`, { case: { ...corrected, form: { jzlx: { $xml: '</jzlx><sfzh>INJECTED</sfzh>' } } } });
    expect(markup.status).toBe(400);
    expect(markup.body.error.details).toEqual([expect.objectContaining({ path: 'case.form.jzlx.$xml' })]);
    expect((await delivery(gateway, first.caseId as string)).status).toBe('dead');

    deadMode = 'ok';
    const replayed = await admin(gateway, 'POST', `/dead-letters/${id}/replay`, { case: corrected, reason: '申请人姓名录入错误' });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({ id, replayed: true, changed: ['applicant.name', 'form.purpose'] });
    await eventually(async () => expect((await delivery(gateway, first.caseId as string)).status).toBe('delivered'));
    const sent = legacy.received.filter((r) => (r.json as { bizNo?: string } | undefined)?.bizNo === first.caseId);
    expect(sent.at(-1)!.json).toMatchObject({ sqrxm: '张三丰' });
    expect(sent.at(-1)!.headers['idempotency-key']).toBe(sent[0]!.headers['idempotency-key']);

    const audit = (await admin(gateway, 'GET', `/audit?caseId=${first.caseId}`)).body.items;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['dead_letter.replay', 'dead_letter.correct']);
    expect(audit[1]).toMatchObject({ target: id, detail: 'changed applicant.name, form.purpose', reason: '申请人姓名录入错误', role: 'admin' });
    expect(JSON.stringify(audit)).not.toContain('张三丰');
    const history = (await delivery(gateway, first.caseId as string)).history.map((h: { event: string }) => h.event);
    expect(history).toEqual(expect.arrayContaining(['case_corrected', 'replayed']));
  });

  it('then an unmatched result can be discarded with a reason, audited, and the audit trail pages', async () => {
    const pushed = await pushResult(gateway, 'city-steady', { ywh: 'QZ-20261128-nobody00' }, 'steady-push');
    expect(pushed.status).toBe(404);
    const parked = (await admin(gateway, 'GET', '/unmatched-results?systemId=city-steady')).body.items;
    expect(parked).toHaveLength(1);
    expect((await admin(gateway, 'DELETE', `/unmatched-results/${parked[0].id}`, {})).status).toBe(400);
    expect((await admin(gateway, 'DELETE', `/unmatched-results/${parked[0].id}`, { reason: '测试推送' })).status).toBe(200);
    expect((await admin(gateway, 'DELETE', `/unmatched-results/${parked[0].id}`, { reason: '测试推送' })).status).toBe(404);
    expect((await admin(gateway, 'GET', '/unmatched-results?systemId=city-steady')).body.items).toHaveLength(0);

    const first = (await admin(gateway, 'GET', '/audit?limit=2')).body;
    expect(first.items[0]).toMatchObject({ action: 'unmatched.discard', target: parked[0].id, reason: '测试推送' });
    const second = (await admin(gateway, 'GET', `/audit?limit=2&cursor=${first.next}`)).body;
    expect(second.items).toHaveLength(2);
    expect(second.items[0].at <= first.items[1].at).toBe(true);
    expect((await admin(gateway, 'GET', '/audit?action=system.pause')).body.items).toEqual([expect.objectContaining({ target: 'city-steady', reason: '系统升级' })]);
  });
});
