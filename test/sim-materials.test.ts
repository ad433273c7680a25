/**
 * The shipped systems that take materials, each in its own way, delivered by a running gateway to
 * the simulators with the shipped files: city-real-estate-registration inline (base64 in GB18030
 * XML), prov-natural-resources attached as SOAP MTOM/XOP, prov-housing-construction attached as
 * multipart/form-data. Each simulator reads what arrives with a multipart reader (formidable) or
 * decodes the base64, and checks every material's sha256 and size against what its part and the
 * body say; bytes that do not match are refused as an unreadable submission would be.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import YAML from 'yaml';
import type { MaterialPart } from '../adapters/adapter';
import { formData, mtomPackage, partContentId } from '../adapters/materials';
import { sampleMaterial } from '../sim/materials';
import type { World } from '../sim/shared-data-world';
import { caseView, eventually, sampleCase, submit } from './support/harness';
import { world } from './shared-data/support';

const shipped = (id: string) => YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'config', 'systems', `${id}.yaml`), 'utf8')) as Record<string, unknown> & { id: string };
const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** A material part as an adapter hands it over, from bytes in memory, saying `said` of itself. */
function part(kind: string, bytes: Buffer, said: Partial<{ sha256: string; size: number }> = {}): MaterialPart {
  return { kind, name: `${kind}.pdf`, mime: 'application/pdf', size: said.size ?? bytes.length, sha256: said.sha256 ?? sha256(bytes), open: () => Readable.from([bytes]) };
}

async function streamed(body: { stream: Readable }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the shipped systems that take materials, against their simulators', () => {
  let w: World;
  const drawing = crypto.randomBytes(1_500_000);

  beforeAll(async () => {
    w = await world({
      deliver: true,
      routes: {
        routes: [
          { itemCode: '330800-BDC-*', targets: ['city-real-estate-registration', 'prov-natural-resources'] },
          { itemCode: '330000-JS-*', targets: ['prov-housing-construction'] },
        ],
        unrouted: 'reject',
      },
      extraSystems: [shipped('prov-natural-resources'), shipped('prov-housing-construction')],
    });
    w.sims!.materials.put('2026/QZ-BDC/jgch.pdf', { bytes: drawing, mime: 'application/pdf' });
  }, 30_000);
  afterAll(async () => {
    await w?.stop();
  });

  const materials = () => [
    { name: '竣工测绘图', kind: 'DRAWING', uri: 'store://intake/2026/QZ-BDC/jgch.pdf', sha256: sha256(drawing), size: drawing.length, mime: 'application/pdf' },
    { name: '居民身份证', kind: 'ID_CARD', uri: 'store://intake/id/330802199001011234.pdf', sha256: sampleMaterial('id/330802199001011234.pdf').sha256 },
    { name: '房屋所有权证', kind: 'PROPERTY_CERT', uri: 'store://intake/doc/fczs-0001.pdf' },
  ];
  const lastRequest = (systemId: string, caseId: string) => w.sims!.requests(systemId).filter((r) => r.idempotencyKey === `${caseId}:${systemId}`).at(-1);

  it('then a 不动产登记 case goes inline to the city registry and as MTOM attachments to the province, every material checked where it arrives', async () => {
    const c = sampleCase({ itemCode: '330800-BDC-001', itemName: '不动产转移登记', form: { djlx: '200', bdczl: '衢州市柯城区荷花三路12幢' }, materials: materials() });
    const caseId = c.caseId as string;
    expect((await submit(w, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(w, caseId)).body.deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered']), 20_000);

    // The city registry takes the documents inline (its kinds), the drawing not.
    const city = lastRequest('city-real-estate-registration', caseId)!;
    expect(city.outcome).toBe('accepted');
    expect(city.materials).toEqual([
      { kind: 'ID_CARD', name: '居民身份证', size: sampleMaterial('id/330802199001011234.pdf').size, sha256: sampleMaterial('id/330802199001011234.pdf').sha256, via: 'inline', sealed: false },
      { kind: 'PROPERTY_CERT', name: '房屋所有权证', size: sampleMaterial('doc/fczs-0001.pdf').size, sha256: sampleMaterial('doc/fczs-0001.pdf').sha256, via: 'inline', sealed: false },
    ]);
    // The province takes the drawing as an MTOM part, 1.5 MB, checked against its Content-Digest and the envelope.
    const province = lastRequest('prov-natural-resources', caseId)!;
    expect(province.outcome).toBe('accepted');
    expect(province.headers['content-type']).toMatch(/^multipart\/related; type="application\/xop\+xml"/);
    expect(province.materials).toEqual([{ kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), via: 'mtom', sealed: false }]);

    const view = (await caseView(w, caseId)).body;
    expect(view.deliveries.map((d: { handover: { mode: string } }) => d.handover.mode)).toEqual(['inline', 'attach']);
  });

  it('then a 建筑施工许可 case goes to the province as multipart/form-data, the drawing checked where it arrives', async () => {
    const c = sampleCase({ itemCode: '330000-JS-001', itemName: '建筑工程施工许可', form: { xmmc: '衢州市示例安置房项目' }, materials: materials() });
    expect((await submit(w, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(w, c.caseId as string)).body.deliveries[0].status).toBe('delivered'), 20_000);
    const received = lastRequest('prov-housing-construction', c.caseId as string)!;
    expect(received.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(received.materials).toEqual([{ kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), via: 'form-data', sealed: false }]);
    // The JSON part is what the mapping built, the drawing listed at fj with its part.
    expect(received.body).toMatchObject({ sbh: c.caseId, fj: [{ kind: 'DRAWING', part: 'DRAWING', sha256: sha256(drawing), size: drawing.length }] });
  });

  describe('when the bytes are not what they say', () => {
    const bytes = crypto.randomBytes(20_000);
    const other = crypto.randomBytes(20_000);
    const post = (url: string, headers: Record<string, string>, body: Buffer) => fetch(url, { method: 'POST', headers: { 'Idempotency-Key': `QZ-TAMPER-${crypto.randomUUID()}:x`, ...headers }, body });

    it('then multipart/form-data whose part is not its Content-Digest, or not what the body lists, is refused 400 in the system’s dialect', async () => {
      const before = w.sims!.stats()['prov-housing-construction']!.rejected;
      const json = (p: MaterialPart) => Buffer.from(JSON.stringify({ sbh: 'QZ-TAMPER-1', fj: [{ kind: p.kind, name: p.name, mime: p.mime, sha256: p.sha256, size: p.size, part: p.kind }] }));
      const url = `${w.simUrl}/sim/prov-housing-construction/cases`;
      // The part's Content-Digest says other bytes.
      const lying = part('DRAWING', bytes, { sha256: sha256(other) });
      const wrongDigest = formData(json(lying), [{ ...lying, open: () => Readable.from([bytes]) }]);
      const refused = await post(url, { 'Content-Type': wrongDigest.contentType }, await streamed(wrongDigest));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { msg: string }).msg).toMatch(/part DRAWING: its bytes do not match its Content-Digest/);
      // A part that is right, but the body lists another size.
      const honest = part('DRAWING', bytes);
      const wrongSize = formData(Buffer.from(JSON.stringify({ sbh: 'QZ-TAMPER-2', fj: [{ kind: 'DRAWING', name: 'x', sha256: sha256(bytes), size: bytes.length + 1, part: 'DRAWING' }] })), [honest]);
      const refusedSize = await post(url, { 'Content-Type': wrongSize.contentType }, await streamed(wrongSize));
      expect(refusedSize.status).toBe(400);
      expect(((await refusedSize.json()) as { msg: string }).msg).toMatch(/20000 bytes received, 20001 declared/);
      expect(w.sims!.stats()['prov-housing-construction']!.rejected).toBe(before + 2);
      // The same, honest: accepted.
      const fine = formData(json(honest), [honest]);
      expect((await post(url, { 'Content-Type': fine.contentType }, await streamed(fine))).status).toBe(200);
    });

    it('then an MTOM part that is not what the envelope says is a SOAP Client fault', async () => {
      const envelope = (p: MaterialPart, cid: string) =>
        iconv.encode(
          `<?xml version="1.0" encoding="GB18030"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><tns:bdcSqHj xmlns:tns="http://bdc.zrzyt.zj.gov.cn/ws/hj"><tns:bizNo>QZ-TAMPER-3</tns:bizNo><tns:sxbm>330800-BDC-001</tns:sxbm><tns:sxmc>不动产登记</tns:sxmc><tns:sqrmc>张三</tns:sqrmc><tns:zjh>330802199001011234</tns:zjh><tns:qdlx>1</tns:qdlx><tns:tjsj>2026-11-28 09:30:00</tns:tjsj>` +
            `<tns:fj><tns:kind>${p.kind}</tns:kind><tns:name>图</tns:name><tns:mime>application/pdf</tns:mime><tns:sha256>${p.sha256}</tns:sha256><tns:size>${p.size}</tns:size><tns:content><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:${encodeURIComponent(cid)}"/></tns:content></tns:fj></tns:bdcSqHj></soap:Body></soap:Envelope>`,
          'gb18030',
        );
      const url = `${w.simUrl}/sim/prov-natural-resources/soap`;
      const send = async (said: MaterialPart) => {
        // The part carries the bytes (its Content-Digest true to them); the envelope says `said`.
        const attached = part('DRAWING', bytes);
        const pkg = mtomPackage(envelope(said, partContentId(0, attached)), 'text/xml', 'GB18030', [attached], 'http://bdc.zrzyt.zj.gov.cn/ws/hj/bdcSqHj');
        return post(url, { 'Content-Type': pkg.contentType, SOAPAction: '"http://bdc.zrzyt.zj.gov.cn/ws/hj/bdcSqHj"' }, await streamed(pkg));
      };
      const refused = await send(part('DRAWING', bytes, { sha256: sha256(other) }));
      expect(refused.status).toBe(500);
      const fault = await refused.text();
      expect(fault).toContain('soap:Client');
      expect(fault).toMatch(/sha256 of the bytes received is not the one declared/);
      const fine = await send(part('DRAWING', bytes));
      expect(fine.status).toBe(200);
      expect(w.sims!.requests('prov-natural-resources').at(-1)!.materials).toEqual([{ kind: 'DRAWING', name: '图', size: bytes.length, sha256: sha256(bytes), via: 'mtom', sealed: false }]);
    });

    it('then inline base64 that is not the sha256 beside it is refused 400', async () => {
      const xml = (said: string) =>
        iconv.encode(`<?xml version="1.0" encoding="GB18030"?><BdcSqxx><bizNo>QZ-TAMPER-4</bizNo><fj><kind>ID_CARD</kind><name>身份证</name><mime>application/pdf</mime><sha256>${said}</sha256><size>${bytes.length}</size><content>${bytes.toString('base64')}</content></fj></BdcSqxx>`, 'gb18030');
      const url = `${w.simUrl}/sim/city-real-estate-registration/xml`;
      const refused = await post(url, { 'Content-Type': 'text/xml; charset=GB18030' }, xml(sha256(other)));
      expect(refused.status).toBe(400);
      expect(iconv.decode(Buffer.from(await refused.arrayBuffer()), 'gb18030')).toContain('sha256 of the bytes received is not the one declared');
      expect((await post(url, { 'Content-Type': 'text/xml; charset=GB18030' }, xml(sha256(bytes)))).status).toBe(200);
    });
  });
});
