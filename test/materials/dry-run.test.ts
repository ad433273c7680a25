/**
 * A dry run shows the materials a system takes and how each would be handed over — kind, name,
 * size, sha256 — and never their bytes; it fetches nothing: a material no delivery has fetched yet
 * is "not fetched yet", one a delivery of the case fetched shows its size and digest as fetched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunningGateway } from '../../src/gateway';
import { startMaterialStore } from '../../sim/materials';
import { admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { addWsdls, soapSystem } from '../soap/support';
import { tempDir } from '../seal/helpers';
import { materialBytes, sha256 } from './support';

describe('when a system with materials is dry-run', () => {
  let store: Awaited<ReturnType<typeof startMaterialStore>>;
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  const drawing = materialBytes(200_000);
  const idCard = materialBytes(7_000);

  beforeAll(async () => {
    store = await startMaterialStore();
    store.store.put('2026/dry/drawing.pdf', { bytes: drawing, mime: 'application/pdf' });
    store.store.put('2026/dry/id.png', { bytes: idCard, mime: 'image/png' });
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', data: { slbh: `SL${n}` } }));
    const dir = writeConfig(
      [
        restSystem('city-ref', `${legacy.url}/ref`, { request: { body: '{"bizNo": caseId, "files": materials.{"name": name, "url": uri}}' } }),
        restSystem('city-inline', `${legacy.url}/inline`, { materials: { mode: 'inline', field: '/fj' } }),
        restSystem('city-attach', `${legacy.url}/attach`, { materials: { mode: 'attach', kinds: ['DRAWING'] } }),
        soapSystem('prov-soap', `${legacy.url}/soap`, {
          soap: { wsdl: './wsdl/bdc.wsdl', service: 'BdcdjHjService', port: 'BdcdjHjPort', operation: 'bdcSqHj', version: '1.1' },
          request: { body: '{"bizNo": caseId}' },
          materials: { mode: 'attach', field: '/fj' },
        }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-inline'] }] },
      { materials: { stores: { intake: { baseUrl: `${store.url}/` } } } },
    );
    addWsdls(dir, { 'bdc.wsdl': fs.readFileSync(path.join(__dirname, '..', '..', 'config', 'wsdl', 'prov-natural-resources.wsdl'), 'utf8') });
    gateway = await startTestGateway(dir, { dataDir: tempDir('materials-dry') });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await store.close();
  });

  const materials = () => [
    { name: '竣工测绘图', kind: 'DRAWING', uri: 'store://intake/2026/dry/drawing.pdf', sha256: sha256(drawing), size: drawing.length, mime: 'application/pdf' },
    { name: '身份证', kind: 'ID_CARD', uri: 'store://intake/2026/dry/id.png' },
  ];
  const fetches = () => store.store.fetches('2026/dry/drawing.pdf') + store.store.fetches('2026/dry/id.png');
  /** Neither the bytes (raw or base64, whole or any 48-byte stretch of them) nor a URI is in the answer. */
  const noBytes = (answer: unknown) => {
    const text = JSON.stringify(answer);
    for (const bytes of [drawing, idCard]) {
      for (const at of [0, 1000, bytes.length - 48]) expect(text).not.toContain(bytes.subarray(at, at + 48).toString('base64'));
      expect(text).not.toContain(bytes.subarray(0, 48).toString('latin1'));
    }
    expect(text).not.toContain('store://');
  };

  it('then a given case lists each material it would take, how, and "not fetched yet"; nothing is fetched', async () => {
    const before = fetches();
    const attach = await admin(gateway, 'POST', '/systems/city-attach/dry-run', { case: sampleCase({ materials: materials() }) });
    expect(attach.status).toBe(200);
    expect(attach.body.materials).toEqual([{ kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), mime: 'application/pdf', handover: 'form-data', field: '/materials', state: 'not_fetched_yet' }]);
    const inline = await admin(gateway, 'POST', '/systems/city-inline/dry-run', { case: sampleCase({ materials: materials() }) });
    expect(inline.body.materials).toEqual([
      { kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), mime: 'application/pdf', handover: 'base64', field: '/fj', state: 'not_fetched_yet' },
      { kind: 'ID_CARD', name: '身份证', handover: 'base64', field: '/fj', state: 'not_fetched_yet' },
    ]);
    const soap = await admin(gateway, 'POST', '/systems/prov-soap/dry-run', { case: sampleCase({ materials: materials() }) });
    expect(soap.body.materials.map((m: { handover: string }) => m.handover)).toEqual(['mtom', 'mtom']);
    // By reference: the URI goes in the mapped body (which the dry run shows as the request), nothing is ever fetched.
    const reference = await admin(gateway, 'POST', '/systems/city-ref/dry-run', { case: sampleCase({ materials: materials() }) });
    expect(reference.body.materials.map((m: { handover: string; state: string }) => [m.handover, m.state])).toEqual([
      ['uri', 'by_reference'],
      ['uri', 'by_reference'],
    ]);
    expect(fetches()).toBe(before);
    for (const answer of [attach, inline, soap]) noBytes(answer.body);
  });

  it('then a stored case whose delivery fetched them shows their sizes and digests as fetched, still without the bytes, and fetches nothing more', async () => {
    const c = sampleCase({ materials: materials() });
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    const before = fetches();
    const answer = await admin(gateway, 'POST', '/systems/city-attach/dry-run', { caseId: c.caseId });
    expect(answer.status).toBe(200);
    expect(answer.body.caseSource).toBe('stored');
    expect(answer.body.materials).toEqual([{ kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), mime: 'application/pdf', handover: 'form-data', field: '/materials', state: 'fetched' }]);
    const inline = await admin(gateway, 'POST', '/systems/city-inline/dry-run', { caseId: c.caseId });
    // The ID card's size and digest were not given by the case: they come from what was fetched.
    expect(inline.body.materials[1]).toEqual({ kind: 'ID_CARD', name: '身份证', size: idCard.length, sha256: sha256(idCard), mime: 'image/png', handover: 'base64', field: '/fj', state: 'fetched' });
    expect(fetches()).toBe(before);
    noBytes(answer.body);
    noBytes(inline.body);
  });
});
