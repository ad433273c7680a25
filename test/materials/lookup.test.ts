/**
 * A look-up document as a material, end to end through a running gateway and the simulated
 * look-up sources: a case is submitted with a drawing; its systems ask for more (补正, need_more);
 * the clerk fetches the household record with the applicant's ID card (a look-up for that case);
 * the case is resubmitted with `lookup://<queryId>/household` among its materials; each system gets
 * the record with the look-up's own seal (the part header X-OW-Seal when attached, `seal` beside
 * the bytes when inline), which the receiving end verifies with the independent SM2 implementation.
 * A look-up of another case stays refused, in a resubmission too.
 */
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import { jcsBytes } from '../../src/seal/canonical';
import { parseSealHeader, signedMessage, type Seal } from '../../src/seal/seal';
import { sampleMaterial } from '../../sim/materials';
import type { World } from '../../sim/shared-data-world';
import { caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, submit, type LegacyServer } from '../support/harness';
import { query, world, ZHANG_SAN } from '../shared-data/support';
import { RESULT_MAP, RESULT_TOKEN } from '../timelimits/support';
import { parseMultipart, sha256 } from './support';

const ITEM = '330800-FG-001';
const DRAWING = '2026/QZ-LOOKUP/drawing.pdf';

describe('when a case waiting for 补正 is resubmitted with a look-up document as a material', () => {
  let legacy: LegacyServer;
  let w: World;
  const targets = ['city-housing-reform-attach', 'city-housing-reform-inline'];

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${n}` } }));
    const system = (id: string, materials: Record<string, unknown>, body: string) =>
      restSystem(id, `${legacy.url}/${id}`, { retry: { attempts: 4, backoff: { type: 'fixed', delayMs: 50 } }, result: { mode: 'push', map: RESULT_MAP, inboundToken: RESULT_TOKEN }, materials, request: { body } });
    w = await world({
      deliver: true,
      routes: { routes: [{ itemCode: '330800-FG-*', targets }], unrouted: 'reject' },
      extraSystems: [
        system('city-housing-reform-attach', { mode: 'attach' }, '{"bizNo": caseId, "sqrxm": applicant.name}'),
        system('city-housing-reform-inline', { mode: 'inline', kinds: ['HOUSEHOLD'], field: '/fj' }, '{"bizNo": caseId}'),
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await w?.stop();
    await legacy?.close();
  });

  const drawing = { name: '竣工测绘图', kind: 'DRAWING', uri: `store://intake/${DRAWING}`, sha256: sampleMaterial(DRAWING).sha256, size: sampleMaterial(DRAWING).size, mime: 'application/pdf' };
  const sentTo = (systemId: string, caseId: string) => legacy.received.filter((r) => r.url === `/${systemId}` && r.body.includes(caseId));
  const statuses = async (caseId: string) => (await caseView(w, caseId)).body.deliveries.map((d: { status: string }) => d.status);
  /** A case delivered to both systems, then asked by both for more: its clock stopped for need_more. */
  async function waitingForMore(c: Record<string, unknown>): Promise<void> {
    expect((await submit(w, c)).status).toBe(202);
    await eventually(async () => expect(await statuses(c.caseId as string)).toEqual(['delivered', 'delivered']), 20_000);
    for (const systemId of targets) expect((await pushResult(w, systemId, { ywh: c.caseId, jg: '2', yj: '请补充户籍信息' }, RESULT_TOKEN)).status).toBe(200);
    expect(await statuses(c.caseId as string)).toEqual(['completed', 'completed']);
  }
  /** Whose key signed it (GET /api/v1/seal/keys), checked by sm-crypto: the signature, and the digest of the bytes received. */
  async function verifiedIndependently(seal: Seal, bytes: Buffer): Promise<void> {
    const keys = (await (await fetch(`${w.url}/api/v1/seal/keys`)).json()) as { keys: Array<{ keyId: string; publicKeyHex: string }> };
    const key = keys.keys.find((k) => k.keyId === seal.keyId)!;
    expect(independent.doVerifySignature(Array.from(signedMessage(seal)), Buffer.from(seal.signature, 'base64').toString('hex'), key.publicKeyHex, { der: true, hash: true })).toBe(true);
    expect(independentSm3(Array.from(bytes))).toBe(seal.digest);
  }

  it('then intake takes it, and each system gets the record with its own seal, verified at the receiving end', async () => {
    const c = sampleCase({ itemCode: ITEM, materials: [drawing] });
    const caseId = c.caseId as string;
    await waitingForMore(c);
    expect(sentTo('city-housing-reform-inline', caseId)).toHaveLength(1); // it takes HOUSEHOLD only: nothing to inline yet

    // At the window: one ID card, the household record of this case's applicant.
    const found = await query(w, { caseId, purpose: ITEM, ...ZHANG_SAN, documents: ['household'] });
    expect(found.status).toBe(200);
    const [household] = found.body.documents as Array<{ kind: string; status: string; data: Record<string, unknown>; seal: Seal }>;
    expect(household!.status).toBe('found');
    const recordBytes = jcsBytes(household!.data);

    // The completed case: the record first, so it takes the place the drawing had (which was fetched already).
    const completed = { ...c, materials: [{ name: '户籍信息', kind: 'HOUSEHOLD', uri: `lookup://${String(found.body.queryId)}/household` }, drawing] };
    const resubmitted = await submit(w, completed);
    expect(resubmitted.status).toBe(202);
    expect(resubmitted.body.deliveries).toEqual(targets.map((systemId) => ({ systemId, status: 'queued' })));
    await eventually(async () => expect(await statuses(caseId)).toEqual(['delivered', 'delivered']), 20_000);

    // attach (REST multipart): the record is its own part, with the look-up's seal as its X-OW-Seal.
    const attach = sentTo('city-housing-reform-attach', caseId).at(-1)!;
    const parts = parseMultipart(attach.bytes, String(attach.headers['content-type']));
    expect(parts.map((p) => /name="([^"]+)"/.exec(p.headers['content-disposition']!)![1])).toEqual(['body', 'HOUSEHOLD', 'DRAWING']);
    const record = parts[1]!;
    expect(record.body.equals(recordBytes)).toBe(true);
    expect(record.headers['content-type']).toBe('application/json');
    const partSeal = parseSealHeader(record.headers['x-ow-seal']!) as Seal;
    expect(partSeal).toEqual(household!.seal);
    expect(partSeal).toMatchObject({ purpose: `房改核查（${ITEM}）`, systemId: 'prov-public-security' });
    await verifiedIndependently(partSeal, record.body);
    // The drawing is the drawing, not the bytes fetched for the place it had before.
    expect(sha256(parts[2]!.body)).toBe(drawing.sha256);
    expect(JSON.parse(parts[0]!.body.toString('utf8')).materials.map((m: { kind: string; sha256: string }) => [m.kind, m.sha256])).toEqual([
      ['HOUSEHOLD', sha256(recordBytes)],
      ['DRAWING', drawing.sha256],
    ]);

    // inline (REST JSON): the record's bytes as base64, its seal as an object beside them.
    const inline = sentTo('city-housing-reform-inline', caseId).at(-1)!;
    const [entry] = (inline.json as { fj: Array<{ kind: string; content: string; seal: Seal; sha256: string }> }).fj;
    expect(entry).toMatchObject({ kind: 'HOUSEHOLD', name: '户籍信息', mime: 'application/json', sha256: sha256(recordBytes), size: recordBytes.length });
    const inlineBytes = Buffer.from(entry!.content, 'base64');
    expect(inlineBytes.equals(recordBytes)).toBe(true);
    await verifiedIndependently(entry!.seal, inlineBytes);
    // A changed byte is caught by the same check.
    const altered = Buffer.from(inlineBytes);
    altered[altered.length - 2] ^= 0x01;
    expect(independentSm3(Array.from(altered))).not.toBe(entry!.seal.digest);

    // What ops see: both materials, as fetched, and the record handed over by each.
    const view = (await caseView(w, caseId)).body;
    expect(view.materials).toEqual([
      { kind: 'HOUSEHOLD', name: '户籍信息', size: recordBytes.length, sha256: sha256(recordBytes), mime: 'application/json', fetched: true },
      { kind: 'DRAWING', name: '竣工测绘图', size: drawing.size, sha256: drawing.sha256, mime: 'application/pdf', fetched: true },
    ]);
    expect(view.deliveries[1].handover).toEqual({ mode: 'inline', materials: [{ kind: 'HOUSEHOLD', size: recordBytes.length, sha256: sha256(recordBytes) }] });
    expect(JSON.stringify(view)).not.toContain('lookup://');
  });

  it("then a resubmission naming another case's look-up is refused, and the case stays as it was", async () => {
    const mine = sampleCase({ itemCode: ITEM, materials: [drawing] });
    const other = sampleCase({ itemCode: ITEM, materials: [drawing] });
    await waitingForMore(mine);
    await waitingForMore(other);
    const found = await query(w, { caseId: mine.caseId, purpose: ITEM, ...ZHANG_SAN, documents: ['household'] });
    expect(found.body.documents[0].status).toBe('found');
    const uri = `lookup://${String(found.body.queryId)}/household`;

    const refused = await submit(w, { ...other, materials: [...(other.materials as unknown[]), { name: '户籍信息', kind: 'HOUSEHOLD', uri }] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'materials[1].uri', message: `no look-up ${String(found.body.queryId)} of case ${String(other.caseId)} found a household document` }]);
    // Nothing changed: still waiting for the applicant, nothing sent again.
    expect(await statuses(other.caseId as string)).toEqual(['completed', 'completed']);
    expect(sentTo('city-housing-reform-attach', other.caseId as string)).toHaveLength(1);
    // Its own case may name it.
    expect((await submit(w, { ...mine, materials: [drawing, { name: '户籍信息', kind: 'HOUSEHOLD', uri }] })).status).toBe(202);
  });
});
