/**
 * Requests a stranger, a confused client or a tired operator sends: each gets a clear 4xx in the
 * contract's shape and changes nothing.
 */
import http from 'node:http';
import net from 'node:net';
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import {
  INTAKE_TOKEN, OPS_TOKEN, admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request with headers and bytes exactly as given (fetch would refuse raw UTF-8 in a header). */
function rawRequest(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('when hostile or malformed requests arrive', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig(
      [
        restSystem('city-housing-reform', `${legacy.url}/cases`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved"}', inboundToken: 'housing-result-token' } }),
        restSystem('city-xml', `${legacy.url}/xml`, { protocol: 'xml', charset: 'gbk', xml: { root: 'Request' }, result: { mode: 'push', map: '{"caseId": Result.ywh, "outcome": "approved"}', inboundToken: 'xml-result-token' } }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  it('then a form nested 4 500 deep is a 400 naming the depth limit, and no case is stored', async () => {
    const c = sampleCase();
    const body = JSON.stringify({ ...c, form: { deep: 'DEEP' } }).replace('"DEEP"', '['.repeat(4500) + ']'.repeat(4500));
    const res = await submit(gateway, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json', details: [{ message: 'nested deeper than 64 levels' }] });
    expect((await caseView(gateway, c.caseId as string)).status).toBe(404);
  });

  it('then a __proto__ key inside form is a 400, not silently dropped', async () => {
    const c = sampleCase();
    const res = await submit(gateway, JSON.stringify(c).replace('"form":{', '"form":{"__proto__":{"admin":true},'));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'form.__proto__', message: 'the key "__proto__" is not allowed' }]);
    expect((await caseView(gateway, c.caseId as string)).status).toBe(404);
  });

  it.each(['gzip', 'deflate', 'br'])('then a corrupt %s body is a 400, not a 500', async (encoding) => {
    const res = await rawRequest(`${gateway.url}/api/v1/cases`, 'POST', { 'Content-Type': 'application/json', 'Content-Encoding': encoding, Authorization: `Bearer ${INTAKE_TOKEN}` }, Buffer.from('not compressed at all'));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('invalid_request');
  });

  it('then a UTF-16 XML push gets an XML error acknowledgement, not a 500', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<?xml version="1.0" encoding="UTF-16"?><Result><ywh>QZ-1</ywh></Result>', 'utf16le')]);
    const noBom = Buffer.from('<Result><ywh>QZ-1</ywh></Result>', 'utf16le');
    for (const [systemId, token, body, contentType] of [
      ['city-xml', 'xml-result-token', bytes, 'text/xml; charset=utf-16'],
      ['city-xml', 'xml-result-token', bytes, 'text/xml'],
      ['city-housing-reform', 'housing-result-token', noBom, 'text/xml'],
      ['city-housing-reform', 'housing-result-token', noBom, 'text/xml; charset=utf-8'],
    ] as const) {
      const res = await rawRequest(`${gateway.url}/xml/results/${systemId}`, 'POST', { 'Content-Type': contentType, Authorization: `Bearer ${token}` }, body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/xml; charset=(GBK|UTF-8)/);
      expect(iconv.decode(Buffer.from(res.text, 'latin1'), systemId === 'city-xml' ? 'gbk' : 'utf8')).toContain('<code>invalid_xml</code>');
    }
  });

  it('then pushes to an unknown system are 401, exactly as with a wrong token', async () => {
    const unknown = await rawRequest(`${gateway.url}/api/v1/results/nat-nowhere`, 'POST', { 'Content-Type': 'application/json', Authorization: 'Bearer housing-result-token' }, Buffer.from('{}'));
    const wrong = await rawRequest(`${gateway.url}/api/v1/results/city-housing-reform`, 'POST', { 'Content-Type': 'application/json', Authorization: 'Bearer nope' }, Buffer.from('{}'));
    expect([unknown.status, wrong.status]).toEqual([401, 401]);
    expect(JSON.parse(unknown.text)).toEqual(JSON.parse(wrong.text));
    // One system's credential is refused on another system's endpoint.
    const crossed = await rawRequest(`${gateway.url}/xml/results/city-xml`, 'POST', { 'Content-Type': 'text/xml', Authorization: 'Bearer housing-result-token' }, Buffer.from('<Result/>'));
    expect(crossed.status).toBe(401);
  });

  it('then X-OW-Operator in raw UTF-8 is stored as written, and bytes that are not UTF-8 are refused', async () => {
    const headers = (operator: string) => ({ 'Content-Type': 'application/json', Authorization: `Bearer ${OPS_TOKEN}`, 'X-OW-Operator': operator });
    const raw = Buffer.from('值班员 赵六', 'utf8').toString('latin1');
    const paused = await rawRequest(`${gateway.url}/api/v1/admin/systems/city-xml/pause`, 'POST', headers(raw), Buffer.from('{"reason":"夜间维护"}'));
    expect(paused.status).toBe(200);
    const audit = (await admin(gateway, 'GET', '/audit')).body.items as Array<{ who: string }>;
    expect(audit[0]!.who).toMatch(/^值班员 赵六 \(token [0-9a-f]{8}\)$/);

    const garbled = await rawRequest(`${gateway.url}/api/v1/admin/systems/city-xml/resume`, 'POST', headers(Buffer.from([0xe5, 0x80, 0x20, 0xff]).toString('latin1')), Buffer.from('{}'));
    expect(garbled.status).toBe(400);
    expect(JSON.parse(garbled.text).error).toMatchObject({ code: 'invalid_request', details: [{ path: 'X-OW-Operator' }] });
    const badPercent = await rawRequest(`${gateway.url}/api/v1/admin/systems/city-xml/resume`, 'POST', headers('%E5%80'), Buffer.from('{}'));
    expect(badPercent.status).toBe(400);
  });

  // One U+0000 in a stored text once stopped the ledger sweep for good (PostgreSQL cannot store it).
  it('then a NUL or another control character in any JSON string or key is a 400 naming its path, and nothing is stored or changed', async () => {
    const refused = async (res: { status: number; body: any }, path: string, message: string) => {
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_json', details: [{ path, message }] });
    };
    // A case field, a form key, an unpaired surrogate: refused, never stored.
    const named = sampleCase();
    await refused(await submit(gateway, { ...named, applicant: { ...(named.applicant as object), name: '张\u0000三' } }), 'applicant.name', 'contains the control character U+0000');
    expect((await caseView(gateway, named.caseId as string)).status).toBe(404);
    const keyed = sampleCase({ form: { 'purpose\u001b[2J': '购房' } });
    await refused(await submit(gateway, keyed), 'form.purpose\u001b[2J', 'a key that contains the control character U+001B');
    await refused(await submit(gateway, JSON.stringify(sampleCase({ itemName: 'SURROGATE' })).replace('SURROGATE', '\\ud800')), 'itemName', 'contains an unpaired surrogate (U+D800)');
    // Tab, line feed and carriage return are text.
    expect((await submit(gateway, sampleCase({ form: { remark: '第一行\r\n第二行\t完' } }))).status).toBe(202);

    // An ops reason: refused, the system not paused, nothing audited.
    const before = ((await admin(gateway, 'GET', '/audit')).body.items as unknown[]).length;
    await refused(await admin(gateway, 'POST', '/systems/city-housing-reform/pause', { reason: 'night\u0000work' }), 'reason', 'contains the control character U+0000');
    const board = (await admin(gateway, 'GET', '/systems')).body as Array<{ id: string; paused: boolean }>;
    expect(board.find((s) => s.id === 'city-housing-reform')!.paused).toBe(false);
    expect(((await admin(gateway, 'GET', '/audit')).body.items as unknown[]).length).toBe(before);

    // A pushed result's message: refused, the delivery still waits for its result.
    const c = sampleCase();
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    await refused(await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, yj: '同意\u0007' }, 'housing-result-token'), 'yj', 'contains the control character U+0007');
    expect((await caseView(gateway, c.caseId as string)).body.deliveries[0]).toMatchObject({ status: 'delivered' });
  });

  it('then a NUL percent-encoded in X-OW-Operator is a 400 naming the header, and nothing is done', async () => {
    const res = await rawRequest(`${gateway.url}/api/v1/admin/systems/city-housing-reform/pause`, 'POST', { 'Content-Type': 'application/json', Authorization: `Bearer ${OPS_TOKEN}`, 'X-OW-Operator': 'ops%00admin' }, Buffer.from('{"reason":"maintenance"}'));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'invalid_request', details: [{ path: 'X-OW-Operator', message: 'contains the control character U+0000' }] });
    const board = (await admin(gateway, 'GET', '/systems')).body as Array<{ id: string; paused: boolean }>;
    expect(board.find((s) => s.id === 'city-housing-reform')!.paused).toBe(false);
  });

  it('then a raw control character in a header is a 400 in the error shape naming the header, not a bare 400 from the parser', async () => {
    const { port } = new URL(gateway.url);
    for (const [header, value] of [['X-OW-Operator', 'ops\u0000admin'], ['X-Request-Id', 'abc\u0001'], ['Authorization', `Bearer ${OPS_TOKEN}\u001b`]] as const) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () =>
          socket.write(`POST /api/v1/admin/systems/city-housing-reform/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPS_TOKEN}\r\n${header === 'Authorization' ? '' : `${header}: ${value}\r\n`}${header === 'Authorization' ? `${header}: ${value}\r\n` : ''}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`),
        );
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/i);
      expect(head).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
      expect(JSON.parse(body!).error).toEqual({ code: 'invalid_request', message: `The header ${header} contains a control character.`, details: [{ path: header, message: 'contains a control character' }] });
    }
    const board = (await admin(gateway, 'GET', '/systems')).body as Array<{ id: string; paused: boolean }>;
    expect(board.find((s) => s.id === 'city-housing-reform')!.paused).toBe(false);
  });

  it('then an XML push carrying a control character, written or as a reference (&#0;, &#x1F;), gets a refusal in GBK and nothing is parked', async () => {
    const unmatched = async () => ((await admin(gateway, 'GET', '/unmatched-results?systemId=city-xml')).body.items as unknown[]).length;
    const before = await unmatched();
    for (const yj of ['同意&#0;', '同意&#x1F;', '同意\u0001', '同意&#65535;']) {
      const body = iconv.encode(`<?xml version="1.0" encoding="GBK"?><Result><ywh>QZ-NO-SUCH-CASE</ywh><yj>${yj}</yj></Result>`, 'gbk');
      const res = await rawRequest(`${gateway.url}/xml/results/city-xml`, 'POST', { 'Content-Type': 'text/xml; charset=GBK', Authorization: 'Bearer xml-result-token' }, body);
      expect({ yj, status: res.status }).toEqual({ yj, status: 400 });
      const ack = iconv.decode(Buffer.from(res.text, 'latin1'), 'gbk');
      expect(ack).toContain('<code>invalid_xml</code>');
      expect(ack).toMatch(/XML cannot carry/);
    }
    expect(await unmatched()).toBe(before);
  });

  it('then an ASCII X-OW-Operator with a % that starts no escape is taken as written', async () => {
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${OPS_TOKEN}`, 'X-OW-Operator': '100% sure' };
    const resumed = await rawRequest(`${gateway.url}/api/v1/admin/systems/city-xml/resume`, 'POST', headers, Buffer.from('{}'));
    expect(resumed.status).toBe(200);
    const audit = (await admin(gateway, 'GET', '/audit')).body.items as Array<{ who: string }>;
    expect(audit[0]!.who).toMatch(/^100 sure \(token [0-9a-f]{8}\)$/);
  });

  it.each([
    ['a stranger', {}],
    ['the intake platform', { Authorization: `Bearer ${INTAKE_TOKEN}` }],
    ['ops', { Authorization: `Bearer ${OPS_TOKEN}` }],
    ['a legacy system', { Authorization: 'Bearer xml-result-token' }],
  ])('then OPTIONS, which no route answers, is refused on every path to %s (no automatic 200 listing methods)', async (_who, auth: Record<string, string>) => {
    for (const path of ['/xml/results/city-xml', '/soap/results', '/api/v1/results/city-housing-reform', '/api/v1/cases', '/api/v1/admin/systems', '/healthz']) {
      const res = await rawRequest(`${gateway.url}${path}`, 'OPTIONS', auth);
      expect({ path, status: res.status, allow: res.headers.allow }).toEqual({ path, status: expect.any(Number), allow: undefined });
      expect([401, 403, 404]).toContain(res.status);
    }
  });
});
