/**
 * Deliveries to SOAP systems, against real `soap` package servers on port 0: mapped arguments and
 * receipts, SOAP 1.1 and 1.2, WS-Security, faults, HTML pages, GBK, timeouts.
 */
import iconv from 'iconv-lite';
import * as soap from 'soap';
import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, sampleCase, startTestGateway, submit, writeConfig } from '../support/harness';
import { strictGbk } from '../xml/support';
import { CASE_NS, addWsdls, caseServiceWsdl, soapPeer, soapSystem, type SoapPeer } from './support';

async function settled(gateway: RunningGateway, caseId: string, status: string): Promise<any> {
  return eventually(async () => {
    const view = await caseView(gateway, caseId);
    expect(view.body.deliveries[0].status).toBe(status);
    return view.body.deliveries[0];
  });
}

const ok = (args: Record<string, string>) => ({ code: '0', msg: '成功', slbh: `SL-${args.bizNo}` });

describe('when cases are delivered to SOAP 1.1 and 1.2 systems', () => {
  let soap11: SoapPeer;
  let soap12: SoapPeer;
  let gateway: RunningGateway;
  const behaviour = new Map<string, (n: number) => unknown>();
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    const submitCase = (args: Record<string, string>) => {
      const n = (attempts.get(args.bizNo) ?? 0) + 1;
      attempts.set(args.bizNo, n);
      const decide = behaviour.get(args.sqrxm);
      return decide ? decide(n) : ok(args);
    };
    soap11 = await soapPeer({
      version: '1.1',
      submitCase,
      intercept: (req, _n, res) => {
        const text = req.raw.toString('utf8');
        // A proxy's maintenance page, once per case, for the applicant who asks for it.
        const html = /<sqrxm>网关维护<\/sqrxm>/.test(text) && (attempts.get(/<bizNo>([^<]+)/.exec(text)![1]) ?? 0) === 0;
        if (!html) return false;
        attempts.set(/<bizNo>([^<]+)/.exec(text)![1], 1);
        res.status(502).type('text/html').send('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>');
        return true;
      },
    });
    soap12 = await soapPeer({ version: '1.2', submitCase });
    const dir = writeConfig(
      [
        soapSystem('prov-soap11', soap11.url),
        soapSystem('prov-soap12', soap12.url, {
          soap: { wsdl: './wsdl/case12.wsdl', service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.2' },
        }),
      ],
      { routes: [{ itemCode: '330800-FG-*', targets: ['prov-soap11'] }, { itemCode: '330800-TX-*', targets: ['prov-soap12'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1'), 'case12.wsdl': caseServiceWsdl('1.2') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await soap11.close();
    await soap12.close();
  });

  it('then the mapped arguments go out as the operation and the receipt is recorded', async () => {
    const c = sampleCase();
    expect((await submit(gateway, c)).status).toBe(202);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    expect(delivery.receiptNo).toBe(`SL-${c.caseId}`);
    const sent = soap11.received.find((r) => r.raw.toString().includes(c.caseId as string))!;
    expect(sent.headers['content-type']).toMatch(/^text\/xml; charset=UTF-8/i);
    expect(sent.headers.soapaction).toBe(`"${CASE_NS}/SubmitCase"`);
    expect(sent.headers['idempotency-key']).toBe(`${c.caseId}:prov-soap11`);
    const body = sent.raw.toString('utf8');
    expect(body).toContain('http://schemas.xmlsoap.org/soap/envelope/');
    expect(body).toMatch(new RegExp(`<SubmitCase xmlns="${CASE_NS}"><bizNo>${c.caseId}</bizNo><sqrxm>张三</sqrxm><sfzh>330802199001011234</sfzh><sxbm>330800-FG-001</sxbm></SubmitCase>`));
  });

  it('then a SOAP 1.2 system gets a SOAP 1.2 envelope and its reply is read', async () => {
    const c = sampleCase({ itemCode: '330800-TX-001' });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    expect(delivery.receiptNo).toBe(`SL-${c.caseId}`);
    const sent = soap12.received.find((r) => r.raw.toString().includes(c.caseId as string))!;
    expect(sent.headers['content-type']).toBe(`application/soap+xml; charset=UTF-8; action="${CASE_NS}/SubmitCase"`);
    expect(sent.headers.soapaction).toBeUndefined();
    expect(sent.raw.toString()).toContain('http://www.w3.org/2003/05/soap-envelope');
  });

  it('then a Client fault rejects the delivery at once, with the fault in its last error', async () => {
    behaviour.set('客户端错', () => {
      throw { Fault: { faultcode: 'soap:Client', faultstring: '身份证号码校验不通过', statusCode: 500 } };
    });
    const c = sampleCase({ applicant: { ...(sampleCase().applicant as object), name: '客户端错' } });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'rejected');
    expect(delivery.attempts).toBe(1);
    expect(delivery.lastError).toBe('prov-soap11 answered with a SOAP fault soap:Client: 身份证号码校验不通过');
  });

  it('then a SOAP 1.2 Sender fault rejects it too', async () => {
    behaviour.set('发送方错', () => {
      throw { Fault: { Code: { Value: 'soap:Sender' }, Reason: { Text: '事项编码不存在' }, statusCode: 400 } };
    });
    const c = sampleCase({ itemCode: '330800-TX-002', applicant: { ...(sampleCase().applicant as object), name: '发送方错' } });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'rejected');
    expect(delivery.lastError).toContain('soap:Sender');
    expect(delivery.lastError).toContain('事项编码不存在');
  });

  it('then a Server fault is retried and the case delivered when the system recovers', async () => {
    behaviour.set('服务端错', (n) => {
      if (n === 1) throw { Fault: { faultcode: 'soap:Server', faultstring: '数据库连接超时', statusCode: 500 } };
      return { code: '0', msg: '成功', slbh: 'SL-RECOVERED' };
    });
    const c = sampleCase({ applicant: { ...(sampleCase().applicant as object), name: '服务端错' } });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    expect(delivery.receiptNo).toBe('SL-RECOVERED');
    expect(delivery.attempts).toBe(2);
    const retried = delivery.history.find((h: { event: string }) => h.event === 'retry_scheduled');
    expect(retried.detail).toBe('prov-soap11 answered with a SOAP fault soap:Server: 数据库连接超时');
  });

  it('then an HTML error page is a retryable error that names the system', async () => {
    const c = sampleCase({ applicant: { ...(sampleCase().applicant as object), name: '网关维护' } });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    const retried = delivery.history.find((h: { event: string }) => h.event === 'retry_scheduled');
    expect(retried.detail).toBe('prov-soap11 answered HTTP 502 with a reply that is not SOAP (text/html; charset=utf-8): 502 Bad Gateway 502 Bad Gateway nginx');
  });
});

describe('when a SOAP system checks a WS-Security UsernameToken', () => {
  let peer: SoapPeer;
  let gateway: RunningGateway;
  const seen: Array<{ type: string; created?: string; nonce?: string }> = [];

  beforeAll(async () => {
    peer = await soapPeer({
      version: '1.1',
      submitCase: ok,
      // The soap package's own server hook; the digest is recomputed with the package's own helper.
      authenticate: (security) => {
        const token = (security as { UsernameToken?: Record<string, any> } | undefined)?.UsernameToken;
        if (!token) return false;
        const password = token.Password as { $value: string; attributes: { Type: string } };
        const type = password.attributes.Type.split('#')[1]!;
        const nonce = token.Nonce?.$value as string | undefined;
        seen.push({ type, created: token.Created, nonce });
        if (token.Username !== 'qzycsl') return false;
        if (type === 'PasswordText') return password.$value === 'right-text';
        return password.$value === soap.passwordDigest(nonce!, token.Created, 'right-digest');
      },
    });
    const wsse = (password: string, passwordType: string) => ({ type: 'wsse', username: 'qzycsl', password, passwordType });
    const dir = writeConfig(
      [
        soapSystem('prov-text', peer.url, { auth: wsse('right-text', 'PasswordText') }),
        soapSystem('prov-digest', peer.url, { auth: wsse('right-digest', 'PasswordDigest') }),
        soapSystem('prov-wrong', peer.url, { auth: wsse('wrong-password', 'PasswordDigest') }),
      ],
      {
        routes: [
          { itemCode: '330800-A-*', targets: ['prov-text'] },
          { itemCode: '330800-B-*', targets: ['prov-digest'] },
          { itemCode: '330800-C-*', targets: ['prov-wrong'] },
        ],
      },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await peer.close();
  });

  it('then PasswordText and PasswordDigest (with nonce and created) are accepted', async () => {
    const a = sampleCase({ itemCode: '330800-A-001' });
    const b = sampleCase({ itemCode: '330800-B-001' });
    await submit(gateway, a);
    await submit(gateway, b);
    expect((await settled(gateway, a.caseId as string, 'delivered')).receiptNo).toBe(`SL-${a.caseId}`);
    expect((await settled(gateway, b.caseId as string, 'delivered')).receiptNo).toBe(`SL-${b.caseId}`);
    const digest = seen.find((s) => s.type === 'PasswordDigest')!;
    expect(digest.nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(Math.abs(Date.parse(digest.created!) - Date.now())).toBeLessThan(60_000);
  });

  it('then a wrong password is refused by the server and the delivery rejected', async () => {
    const c = sampleCase({ itemCode: '330800-C-001' });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'rejected');
    expect(delivery.lastError).toContain('SOAP fault SOAP-ENV:Client / AuthenticationFailure');
    expect(delivery.receiptNo).toBeUndefined();
  });
});

describe('when a SOAP system answers in GBK, slowly, or is asked 100 times', () => {
  let peer: SoapPeer;
  let gateway: RunningGateway;
  const slowSeen = new Set<string>();

  const gbkReply = (code: string, msg: string, slbh?: string) =>
    iconv.encode(
      '<?xml version="1.0" encoding="GBK"?>' +
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
        `<ns2:SubmitCaseResponse xmlns:ns2="${CASE_NS}"><ns2:code>${code}</ns2:code><ns2:msg>${msg}</ns2:msg>${slbh ? `<ns2:slbh>${slbh}</ns2:slbh>` : ''}</ns2:SubmitCaseResponse>` +
        '</soap:Body></soap:Envelope>',
      'gbk',
    );

  beforeAll(async () => {
    peer = await soapPeer({
      version: '1.1',
      submitCase: ok,
      intercept: (req, _n, res) => {
        if (req.headers['idempotency-key']?.toString().endsWith(':prov-gbk')) {
          // A GBK system: reads GBK, answers GBK (what it says depends on what it read).
          const text = iconv.decode(req.raw, 'gbk');
          const name = /<sqrxm>([^<]*)<\/sqrxm>/.exec(text)?.[1];
          const bizNo = /<bizNo>([^<]*)<\/bizNo>/.exec(text)?.[1];
          const reply = name === '张三' ? gbkReply('0', '受理成功', `衢房核字〔2026〕第${bizNo!.slice(-4)}号`) : gbkReply('1', `申请人“${name}”材料不齐全：缺少《房屋所有权证》`);
          res.status(200).type('text/xml; charset=GBK').send(reply);
          return true;
        }
        if (req.headers['idempotency-key']?.toString().endsWith(':prov-slow') && !slowSeen.has(String(req.headers['idempotency-key']))) {
          slowSeen.add(String(req.headers['idempotency-key']));
          setTimeout(() => res.headersSent || res.status(200).type('text/xml').send('<late/>'), 1500);
          return true;
        }
        return false;
      },
    });
    const dir = writeConfig(
      [
        soapSystem('prov-gbk', peer.url, { charset: 'gbk' }),
        soapSystem('prov-slow', peer.url, { timeoutMs: 300 }),
        soapSystem('prov-busy', peer.url, {
          soap: { wsdl: `${peer.url}?wsdl`, service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' },
          concurrency: 8,
          rateLimit: { max: 1000, perMs: 1000 },
        }),
      ],
      {
        routes: [
          { itemCode: '330800-GBK-*', targets: ['prov-gbk'] },
          { itemCode: '330800-SLOW-*', targets: ['prov-slow'] },
          { itemCode: '330800-BUSY-*', targets: ['prov-busy'] },
        ],
      },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await peer.close();
  });

  it('then the request goes out in GBK and the GBK reply is decoded with its Chinese intact', async () => {
    const c = sampleCase({ itemCode: '330800-GBK-001' });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    expect(delivery.receiptNo).toBe(`衢房核字〔2026〕第${(c.caseId as string).slice(-4)}号`);
    const sent = peer.received.find((r) => r.headers['idempotency-key'] === `${c.caseId}:prov-gbk`)!;
    expect(sent.headers['content-type']).toMatch(/charset=GBK/);
    expect(sent.raw.includes(Buffer.from('张三', 'utf8'))).toBe(false);
    expect(iconv.decode(sent.raw, 'gbk')).toMatch(/^<\?xml version="1.0" encoding="GBK"\?>.*<sqrxm>张三<\/sqrxm>/);

    const refused = sampleCase({ itemCode: '330800-GBK-002', applicant: { ...(sampleCase().applicant as object), name: '李四' } });
    await submit(gateway, refused);
    const rejected = await settled(gateway, refused.caseId as string, 'rejected');
    expect(rejected.lastError).toBe('prov-gbk refused the case: 申请人“李四”材料不齐全：缺少《房屋所有权证》');
  });

  it('then characters outside GBK proper (䶮, €) go out as character references, so a strict GBK decoder reads the envelope', async () => {
    const c = sampleCase({ itemCode: '330800-GBK-003', applicant: { ...(sampleCase().applicant as object), name: '张䶮€' } });
    await submit(gateway, c);
    // The system reads the name back as text and names it in its refusal: the characters survive both ways.
    const rejected = await settled(gateway, c.caseId as string, 'rejected');
    expect(rejected.lastError).toBe('prov-gbk refused the case: 申请人“张䶮€”材料不齐全：缺少《房屋所有权证》');
    const sent = peer.received.find((r) => r.headers['idempotency-key'] === `${c.caseId}:prov-gbk`)!;
    const read = strictGbk.python(sent.raw);
    expect(strictGbk.glibc(sent.raw)).toBe(read);
    expect(read).toMatch(/^<\?xml version="1.0" encoding="GBK"\?>.*<sqrxm>张&#x4DAE;&#x20AC;<\/sqrxm>/);
  });

  it('then a system slower than timeoutMs is given up on and retried', async () => {
    const c = sampleCase({ itemCode: '330800-SLOW-001' });
    await submit(gateway, c);
    const delivery = await settled(gateway, c.caseId as string, 'delivered');
    expect(delivery.attempts).toBe(2);
    const retried = delivery.history.find((h: { event: string }) => h.event === 'retry_scheduled');
    expect(retried.detail).toBe('prov-slow did not answer within 300 ms');
  });

  it('then the WSDL is fetched once across 100 deliveries', async () => {
    const cases = Array.from({ length: 100 }, (_, i) => sampleCase({ itemCode: `330800-BUSY-${i}` }));
    await Promise.all(cases.map((c) => submit(gateway, c)));
    await eventually(async () => {
      const sent = peer.received.filter((r) => String(r.headers['idempotency-key']).endsWith(':prov-busy'));
      expect(sent).toHaveLength(100);
    }, 20_000);
    for (const c of cases.slice(0, 5)) expect((await settled(gateway, c.caseId as string, 'delivered')).receiptNo).toBe(`SL-${c.caseId}`);
    expect(peer.wsdlRequests).toBe(1);
  });
});

describe('when case data tries to write SOAP markup (XML injection)', () => {
  let peer: SoapPeer;
  let gateway: RunningGateway;
  const INJECTION = 'LSJZ</sqrxm><sfzh>INJECTED</sfzh><jzje>999999</jzje><sqrxm>LSJZ';
  const sentFor = (caseId: string) => peer.received.filter((r) => String(r.headers['idempotency-key']).startsWith(`${caseId}:`));

  beforeAll(async () => {
    peer = await soapPeer({ version: '1.1', submitCase: ok });
    const dir = writeConfig(
      [
        // As prov-civil-affairs maps its 救助类型: a form field straight into an argument.
        soapSystem('prov-form-field', peer.url, { request: { body: '{"bizNo": caseId, "sqrxm": form.jzlx, "sfzh": applicant.idNumber, "sxbm": itemCode}' } }),
        // A mapping that turns case values into keys: only the adapter can see what those become.
        soapSystem('prov-built-keys', peer.url, {
          request: { body: '$merge([{"bizNo": caseId, "sqrxm": form.jzlx, "sfzh": applicant.idNumber, "sxbm": itemCode}, form.extra.{name: value}])' },
          circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 },
        }),
      ],
      { routes: [{ itemCode: '330800-JZ-*', targets: ['prov-form-field'] }, { itemCode: '330800-KEYS-*', targets: ['prov-built-keys'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await peer.close();
  });

  it('then a case whose form holds a key the soap package or an XML writer reads as markup is refused at intake with its path, and nothing is sent', async () => {
    const markup: Array<[Record<string, unknown>, string]> = [
      [{ jzlx: { $xml: INJECTION } }, 'form.jzlx.$xml'],
      [{ jzlx: { $value: 'LSJZ' } }, 'form.jzlx.$value'],
      [{ jzlx: { attributes: { 'x="1"><sfzh>INJECTED</sfzh><y': '1' }, $value: 'LSJZ' } }, 'form.jzlx.attributes'],
      [{ jzlx: { $attributes: { id: '1' } } }, 'form.jzlx.$attributes'],
      [{ jzlx: { $type: 'xsd:int' } }, 'form.jzlx.$type'],
      [{ jzlx: 'LSJZ', items: [{ '@id': '1', '#text': 'x' }] }, 'form.items[0].@id'],
      [{ _xml: INJECTION }, 'form._xml'],
      [{ jzlx: { '?xml-stylesheet': 'href="x"' } }, 'form.jzlx.?xml-stylesheet'],
    ];
    for (const [form, path] of markup) {
      const c = sampleCase({ itemCode: '330800-JZ-001', form });
      const res = await submit(gateway, c);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_case');
      expect(res.body.error.details).toEqual(expect.arrayContaining([{ path, message: expect.stringContaining('XML markup') }]));
      expect((await caseView(gateway, c.caseId as string)).status).toBe(404);
    }
    // The same text as a plain value arrives as text: one sfzh, the applicant's.
    const plain = sampleCase({ itemCode: '330800-JZ-002', form: { jzlx: INJECTION } });
    expect((await submit(gateway, plain)).status).toBe(202);
    await settled(gateway, plain.caseId as string, 'delivered');
    const [sent] = sentFor(plain.caseId as string);
    expect(sent.raw.toString('utf8').match(/<(\w+:)?sfzh>/g)).toHaveLength(1);
    expect(sent.raw.toString('utf8')).not.toContain('<jzje>');
  });

  it('then a mapped body whose keys or values the soap package would write as markup is rejected, naming the field, and never sent', async () => {
    const built: Array<[Record<string, unknown>, string]> = [
      [{ jzlx: 'LSJZ', extra: [{ name: '$xml', value: '<sfzh>INJECTED</sfzh>' }] }, '$xml: "$xml" is markup to the soap package, not an element name'],
      [{ jzlx: 'LSJZ', extra: [{ name: 'attributes', value: { 'x="1"><sfzh>INJECTED</sfzh><y': '1' } }] }, 'attributes: "attributes" is markup to the soap package, not an element name'],
      [{ jzlx: 'LSJZ', extra: [{ name: 'sfzh><jzje', value: '999999' }] }, 'sfzh><jzje: "sfzh><jzje" is not a valid XML name'],
      // The soap package writes a string shaped like a CDATA section as it is.
      [{ jzlx: '<![CDATA[LSJZ]]></sqrxm><sfzh>INJECTED</sfzh><sqrxm><![CDATA[LSJZ]]>' }, 'sqrxm: a value shaped like a CDATA section would be written unescaped'],
    ];
    for (const [form, problem] of built) {
      const c = sampleCase({ itemCode: '330800-KEYS-001', form });
      expect((await submit(gateway, c)).status).toBe(202);
      const rejected = await settled(gateway, c.caseId as string, 'rejected');
      expect(rejected.lastError).toBe(`prov-built-keys: request.body cannot be written as SOAP: ${problem}`);
      expect(sentFor(c.caseId as string)).toHaveLength(0);
    }
  });
});
