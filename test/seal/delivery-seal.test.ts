/**
 * CONTRACT §8: every delivery to a system with `seal: true` carries `X-OW-Seal` over the exact body
 * bytes sent — REST JSON, XML in GBK, a SOAP envelope — verified here by the independent SM2
 * implementation (sm-crypto) against the bytes the legacy system received.
 */
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import { parseSealHeader, signedMessage, type Seal } from '../../src/seal/seal';
import { caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
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
});
