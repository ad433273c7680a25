/**
 * Materials handed over end to end, through a running gateway, the bytes checked where they arrive:
 * by reference (the URI in the mapped body), inline (base64 in REST JSON and in GBK XML), attached
 * (REST multipart/form-data, SOAP MTOM/XOP); fetched once for a case fanned out to all of them; a
 * tampered material rejected and audited; a store outage retried and then delivered; a redirect off
 * the store not followed. Every delivery's seal lists the materials' digests, verified with the
 * independent SM2 implementation.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import iconv from 'iconv-lite';
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import type { RunningGateway } from '../../src/gateway';
import { parseSealHeader, signedMessage, type Seal } from '../../src/seal/seal';
import { startMaterialStore } from '../../sim/materials';
import { admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { addWsdls, soapSystem } from '../soap/support';
import { xmlSystem } from '../xml/support';
import { tempDir } from '../seal/helpers';
import { materialBytes, parseMultipart, sha256, type Part } from './support';
import { sample, scrape } from '../observability/prom';

const NS = 'http://ywxt.test.qz.gov.cn/ws/materials';
const MTOM_WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="CaseService" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="${NS}" targetNamespace="${NS}">
  <wsdl:types>
    <xsd:schema targetNamespace="${NS}" elementFormDefault="qualified">
      <xsd:complexType name="Material"><xsd:sequence>
        <xsd:element name="kind" type="xsd:string"/><xsd:element name="name" type="xsd:string"/><xsd:element name="mime" type="xsd:string"/>
        <xsd:element name="sha256" type="xsd:string"/><xsd:element name="size" type="xsd:long"/><xsd:element name="content" type="xsd:base64Binary"/>
      </xsd:sequence></xsd:complexType>
      <xsd:element name="SubmitCase"><xsd:complexType><xsd:sequence>
        <xsd:element name="bizNo" type="xsd:string"/><xsd:element name="materials" type="tns:Material" minOccurs="0" maxOccurs="unbounded"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SubmitCaseResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="code" type="xsd:string"/><xsd:element name="msg" type="xsd:string"/><xsd:element name="slbh" type="xsd:string" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="SubmitCaseRequest"><wsdl:part name="parameters" element="tns:SubmitCase"/></wsdl:message>
  <wsdl:message name="SubmitCaseResponse"><wsdl:part name="parameters" element="tns:SubmitCaseResponse"/></wsdl:message>
  <wsdl:portType name="CasePortType"><wsdl:operation name="SubmitCase"><wsdl:input message="tns:SubmitCaseRequest"/><wsdl:output message="tns:SubmitCaseResponse"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="CaseBinding" type="tns:CasePortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="SubmitCase"><soap:operation soapAction="${NS}/SubmitCase"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="CaseService"><wsdl:port name="CasePort" binding="tns:CaseBinding"><soap:address location="http://127.0.0.1:1/case"/></wsdl:port></wsdl:service>
</wsdl:definitions>
`;

/** A SOAP system that takes MTOM: what it received, raw. */
async function mtomPeer(): Promise<{ url: string; received: Array<{ headers: http.IncomingHttpHeaders; bytes: Buffer }>; close(): Promise<void> }> {
  const received: Array<{ headers: http.IncomingHttpHeaders; bytes: Buffer }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, bytes: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><tns:SubmitCaseResponse xmlns:tns="${NS}"><tns:code>0</tns:code><tns:msg>成功</tns:msg><tns:slbh>SL-MTOM-${received.length}</tns:slbh></tns:SubmitCaseResponse></soap:Body></soap:Envelope>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/case`,
    received,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('when a case with materials is delivered', () => {
  let store: Awaited<ReturnType<typeof startMaterialStore>>;
  let legacy: LegacyServer;
  let mtom: Awaited<ReturnType<typeof mtomPeer>>;
  let gateway: RunningGateway;
  let dataDir: string;
  const drawing = materialBytes(300_000);
  const idCard = materialBytes(5_000);
  const targets = ['city-ref', 'city-inline', 'city-attach', 'city-xml', 'prov-mtom'];

  beforeAll(async () => {
    store = await startMaterialStore({ token: 'store-token-for-tests' });
    store.store.put('2026/drawing.pdf', { bytes: drawing, mime: 'application/pdf' });
    store.store.put('2026/id-card.png', { bytes: idCard, mime: 'image/png' });
    legacy = await legacyServer((req, n, res) => {
      if (req.url.startsWith('/xml')) {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=GBK' });
        res.end(iconv.encode(`<?xml version="1.0" encoding="GBK"?><Response><code>0</code><data><slbh>SL-X${n}</slbh></data></Response>`, 'gbk'));
        return;
      }
      replyJson(res, 200, { code: '0', data: { slbh: `SL${n}` } });
    });
    mtom = await mtomPeer();
    const fast = { retry: { attempts: 4, backoff: { type: 'fixed', delayMs: 50 } } };
    const dir = writeConfig(
      [
        restSystem('city-ref', `${legacy.url}/ref`, { ...fast, request: { body: '{"bizNo": caseId, "files": materials.{"name": name, "url": uri}}' } }),
        restSystem('city-inline', `${legacy.url}/inline`, { ...fast, materials: { mode: 'inline', field: '/data/attachments' }, request: { body: '{"bizNo": caseId, "data": {"sqr": applicant.name}}' } }),
        // One failure of its own would open its circuit for a minute: a store outage must not count as one.
        restSystem('city-attach', `${legacy.url}/attach`, { ...fast, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 }, materials: { mode: 'attach', kinds: ['DRAWING'] } }),
        xmlSystem('city-xml', `${legacy.url}/xml`, { ...fast, charset: 'gbk', materials: { mode: 'inline', field: '/fj' } }),
        soapSystem('prov-mtom', mtom.url, { ...fast, soap: { wsdl: './wsdl/mtom.wsdl', service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' }, request: { body: '{"bizNo": caseId}' }, materials: { mode: 'attach' } }),
      ],
      { routes: [{ itemCode: '*', targets }] },
      { materials: { stores: { intake: { baseUrl: `${store.url}/`, auth: { type: 'bearer', token: 'store-token-for-tests' } } } } },
    );
    addWsdls(dir, { 'mtom.wsdl': MTOM_WSDL });
    dataDir = tempDir('materials');
    gateway = await startTestGateway(dir, { dataDir });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await mtom.close();
    await store.close();
  });

  const materials = () => [
    { name: '竣工测绘图', kind: 'DRAWING', uri: 'store://intake/2026/drawing.pdf', sha256: sha256(drawing), size: drawing.length, mime: 'application/pdf' },
    { name: '身份证', kind: 'ID_CARD', uri: `${store.url}/2026/id-card.png`, sha256: sha256(idCard) },
  ];
  const delivered = (caseId: string) => eventually(async () => {
    const view = (await caseView(gateway, caseId)).body;
    expect(view.deliveries.map((d: { status: string }) => d.status)).toEqual(targets.map(() => 'delivered'));
    return view;
  }, 20_000);
  const received = (url: string) => legacy.received.filter((r) => r.url === url).at(-1)!;
  /** The seal verifies with the independent SM2 implementation, covers the bytes given, and lists the materials' SM3 digests. */
  const checkSeal = (header: unknown, payload: Buffer, kinds: Array<[string, Buffer]>) => {
    const seal = parseSealHeader(String(header)) as Seal;
    const [active] = gateway.seals.keys.list();
    expect(independent.doVerifySignature(Array.from(signedMessage(seal)), Buffer.from(seal.signature, 'base64').toString('hex'), active!.publicKeyHex as string, { der: true, hash: true })).toBe(true);
    expect(seal.digest).toBe(independentSm3(Array.from(payload)));
    expect(seal.materials).toEqual(kinds.map(([kind, bytes]) => ({ kind, digest: independentSm3(Array.from(bytes)) })));
  };

  it('then each system gets them its way, the bytes intact, fetched once for the whole fan-out, each seal listing them', async () => {
    const before = { drawing: store.store.fetches('2026/drawing.pdf'), idCard: store.store.fetches('2026/id-card.png') };
    const c = sampleCase({ targets, materials: materials() });
    expect((await submit(gateway, c)).status).toBe(202);
    const view = await delivered(c.caseId as string);

    // Fetched once for five deliveries (four of which take the bytes), with the store's own credentials.
    expect(store.store.fetches('2026/drawing.pdf') - before.drawing).toBe(1);
    expect(store.store.fetches('2026/id-card.png') - before.idCard).toBe(1);
    expect(store.store.requests.every((r) => r.authorization === 'Bearer store-token-for-tests')).toBe(true);

    // reference: the URIs as sent, in the mapping; nothing else.
    expect(received('/ref').json).toEqual({ bizNo: c.caseId, files: [{ name: '竣工测绘图', url: 'store://intake/2026/drawing.pdf' }, { name: '身份证', url: `${store.url}/2026/id-card.png` }] });

    // inline REST: base64 at the field, with what each is.
    const inline = received('/inline');
    const attachments = (inline.json as { data: { attachments: Array<Record<string, unknown>> } }).data.attachments;
    expect(attachments.map(({ content: _c, ...rest }) => rest)).toEqual([
      { kind: 'DRAWING', name: '竣工测绘图', mime: 'application/pdf', sha256: sha256(drawing), size: drawing.length },
      { kind: 'ID_CARD', name: '身份证', mime: 'image/png', sha256: sha256(idCard), size: idCard.length },
    ]);
    expect(Buffer.from(String(attachments[0]!.content), 'base64').equals(drawing)).toBe(true);
    expect(Buffer.from(String(attachments[1]!.content), 'base64').equals(idCard)).toBe(true);
    checkSeal(inline.headers['x-ow-seal'], inline.bytes, [['DRAWING', drawing], ['ID_CARD', idCard]]);

    // attach REST: multipart/form-data, part body = the mapped JSON referring to part DRAWING; only the kinds it takes.
    const attach = received('/attach');
    const parts = parseMultipart(attach.bytes, String(attach.headers['content-type']));
    expect(String(attach.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(attach.headers['content-length'])).toBe(attach.bytes.length);
    expect(parts.map((p) => /name="([^"]+)"/.exec(p.headers['content-disposition']!)![1])).toEqual(['body', 'DRAWING']);
    const json = JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ bizNo: c.caseId, materials: [{ kind: 'DRAWING', name: '竣工测绘图', mime: 'application/pdf', sha256: sha256(drawing), size: drawing.length, part: 'DRAWING' }] });
    expect(parts[1]!.body.equals(drawing)).toBe(true);
    expect(parts[1]!.headers).toMatchObject({ 'content-type': 'application/pdf', 'content-digest': `sha-256=:${Buffer.from(sha256(drawing), 'hex').toString('base64')}:` });
    expect(parts[1]!.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('竣工测绘图')}`);
    checkSeal(attach.headers['x-ow-seal'], parts[0]!.body, [['DRAWING', drawing]]);

    // inline XML in GBK: base64 elements under the field.
    const xml = iconv.decode(received('/xml').bytes, 'gbk');
    const contents = [...xml.matchAll(/<content>([^<]+)<\/content>/g)].map((m) => Buffer.from(m[1]!, 'base64'));
    expect(contents.map((b) => sha256(b))).toEqual([sha256(drawing), sha256(idCard)]);
    expect(xml).toContain('<kind>DRAWING</kind>');
    checkSeal(received('/xml').headers['x-ow-seal'], received('/xml').bytes, [['DRAWING', drawing], ['ID_CARD', idCard]]);

    // SOAP MTOM/XOP: the envelope refers to each part by cid; the parts carry the bytes.
    const soap = mtom.received.at(-1)!;
    expect(String(soap.headers['content-type'])).toMatch(/^multipart\/related; type="application\/xop\+xml"; start="<[^>]+>"; start-info="text\/xml"; boundary=/);
    expect(soap.headers.soapaction).toBe(`"${NS}/SubmitCase"`);
    const mime = parseMultipart(soap.bytes, String(soap.headers['content-type']));
    expect(mime[0]!.headers['content-type']).toMatch(/^application\/xop\+xml; charset=utf-8; type="text\/xml"/i);
    const envelope = mime[0]!.body.toString('utf8');
    const hrefs = [...envelope.matchAll(/<xop:Include xmlns:xop="http:\/\/www\.w3\.org\/2004\/08\/xop\/include" href="cid:([^"]+)"\/>/g)].map((m) => decodeURIComponent(m[1]!));
    expect(hrefs).toHaveLength(2);
    const byId = new Map<string, Part>(mime.slice(1).map((p) => [p.headers['content-id']!.replace(/^<|>$/g, ''), p]));
    expect(byId.get(hrefs[0]!)!.body.equals(drawing)).toBe(true);
    expect(byId.get(hrefs[1]!)!.body.equals(idCard)).toBe(true);
    expect(byId.get(hrefs[0]!)!.headers['content-transfer-encoding']).toBe('binary');
    checkSeal(soap.headers['x-ow-seal'], mime[0]!.body, [['DRAWING', drawing], ['ID_CARD', idCard]]);

    // The case view: the materials (kind, name, size, digest — never the URI) and how each delivery took them.
    expect(view.materials).toEqual([
      { kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), mime: 'application/pdf', fetched: true },
      { kind: 'ID_CARD', name: '身份证', size: idCard.length, sha256: sha256(idCard), mime: 'image/png', fetched: true },
    ]);
    expect(JSON.stringify(view)).not.toContain('store://');
    const handover = Object.fromEntries(view.deliveries.map((d: { systemId: string; handover: unknown }) => [d.systemId, d.handover]));
    expect(handover['city-ref']).toEqual({ mode: 'reference', materials: [{ kind: 'DRAWING', size: drawing.length, sha256: sha256(drawing) }, { kind: 'ID_CARD', sha256: sha256(idCard) }] });
    expect(handover['city-attach']).toEqual({ mode: 'attach', materials: [{ kind: 'DRAWING', size: drawing.length, sha256: sha256(drawing) }] });
    expect(handover['prov-mtom']).toEqual({ mode: 'attach', materials: [{ kind: 'DRAWING', size: drawing.length, sha256: sha256(drawing) }, { kind: 'ID_CARD', size: idCard.length, sha256: sha256(idCard) }] });
    expect(view.deliveries.find((d: { systemId: string }) => d.systemId === 'city-xml').history.map((h: { event: string }) => h.event)).toContain('materials');

    // Kept once, content-addressed, under the data folder.
    expect(fs.readdirSync(path.join(dataDir, 'materials', 'cases', c.caseId as string)).sort()).toEqual([sha256(drawing), sha256(idCard)].sort());
  });

  it('then a material whose bytes are not the ones the case gave is rejected as altered and audited, and nothing is sent', async () => {
    const tampered = materialBytes(4000);
    store.store.put('2026/tampered.pdf', { bytes: tampered });
    store.store.tamper('2026/tampered.pdf');
    const sent = legacy.received.length;
    const c = sampleCase({ targets: ['city-inline'], materials: [{ name: '证明', kind: 'CERT', uri: 'store://intake/2026/tampered.pdf', sha256: sha256(tampered) }] });
    await submit(gateway, c);
    const d = await eventually(async () => {
      const delivery = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(delivery.status).toBe('rejected');
      return delivery;
    });
    expect(d.lastError).toMatch(/^material altered: materials\[0\] \(CERT\) has sha256 [0-9a-f]{12}…, not the [0-9a-f]{12}… the case gave$/);
    expect(d.attempts).toBe(1);
    expect(legacy.received.length).toBe(sent);
    const trail = (await admin(gateway, 'GET', `/audit?action=material.altered&caseId=${String(c.caseId)}`)).body.items;
    expect(trail).toEqual([expect.objectContaining({ who: 'gateway', action: 'material.altered', target: `city-inline.${String(c.caseId)}`, detail: d.lastError })]);
    // A size that does not match is altered too.
    const sized = sampleCase({ targets: ['city-inline'], materials: [{ name: '图', kind: 'DRAWING', uri: 'store://intake/2026/drawing.pdf', size: drawing.length + 1 }] });
    await submit(gateway, sized);
    await eventually(async () => expect((await caseView(gateway, sized.caseId as string)).body.deliveries[0].lastError).toMatch(/^material altered: materials\[0\] \(DRAWING\) is \d+ bytes, not the \d+ the case gave$/));
  });

  it('then a store outage is retried like any retryable failure, and the material delivered once the store is back', async () => {
    const bytes = materialBytes(20_000);
    store.store.put('2026/outage.pdf', { bytes });
    store.store.failNext(2);
    const c = sampleCase({ targets: ['city-attach'], materials: [{ name: '图', kind: 'DRAWING', uri: 'store://intake/2026/outage.pdf', sha256: sha256(bytes) }] });
    await submit(gateway, c);
    const d = await eventually(async () => {
      const delivery = (await caseView(gateway, c.caseId as string)).body.deliveries[0];
      expect(delivery.status).toBe('delivered');
      return delivery;
    });
    expect(d.attempts).toBe(3);
    expect(d.history.filter((h: { event: string }) => h.event === 'retry_scheduled').map((h: { detail: string }) => h.detail)).toEqual([
      'materials[0] (DRAWING): material store intake answered HTTP 503',
      'materials[0] (DRAWING): material store intake answered HTTP 503',
    ]);
    const parts = parseMultipart(received('/attach').bytes, String(received('/attach').headers['content-type']));
    expect(parts[1]!.body.equals(bytes)).toBe(true);
    // The store's outage is not the system's: its circuit (opened by one failure) stayed closed, so the retries went on at once.
    expect((await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-attach').circuit).toEqual({ state: 'closed', failures: 0 });
  });

  it('then a redirect within the store is followed, and one off the store is not (the delivery is refused)', async () => {
    const bytes = materialBytes(3000);
    store.store.put('2026/moved-here.pdf', { bytes });
    store.store.redirect('2026/old.pdf', `${store.url}/2026/moved-here.pdf`);
    store.store.redirect('2026/away.pdf', `${legacy.url}/secret`);
    const inside = sampleCase({ targets: ['city-inline'], materials: [{ name: '图', kind: 'DRAWING', uri: 'store://intake/2026/old.pdf', sha256: sha256(bytes) }] });
    const away = sampleCase({ targets: ['city-inline'], materials: [{ name: '图', kind: 'DRAWING', uri: 'store://intake/2026/away.pdf' }] });
    const sentBefore = legacy.received.filter((r) => r.url === '/secret').length;
    await submit(gateway, inside);
    await submit(gateway, away);
    await eventually(async () => expect((await caseView(gateway, inside.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    const refused = await eventually(async () => {
      const delivery = (await caseView(gateway, away.caseId as string)).body.deliveries[0];
      expect(delivery.status).toBe('rejected');
      return delivery;
    });
    expect(refused.lastError).toBe('materials[0] (DRAWING): material store intake redirected outside the store; not followed');
    expect(legacy.received.filter((r) => r.url === '/secret').length).toBe(sentBefore);
  });
  it('then /metrics counts each store fetch by outcome (fetched, failed, altered) and the bytes fetched, once per case however many systems take it', async () => {
    const at = async () => {
      const families = await scrape(gateway.url);
      return {
        fetched: sample(families, 'ow_material_fetches_total', { storeId: 'intake', outcome: 'fetched' }),
        failed: sample(families, 'ow_material_fetches_total', { storeId: 'intake', outcome: 'failed' }),
        altered: sample(families, 'ow_material_fetches_total', { storeId: 'intake', outcome: 'altered' }),
        bytes: sample(families, 'ow_material_fetched_bytes_total', { storeId: 'intake' }),
      };
    };
    const before = await at();
    const bytes = materialBytes(12_345);
    store.store.put('2026/metrics.pdf', { bytes });
    store.store.failNext(1);
    // Three systems take it (inline, attach, MTOM): one failed fetch, then one fetch for all three.
    const c = sampleCase({ targets: ['city-inline', 'city-attach', 'prov-mtom'], materials: [{ name: '图', kind: 'DRAWING', uri: 'store://intake/2026/metrics.pdf', sha256: sha256(bytes) }] });
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered', 'delivered']), 20_000);
    const tampered = materialBytes(2_000);
    store.store.put('2026/metrics-tampered.pdf', { bytes: tampered });
    store.store.tamper('2026/metrics-tampered.pdf');
    const t = sampleCase({ targets: ['city-inline'], materials: [{ name: '证明', kind: 'CERT', uri: 'store://intake/2026/metrics-tampered.pdf', sha256: sha256(tampered) }] });
    await submit(gateway, t);
    await eventually(async () => expect((await caseView(gateway, t.caseId as string)).body.deliveries[0].status).toBe('rejected'));
    expect(await at()).toEqual({ fetched: before.fetched + 1, failed: before.failed + 1, altered: before.altered + 1, bytes: before.bytes + bytes.length });
  });
});
