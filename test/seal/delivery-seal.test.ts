/**
 * Every delivery to a system with `seal: true` carries `X-OW-Seal` over the exact body
 * bytes sent — REST JSON, XML in GBK, a SOAP envelope — verified here by the independent SM2
 * implementation (sm-crypto) against the bytes the legacy system received.
 */
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import { parseSealHeader, signedMessage, type Seal } from '../../src/seal/seal';
import { admin, adminWithHeaders, caseView, eventually, legacyServer, OPERATOR_TOKEN, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { addWsdls, caseServiceWsdl, soapPeer, soapSystem, type SoapPeer } from '../soap/support';
import { xmlSystem } from '../xml/support';
import { tempDir } from './helpers';

describe('when cases are delivered to sealed systems', () => {
  let legacy: LegacyServer;
  let peer: SoapPeer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      if (req.url.startsWith('/xml')) {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=GBK' });
        res.end(iconv.encode(`<?xml version="1.0" encoding="GBK"?><Response><code>0</code><msg>成功</msg><data><slbh>SL-X${n}</slbh></data></Response>`, 'gbk'));
        return;
      }
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    peer = await soapPeer({ version: '1.1', submitCase: (args) => ({ code: '0', msg: '成功', slbh: `SL-${String(args.bizNo)}` }) });
    const dir = writeConfig(
      [
        restSystem('city-rest', `${legacy.url}/rest`),
        restSystem('city-unsealed', `${legacy.url}/plain`, { seal: false }),
        xmlSystem('city-xml', `${legacy.url}/xml`, { charset: 'gbk' }),
        soapSystem('prov-soap', peer.url),
      ],
      { routes: [{ itemCode: '*', targets: ['city-rest', 'city-unsealed', 'city-xml', 'prov-soap'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir, { dataDir: tempDir('delivery-seal') });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await peer.close();
  });

  it('then each sealed body arrives with a seal that sm-crypto verifies over the received bytes, naming the case, system and item', async () => {
    const c = sampleCase({ applicant: { ...sampleCase().applicant as object, name: '王𬇕' } });
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries.every((d: { status: string }) => d.status === 'delivered')).toBe(true));
    const [key] = gateway.seals.keys.list();
    const received = [
      { systemId: 'city-rest', bytes: legacy.received.find((r) => r.url === '/rest')!.bytes, header: legacy.received.find((r) => r.url === '/rest')!.headers['x-ow-seal'] },
      { systemId: 'city-xml', bytes: legacy.received.find((r) => r.url === '/xml')!.bytes, header: legacy.received.find((r) => r.url === '/xml')!.headers['x-ow-seal'] },
      { systemId: 'prov-soap', bytes: peer.received.at(-1)!.raw, header: peer.received.at(-1)!.headers['x-ow-seal'] },
    ];
    for (const { systemId, bytes, header } of received) {
      const seal = parseSealHeader(String(header)) as Seal;
      expect(seal).toMatchObject({ alg: 'SM2-SM3', caseId: c.caseId, systemId, purpose: `办理${String(c.itemName)}（${String(c.itemCode)}）`, origin: '衢州市一窗受理云平台' });
      expect(seal.digest).toBe(independentSm3(Array.from(bytes)));
      const signatureHex = Buffer.from(seal.signature, 'base64').toString('hex');
      expect(independent.doVerifySignature(Array.from(signedMessage(seal)), signatureHex, key!.publicKeyHex as string, { der: true, hash: true })).toBe(true);
      // One byte more or less and the digest no longer matches.
      expect(independentSm3(Array.from(Buffer.concat([bytes, Buffer.from(' ')])))).not.toBe(seal.digest);
    }
    // The GBK body was sealed as GBK bytes, not as its UTF-8 text.
    expect(iconv.decode(received[1]!.bytes, 'gbk')).toContain('王&#x2C1D5;');
    expect(legacy.received.find((r) => r.url === '/plain')!.headers['x-ow-seal']).toBeUndefined();
  });

  const asOperator = (path: string, body: unknown) => adminWithHeaders(gateway, 'POST', path, body, { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'X-OW-Operator': 'grudge' });
  const verify = async (seal: unknown, payload: Buffer) =>
    (await (await fetch(`${gateway.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seal, payloadBase64: payload.toString('base64') }) })).json()) as Record<string, unknown>;

  it("then a dry run's X-OW-Seal is an unsigned preview that verify answers is never valid, and the dry run is audited (who, system, case, proposed)", async () => {
    // A made-up case and a proposed body that builds any JSON: what an operator would forge a record with.
    const made = sampleCase({ applicant: { kind: 'person', name: '王五', idType: 'ID_CARD', idNumber: 'none' } });
    const current = (await admin(gateway, 'GET', '/systems/city-rest')).body;
    const forged = { 婚姻状况: '已婚', 配偶: '赵六', 登记机关: '衢州市民政局' };
    const dry = await asOperator('/systems/city-rest/dry-run', { case: made, system: { ...current.system, request: { body: JSON.stringify(forged) } } });
    expect(dry.status).toBe(200);
    expect(JSON.parse(dry.body.request.body)).toEqual(forged);
    const seal = parseSealHeader(String(dry.body.request.headers['X-OW-Seal'])) as Seal;
    // It says what a delivery's seal would: origin, purpose, case, system, the digest of the bytes.
    expect(seal).toMatchObject({ origin: '衢州市一窗受理云平台', purpose: `办理${String(made.itemName)}（${String(made.itemCode)}）`, caseId: made.caseId, systemId: 'city-rest', keyId: 'preview:dry-run', signature: '' });
    const bytes = Buffer.from(dry.body.request.body as string, 'utf8');
    expect(seal.digest).toBe(independentSm3(Array.from(bytes)));
    expect(dry.body.sealPreview).toMatch(/preview.*not signed/);
    expect(await verify(seal, bytes)).toMatchObject({ valid: false, keyId: 'preview:dry-run', reason: expect.stringMatching(/^preview: a dry run's seal is never valid/) });
    // Nor does it verify once given a real key's id: there is no signature to check.
    const [key] = gateway.seals.keys.list();
    expect(await verify({ ...seal, keyId: key!.keyId }, bytes)).toMatchObject({ valid: false, reason: expect.stringMatching(/^bad_signature/) });
    expect(gateway.seals.keys.list().map((k) => k.keyId)).not.toContain('preview:dry-run');

    const stored = sampleCase();
    await submit(gateway, stored);
    await asOperator('/systems/city-rest/dry-run', { caseId: stored.caseId });
    const trail = (await admin(gateway, 'GET', '/audit?action=system.dry_run')).body.items as Array<Record<string, string>>;
    expect(trail.slice(0, 2)).toEqual([
      expect.objectContaining({ who: expect.stringMatching(/^grudge \(token /), role: 'operator', target: `city-rest.${String(stored.caseId)}`, detail: expect.stringMatching(/stored.*version 1/) }),
      expect.objectContaining({ who: expect.stringMatching(/^grudge \(token /), role: 'operator', target: `city-rest.${String(made.caseId)}`, detail: expect.stringMatching(/given.*a proposed configuration/) }),
    ]);
    // Found by the case, as the rest of its trail is.
    expect((await admin(gateway, 'GET', `/audit?caseId=${String(stored.caseId)}`)).body.items).toEqual([expect.objectContaining({ action: 'system.dry_run' })]);
  });

  it('then below admin a dry run maps a masked copy of the case, so no expression spells out an ID or phone number, and its field digests are salted', async () => {
    const stored = sampleCase();
    await submit(gateway, stored);
    const current = (await admin(gateway, 'GET', '/systems/city-rest')).body;
    const spelled = { system: { ...current.system, request: { body: '{"id": $join($split(applicant.idNumber, ""), " "), "tel": $join($split(applicant.phone, ""), "-"), "sfzh": applicant.idNumber}' } } };
    const dry = await asOperator('/systems/city-rest/dry-run', { caseId: stored.caseId, ...spelled });
    expect(dry.status).toBe(200);
    const body = JSON.parse(dry.body.request.body as string) as Record<string, string>;
    expect(body.id.replace(/ /g, '')).toBe('330*************34');
    expect(body.tel.replace(/-/g, '')).toBe('138******00');
    expect(JSON.stringify(dry.body)).not.toMatch(/1\D?9\D?9\D?0\D?0\D?1\D?0\D?1/); // the birth date inside the ID number
    expect(JSON.stringify(dry.body)).not.toMatch(/0\D?0\D?0\D?0\D?0\D?0\D?0\D?0/); // the phone number's middle

    // An admin may map the case as stored; its seal's field digests are salted afresh each time.
    const seals = [];
    for (let i = 0; i < 2; i++) {
      const shown = await admin(gateway, 'POST', '/systems/city-rest/dry-run', { caseId: stored.caseId });
      seals.push(parseSealHeader(String(shown.body.request.headers['X-OW-Seal'])) as Seal);
    }
    const plain = independentSm3(Array.from(Buffer.from(JSON.stringify('330802199001011234'))));
    for (const seal of seals) {
      const salt = Buffer.from(seal.salt as string, 'base64');
      expect(salt).toHaveLength(16);
      expect(seal.fieldDigests?.['/sfzh']).not.toBe(plain);
      expect(seal.fieldDigests?.['/sfzh']).toBe(independentSm3(Array.from(Buffer.concat([salt, Buffer.from(JSON.stringify('330802199001011234'))]))));
    }
    expect(seals[0]!.salt).not.toBe(seals[1]!.salt);
  });
});
