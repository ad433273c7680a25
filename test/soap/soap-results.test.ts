/**
 * Results pushed over SOAP: `POST /soap/results` (PushResult), its WSDL, WS-Security per system,
 * and everything that must be refused with a Fault while changing nothing.
 */
import crypto from 'node:crypto';
import * as soap from 'soap';
import type { RunningGateway } from '../../src/gateway';
import { passwordDigest } from '../../adapters/soap/wsse';
import { caseView, eventually, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig } from '../support/harness';
import { addWsdls, caseServiceWsdl, soapPeer, soapSystem, type SoapPeer } from './support';

const NS = 'http://ycsl.qz.gov.cn/gateway/results/v1';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

describe('when legacy systems push results over SOAP', () => {
  let peer: SoapPeer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    peer = await soapPeer({ version: '1.1', submitCase: (args) => ({ code: '0', msg: '成功', slbh: `SL-${args.bizNo}` }) });
    const dir = writeConfig(
      [
        soapSystem('prov-push', peer.url, { result: { ...(soapSystem('x', '').result as object), inboundToken: 'push-secret', inboundUsername: 'qz-push' } }),
        soapSystem('prov-nopush', peer.url),
      ],
      { routes: [{ itemCode: '330800-FG-*', targets: ['prov-push'] }, { itemCode: '330800-NP-*', targets: ['prov-nopush'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await peer.close();
  });

  /** A case delivered to prov-push, waiting for its result. */
  async function deliveredCase(): Promise<string> {
    const c = sampleCase();
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    return c.caseId as string;
  }

  /** A client of the gateway's own WSDL, as a legacy system builds one. */
  async function client(password: string, options: { passwordType?: string; version?: '1.1' | '1.2'; username?: string } = {}): Promise<soap.Client> {
    const c = await soap.createClientAsync(`${gateway.url}/soap/results?wsdl`, { disableCache: true, forceSoap12Headers: options.version === '1.2' });
    c.setSecurity(new soap.WSSecurity(options.username ?? 'qz-push', password, { passwordType: options.passwordType ?? 'PasswordDigest' }));
    return c;
  }

  async function push(c: soap.Client, args: Record<string, string>, version: '1.1' | '1.2' = '1.1'): Promise<any> {
    const port = version === '1.2' ? 'ResultSoap12' : 'ResultSoap11';
    return new Promise((resolve, reject) => {
      (c as any).ResultService[port].PushResult(args, (err: any, result: unknown) => (err ? reject(err) : resolve(result)));
    });
  }

  function faultOf(err: any): string {
    const fault = err?.root?.Envelope?.Body?.Fault;
    return fault?.faultstring ?? fault?.Reason?.Text ?? String(err);
  }

  async function postRaw(body: string, contentType = 'text/xml; charset=utf-8'): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gateway.url}/soap/results`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, text: await res.text() };
  }

  async function resultOf(caseId: string): Promise<any> {
    return (await caseView(gateway, caseId)).body.deliveries[0];
  }

  it('then its WSDL is served at ?wsdl, addressed where it was asked', async () => {
    const res = await fetch(`${gateway.url}/soap/results?wsdl`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('<xsd:element name="PushResult">');
    expect(text).toContain(`<soap:address location="${gateway.url}/soap/results"/>`);
    expect(text).toContain(`<soap12:address location="${gateway.url}/soap/results"/>`);
  });

  it('then a PushResult with the right UsernameToken (digest) is recorded on the case', async () => {
    const caseId = await deliveredCase();
    const reply = await push(await client('push-secret'), { systemId: 'prov-push', caseId, receiptNo: `SL-${caseId}`, outcome: '1', message: '准予办理', decidedAt: '2026-11-28T15:00:00+08:00' });
    expect(reply).toEqual({ accepted: true, caseId, duplicate: false });
    const delivery = await resultOf(caseId);
    expect(delivery.status).toBe('completed');
    expect(delivery.result).toMatchObject({ outcome: 'approved', message: '准予办理', receiptNo: `SL-${caseId}`, decidedAt: '2026-11-28T15:00:00+08:00' });
    // The same push again is a duplicate, not an error.
    expect(await push(await client('push-secret'), { systemId: 'prov-push', caseId, outcome: '1', message: '准予办理', decidedAt: '2026-11-28T15:00:00+08:00', receiptNo: `SL-${caseId}` })).toMatchObject({ duplicate: true });
  });

  it('then PasswordText and SOAP 1.2 work as well', async () => {
    const caseId = await deliveredCase();
    const reply = await push(await client('push-secret', { passwordType: 'PasswordText', version: '1.2' }), { systemId: 'prov-push', caseId, outcome: '2', message: '请补充材料' }, '1.2');
    expect(reply).toEqual({ accepted: true, caseId, duplicate: false });
    expect((await resultOf(caseId)).result).toMatchObject({ outcome: 'need_more', message: '请补充材料' });
  });

  it('then a wrong password, a wrong username or no token is a Fault and nothing is stored', async () => {
    const caseId = await deliveredCase();
    const args = { systemId: 'prov-push', caseId, outcome: '0', message: '不予办理' };
    await expect(push(await client('wrong'), args)).rejects.toMatchObject({ root: { Envelope: { Body: { Fault: { faultcode: 'soap:Client', faultstring: 'Authentication failed for prov-push.' } } } } });
    await expect(push(await client('push-secret', { passwordType: 'PasswordText', username: 'someone' }), args)).rejects.toMatchObject({ root: { Envelope: { Body: { Fault: { faultcode: 'soap:Client' } } } } });
    const noToken = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><caseId>${caseId}</caseId><outcome>0</outcome></PushResult></soap:Body></soap:Envelope>`);
    expect(noToken.status).toBe(500);
    expect(noToken.text).toContain('A WS-Security UsernameToken is required.');
    const delivery = await resultOf(caseId);
    expect(delivery.status).toBe('delivered');
    expect(delivery.result).toBeUndefined();
  });

  it('then an unknown system, a system without inbound credentials and an unknown case are Faults', async () => {
    const pusher = await client('push-secret');
    // Unknown and credential-less systems fail as a wrong password does: ids are not revealed.
    const unknown = await push(pusher, { systemId: 'prov-nowhere', caseId: 'QZ-1', outcome: '1' }).catch(faultOf);
    expect(unknown).toBe('Authentication failed for prov-nowhere.');
    const noCredentials = await push(pusher, { systemId: 'prov-nopush', caseId: 'QZ-1', outcome: '1' }).catch(faultOf);
    expect(noCredentials).toBe('Authentication failed for prov-nopush.');
    const unknownCase = await push(pusher, { systemId: 'prov-push', caseId: 'QZ-NO-SUCH-CASE', outcome: '1' }).catch(faultOf);
    expect(unknownCase).toMatch(/^unknown_case: No delivery matches this result; it is kept for ops as unmatched result prov-push\.[0-9a-f-]{36}\.$/);
    const unmapped = await push(pusher, { systemId: 'prov-push', caseId: 'QZ-1', outcome: '7' }).catch(faultOf);
    expect(unmapped).toMatch(/^invalid_result: /);
  });

  it('then a DOCTYPE, a malformed envelope or a body that is not SOAP is a Client Fault and nothing is stored', async () => {
    const caseId = await deliveredCase();
    const doctype = await postRaw(
      `<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><caseId>${caseId}</caseId><outcome>&lol;</outcome></PushResult></soap:Body></soap:Envelope>`,
    );
    expect(doctype.status).toBe(500);
    expect(doctype.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(doctype.text).toContain('DOCTYPE or ENTITY declaration is refused');
    const malformed = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId></soap:Body></soap:Envelope>`);
    expect(malformed.text).toContain('<faultcode>soap:Client</faultcode>');
    const otherOperation = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><DeleteCase xmlns="${NS}"/></soap:Body></soap:Envelope>`);
    expect(otherOperation.text).toContain('The operation DeleteCase is not offered here');
    const json = await postRaw('{"systemId": "prov-push"}', 'application/json');
    expect(json.text).toContain('The body is not a SOAP envelope.');
    const soap12 = await postRaw(`<!DOCTYPE x><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>`, 'application/soap+xml; charset=utf-8');
    expect(soap12.status).toBe(400);
    expect(soap12.text).toContain('<soap:Value>soap:Sender</soap:Value>');
    expect((await resultOf(caseId)).result).toBeUndefined();
  });

  it('then a multiRef id="__proto__" (CVE-2026-133243) is refused before the soap package parses it, and no prototype changes', async () => {
    const caseId = await deliveredCase();
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const polluting = await postRaw(
      `<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><caseId>${caseId}</caseId><outcome>1</outcome></PushResult>` +
        '<multiRef id="__proto__"><polluted>yes</polluted><isAdmin>true</isAdmin></multiRef></soap:Body></soap:Envelope>',
    );
    expect(polluting.status).toBe(500);
    expect(polluting.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(polluting.text).toContain('id=&quot;__proto__&quot; is not allowed');
    const byName = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><__proto__><isAdmin>true</isAdmin></__proto__><outcome>1</outcome></PushResult></soap:Body></soap:Envelope>`);
    expect(byName.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).obj).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await resultOf(caseId)).result).toBeUndefined();
  });

  it('then a PushResult carrying a control character, written or as a reference (&#0;), is a Client Fault and nothing is stored', async () => {
    const caseId = await deliveredCase();
    // Through a real client with the right token: the soap package writes the NUL as it is.
    const written = await push(await client('push-secret'), { systemId: 'prov-push', caseId, outcome: '1', message: '准予\u0000办理' }).catch(faultOf);
    expect(written).toMatch(/XML contains the character U\+0000, which XML cannot carry/);
    const referenced = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><caseId>${caseId}</caseId><outcome>1</outcome><message>准予&#0;办理</message></PushResult></soap:Body></soap:Envelope>`);
    expect(referenced.status).toBe(500);
    expect(referenced.text).toContain('<faultcode>soap:Client</faultcode>');
    expect(referenced.text).toContain('XML contains the reference &amp;#0;, a character XML cannot carry');
    const delivery = await resultOf(caseId);
    expect(delivery.status).toBe('delivered');
    expect(delivery.result).toBeUndefined();
  });

  it('then a body over the size limit is a Fault too', async () => {
    const huge = await postRaw(`<soap:Envelope xmlns:soap="${SOAP11}"><soap:Body>${'<x/>'.repeat(300_000)}</soap:Body></soap:Envelope>`);
    expect(huge.status).toBe(413);
    expect(huge.text).toContain('<faultcode>soap:Client</faultcode>');
  });
});

describe('when two api processes share one Redis and a digest push is captured', () => {
  let peer: SoapPeer;
  let first: RunningGateway;
  let second: RunningGateway;

  beforeAll(async () => {
    peer = await soapPeer({ version: '1.1', submitCase: (args) => ({ code: '0', msg: '成功', slbh: `SL-${args.bizNo}` }) });
    const dir = writeConfig(
      [soapSystem('prov-push', peer.url, { result: { ...(soapSystem('x', '').result as object), inboundToken: 'push-secret', inboundUsername: 'qz-push' } })],
      { routes: [{ itemCode: '330800-FG-*', targets: ['prov-push'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    // Two replicas of one gateway: the same Redis, the same key prefix.
    const keyPrefix = uniquePrefix();
    first = await startTestGateway(dir, { keyPrefix });
    second = await startTestGateway(dir, { keyPrefix });
  });
  afterAll(async () => {
    await first.stop();
    await second.stop();
    await peer.close();
  });

  /** A PushResult with a PasswordDigest UsernameToken, as a legacy system writes one. */
  function digestPush(caseId: string, nonce = crypto.randomBytes(16).toString('base64'), password = 'push-secret'): string {
    const created = new Date().toISOString();
    const wss = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss';
    return (
      `<soap:Envelope xmlns:soap="${SOAP11}" xmlns:wsse="${wss}-wssecurity-secext-1.0.xsd" xmlns:wsu="${wss}-wssecurity-utility-1.0.xsd"><soap:Header><wsse:Security><wsse:UsernameToken>` +
      `<wsse:Username>qz-push</wsse:Username><wsse:Password Type="${wss}-username-token-profile-1.0#PasswordDigest">${passwordDigest(nonce, created, password)}</wsse:Password>` +
      `<wsse:Nonce EncodingType="${wss}-soap-message-security-1.0#Base64Binary">${nonce}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security></soap:Header>` +
      `<soap:Body><PushResult xmlns="${NS}"><systemId>prov-push</systemId><caseId>${caseId}</caseId><outcome>1</outcome><message>准予办理</message></PushResult></soap:Body></soap:Envelope>`
    );
  }

  async function post(gateway: { url: string }, body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gateway.url}/soap/results`, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body });
    return { status: res.status, text: await res.text() };
  }

  it('then the push replayed to the other replica is refused: its nonce is remembered in Redis', async () => {
    const c = sampleCase();
    await submit(first, c);
    const caseId = c.caseId as string;
    await eventually(async () => expect((await caseView(first, caseId)).body.deliveries[0].status).toBe('delivered'));
    const captured = digestPush(caseId);
    const accepted = await post(first, captured);
    expect(accepted).toMatchObject({ status: 200, text: expect.stringContaining('<duplicate>false</duplicate>') });
    for (const replica of [second, first]) {
      const replayed = await post(replica, captured);
      expect(replayed.status).toBe(500);
      expect(replayed.text).toContain('Authentication failed for prov-push.');
    }
    // The other replica itself is fine: a fresh token is accepted there (a duplicate of the recorded result).
    expect(await post(second, digestPush(caseId))).toMatchObject({ status: 200, text: expect.stringContaining('<duplicate>true</duplicate>') });
  });

  it('then guessed passwords count against the address as any failed authentication: a Fault with 429 after the limit, while the right password goes on', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25 && !statuses.includes(429); i++) statuses.push((await post(first, digestPush('QZ-NO-SUCH', undefined, `guess-${i}`))).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 500)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(21); // limits.failedAuthPerMinute: 20, with the replays above counted too
    const right = await post(second, digestPush('QZ-NO-SUCH'));
    expect(right.status).not.toBe(429);
    expect(right.text).toContain('unknown_case');
  });
});
