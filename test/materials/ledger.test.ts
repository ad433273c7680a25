/**
 * An archived case reads as it did in Redis: once a finished case has left Redis for the ledger,
 * its view still lists its materials as fetched (kind, name, size, digest; never the URI) and each
 * delivery's handover, and the files fetched for it are gone from the cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunningGateway } from '../../src/gateway';
import { startMaterialStore } from '../../sim/materials';
import { caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { tempDir } from '../seal/helpers';
import { materialBytes, sha256 } from './support';

const RESULT_TOKEN = 'materials-ledger-result-token';

describe('when a case with materials is archived', () => {
  let store: Awaited<ReturnType<typeof startMaterialStore>>;
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let dataDir: string;
  const drawing = materialBytes(50_000);
  const idCard = materialBytes(3_000);

  beforeAll(async () => {
    store = await startMaterialStore();
    store.store.put('2026/archive/drawing.pdf', { bytes: drawing, mime: 'application/pdf' });
    store.store.put('2026/archive/id.png', { bytes: idCard, mime: 'image/png' });
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', data: { slbh: `SL${n}` } }));
    const result = { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: RESULT_TOKEN };
    const dir = writeConfig(
      [
        restSystem('city-attach', `${legacy.url}/attach`, { result, materials: { mode: 'attach', kinds: ['DRAWING'] } }),
        restSystem('city-ref', `${legacy.url}/ref`, { result }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-attach', 'city-ref'] }] },
      { materials: { stores: { intake: { baseUrl: `${store.url}/` } } }, retention: { hot: '1s', ledger: '36500d', sweepEvery: '200ms' } },
    );
    dataDir = tempDir('materials-ledger');
    gateway = await startTestGateway(dir, { dataDir, ledger: {} });
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await legacy?.close();
    await store?.close();
  });

  it('then the ledger answers with its materials and each delivery’s handover, and its fetched files are deleted', async () => {
    const c = sampleCase({
      materials: [
        { name: '竣工测绘图', kind: 'DRAWING', uri: 'store://intake/2026/archive/drawing.pdf', sha256: sha256(drawing) },
        { name: '身份证', kind: 'ID_CARD', uri: 'store://intake/2026/archive/id.png' },
      ],
    });
    const caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, caseId)).body.deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered']));
    for (const systemId of ['city-attach', 'city-ref']) expect((await pushResult(gateway, systemId, { ywh: caseId, jg: '1', yj: '同意' }, RESULT_TOKEN)).status).toBe(200);
    const hot = (await caseView(gateway, caseId)).body;
    expect(hot.archived).toBeUndefined();
    expect(hot.materials).toEqual([
      { kind: 'DRAWING', name: '竣工测绘图', size: drawing.length, sha256: sha256(drawing), mime: 'application/pdf', fetched: true },
      // Taken by reference only: never fetched, so nothing is known of it but what the case said.
      { kind: 'ID_CARD', name: '身份证', fetched: false },
    ]);
    expect(fs.existsSync(path.join(dataDir, 'materials', 'cases', caseId, sha256(drawing)))).toBe(true);

    const archived = await eventually(async () => {
      const view = (await caseView(gateway, caseId)).body;
      expect(view.archived).toBe(true);
      return view;
    }, 20_000);
    expect(archived.materials).toEqual(hot.materials);
    expect(archived.deliveries.map((d: { handover: unknown }) => d.handover)).toEqual(hot.deliveries.map((d: { handover: unknown }) => d.handover));
    expect(archived.deliveries[0].handover).toEqual({ mode: 'attach', materials: [{ kind: 'DRAWING', size: drawing.length, sha256: sha256(drawing) }] });
    expect(archived.deliveries[1].handover).toEqual({ mode: 'reference', materials: [{ kind: 'DRAWING', sha256: sha256(drawing) }, { kind: 'ID_CARD' }] });
    expect(JSON.stringify(archived)).not.toContain('store://');
    await eventually(async () => expect(fs.existsSync(path.join(dataDir, 'materials', 'cases', caseId))).toBe(false));
  });
});
