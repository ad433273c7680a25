/**
 * POST /api/v1/shared-data/query against the shipped look-up sources, simulated over
 * real REST, SOAP and XML (two of them GBK, one GB18030): seals, statuses, deadlines, purposes,
 * the cache, and the audit trail.
 */
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import { jcsBytes } from '../../src/seal/canonical';
import { signedMessage, type Seal } from '../../src/seal/seal';
import type { World } from '../../sim/shared-data-world';
import { asked, LI_SI, lookups, OPERATOR, query, submittedCase, WANG, world, ZHANG_SAN, ZHAO_LIU } from './support';

const FG = '330800-FG-001';
const ALL_FG = ['identity', 'household', 'marriage', 'realestate'];
const bytesOf = (buffer: Buffer): number[] => Array.from(buffer);

let w: World;
let caseNo = 0;
const caseId = () => `QZ-SD-${Date.now()}-${++caseNo}`;
/** A case of this item, submitted: look-ups are made for a case the gateway holds. */
const caseOf = (itemCode: string) => submittedCase(w, itemCode, caseId());

beforeAll(async () => {
  w = await world();
});
afterAll(async () => {
  await w?.stop();
});
afterEach(() => {
  for (const id of ['nat-population', 'prov-public-security', 'city-civil-affairs', 'city-real-estate-registration', 'city-human-resources']) w.sims!.setFaults(id, { down: false, latencyMs: 0, failureRate: 0 });
});

describe('a window look-up', () => {
  it('returns every found document, sealed and watermarked; each seal verifies with sm-crypto', async () => {
    const answer = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ALL_FG });
    expect(answer.status).toBe(200);
    expect(answer.body.documents.map((d: { kind: string; status: string }) => [d.kind, d.status])).toEqual(ALL_FG.map((k) => [k, 'found']));
    const marriage = answer.body.documents.find((d: { kind: string }) => d.kind === 'marriage');
    expect(marriage).toMatchObject({ source: 'city-civil-affairs', data: { status: '已婚', spouseName: '李梅', registeredAt: '20180520' } });
    expect(marriage.watermark).toMatch(/^此件由衢州市一窗受理云平台提供，仅供办理房改核查（330800-FG-001）使用，有效期至\d{4}年\d{1,2}月\d{1,2}日$/);

    const keys = (await (await fetch(`${w.url}/api/v1/seal/keys`)).json()) as { keys: Array<{ keyId: string; publicKeyHex: string }> };
    for (const doc of answer.body.documents as Array<{ seal: Seal; data: unknown; source: string }>) {
      expect(doc.seal).toMatchObject({ alg: 'SM2-SM3', purpose: '房改核查（330800-FG-001）', systemId: doc.source });
      const key = keys.keys.find((k) => k.keyId === doc.seal.keyId)!;
      const signatureHex = Buffer.from(doc.seal.signature, 'base64').toString('hex');
      // An independent SM2/SM3 (sm-crypto, jsbn) checks both the signature and the digest of the data.
      expect(independent.doVerifySignature(bytesOf(signedMessage(doc.seal)), signatureHex, key.publicKeyHex, { der: true, hash: true })).toBe(true);
      expect(independentSm3(bytesOf(jcsBytes(doc.data)))).toBe(doc.seal.digest);
    }
  });

  it('a changed field of a returned document is located by POST /api/v1/seal/verify', async () => {
    const answer = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['marriage'] });
    const [doc] = answer.body.documents;
    const verify = async (payload: unknown) =>
      (await (await fetch(`${w.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seal: doc.seal, payload }) })).json()) as { valid: boolean; changed: string[] };
    expect(await verify(doc.data)).toMatchObject({ valid: true, changed: [] });
    expect(await verify({ ...doc.data, spouseName: '王二' })).toMatchObject({ valid: false, changed: ['/spouseName'] });
  });

  it('says not_found for a person with no marriage record, and found for the rest', async () => {
    const answer = await query(w, { caseId: await caseOf(FG), purpose: FG, ...LI_SI, documents: ['marriage', 'household'] });
    expect(answer.body.documents.map((d: { status: string }) => d.status)).toEqual(['not_found', 'found']);
    expect(answer.body.documents[0]).not.toHaveProperty('seal');
  });

  it('a source down: that document is an error, the others are answered, all well within the deadline', async () => {
    w.sims!.setFaults('city-real-estate-registration', { down: true });
    const answer = await query(w, { caseId: await caseOf('330800-FG-701'), purpose: '330800-FG-701', ...ZHANG_SAN, documents: ALL_FG, deadlineMs: 3000 });
    const byKind = Object.fromEntries(answer.body.documents.map((d: { kind: string }) => [d.kind, d]));
    expect(byKind.realestate).toMatchObject({ status: 'error', source: 'city-real-estate-registration', error: expect.stringContaining('city-real-estate-registration') });
    expect([byKind.identity.status, byKind.household.status, byKind.marriage.status]).toEqual(['found', 'found', 'found']);
    expect(answer.ms).toBeLessThan(1500);
  });

  it('a source slower than the deadline is a timeout once the deadline passes, answered before the source; its late answer is ignored', async () => {
    w.sims!.setFaults('city-civil-affairs', { latencyMs: 2000 });
    const answer = await query(w, { caseId: await caseOf('330800-FG-702'), purpose: '330800-FG-702', ...ZHANG_SAN, documents: ['marriage', 'realestate'], deadlineMs: 1000 });
    expect(answer.status).toBe(200);
    expect(answer.body.documents.map((d: { status: string }) => d.status)).toEqual(['timeout', 'found']);
    expect(answer.body.documents[0].error).toContain('deadline of 1000 ms');
    // Order, not a stopwatch: the answer came at the deadline (the gateway answers within it), not
    // when the 2 s source did.
    expect(answer.ms).toBeLessThan(2000);
  });

  it('a person whose records are slow everywhere: every document a timeout, the answer at the deadline, not the sources', async () => {
    const answer = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHAO_LIU, documents: ALL_FG, deadlineMs: 800 });
    expect(answer.body.documents.map((d: { status: string }) => d.status)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    expect(answer.ms).toBeLessThan(4000); // the sources answer this person after 4 s
  });

  it('two sources for one kind: the first found wins, the other is reported', async () => {
    w.sims!.setFaults('nat-population', { latencyMs: 300 });
    const answer = await query(w, { caseId: await caseOf('330800-FG-901'), purpose: '330800-FG-901', ...ZHANG_SAN, documents: ['identity'], deadlineMs: 2000 });
    const [doc] = answer.body.documents;
    expect(doc).toMatchObject({ status: 'found', source: 'prov-public-security', data: { name: '张三', sex: '男' } });
    expect(doc.sources.map((s: { source: string; status: string }) => [s.source, s.status])).toEqual([
      ['prov-public-security', 'found'],
      ['nat-population', 'found'],
    ]);
  });

  it('a GBK source carries a name outside GBK (王𬇕) both ways: XML and SOAP', async () => {
    const before = w.sims!.lookups('city-civil-affairs').latest.length;
    const answer = await query(w, { caseId: await caseOf(FG), purpose: FG, ...WANG, documents: ['marriage', 'household'] });
    const [marriage, household] = answer.body.documents;
    expect(marriage).toMatchObject({ status: 'found', data: { spouseName: '陈䶮' } });
    expect(household).toMatchObject({ status: 'found', data: { headOfHousehold: '王𬇕', registeredAddress: '浙江省衢州市衢江区樟潭街道𬇕溪村5号' } });
    // The GBK XML system read the name the gateway sent as it is (a character reference on the wire).
    const sent = w.sims!.lookups('city-civil-affairs').latest.slice(before).at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ sfzh: WANG.idNumber, xm: '王𬇕' });
  });
});

describe('purpose binding and the audit trail', () => {
  it('a kind the purpose may not use is 403 purpose_not_allowed, audited, and no source is asked', async () => {
    const id = await caseOf('330800-RS-001');
    const before = asked(w);
    const answer = await query(w, { caseId: id, purpose: '330800-RS-001', ...ZHANG_SAN, documents: ['identity', 'marriage'] });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'purpose_not_allowed', details: [{ path: 'documents[1]', message: expect.stringContaining('marriage') }] });
    expect(asked(w)).toEqual(before);
    const listed = await lookups(w, { caseId: id });
    expect(listed.body.items).toEqual([expect.objectContaining({ caseId: id, outcome: 'refused', refused: ['marriage'], sources: [], person: '330*************34' })]);
    expect(listed.body.items[0].who).toContain(OPERATOR);
  });

  it('an item no purpose matches is refused the same way', async () => {
    const answer = await query(w, { caseId: await caseOf('330000-JT-001'), purpose: '330000-JT-001', ...ZHANG_SAN, documents: ['identity'] });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('purpose_not_allowed');
  });

  it('every query is audited, listed by case, person, purpose and time, masked; no full ID number anywhere', async () => {
    const id = await caseOf(FG);
    const from = new Date().toISOString();
    await query(w, { caseId: id, purpose: FG, ...LI_SI, documents: ['marriage', 'realestate'] });
    const byCase = await lookups(w, { caseId: id });
    expect(byCase.status).toBe(200);
    expect(byCase.body.items).toEqual([
      expect.objectContaining({
        caseId: id,
        purpose: FG,
        outcome: 'answered',
        kinds: ['marriage', 'realestate'],
        sources: ['city-civil-affairs', 'city-real-estate-registration'],
        statuses: [
          { kind: 'marriage', source: 'city-civil-affairs', status: 'not_found' },
          { kind: 'realestate', source: 'city-real-estate-registration', status: 'found' },
        ],
      }),
    ]);
    const byPerson = await lookups(w, { person: LI_SI.idNumber, from });
    expect(byPerson.body.items.map((i: { caseId: string }) => i.caseId)).toContain(id);
    expect((await lookups(w, { person: ZHAO_LIU.idNumber, from })).body.items).toEqual([]);
    expect((await lookups(w, { purpose: '330800-BDC-001', caseId: id })).body.items).toEqual([]);
    expect((await lookups(w, { caseId: id, to: from })).body.items).toEqual([]);
    const everything = JSON.stringify((await lookups(w)).body);
    for (const person of [ZHANG_SAN, LI_SI, WANG, ZHAO_LIU]) expect(everything).not.toContain(person.idNumber);
    expect(everything).not.toContain('personKey');
  });

  it('refuses a malformed query with 400 and a listing without an ops token with 401', async () => {
    const answer = await query(w, { caseId: caseId(), purpose: FG, idNumber: 'x', documents: [] });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(JSON.stringify(answer.body)).not.toContain('"x"');
    const unknown = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['passport'] });
    expect(unknown.body.error).toMatchObject({ code: 'invalid_request', details: [{ path: 'documents[0]' }] });
    const res = await fetch(`${w.url}/api/v1/admin/shared-data/lookups`);
    expect(res.status).toBe(401);
    expect((await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['identity'] }, 'wrong')).status).toBe(401);
  });
});

describe('the cache', () => {
  it('answers a repeated query from the cache where cacheTtl > 0, sealed afresh, and never where it is 0s', async () => {
    const id = await caseOf('330800-BDC-001');
    const first = await query(w, { caseId: id, purpose: '330800-BDC-001', ...WANG, documents: ['identity', 'marriage'] });
    const before = asked(w);
    const second = await query(w, { caseId: id, purpose: '330800-BDC-001', ...WANG, documents: ['identity', 'marriage'] });
    const [identity1, marriage1] = first.body.documents;
    const [identity2, marriage2] = second.body.documents;
    expect(identity1.cached).toBeUndefined();
    expect(identity2).toMatchObject({ status: 'found', cached: true, data: identity1.data, seal: { caseId: id, digest: identity1.seal.digest } });
    expect(identity2.seal.signature).not.toBe(identity1.seal.signature);
    expect(marriage2.cached).toBeUndefined();
    expect(marriage2.seal.signature).not.toBe(marriage1.seal.signature); // sealed afresh
    const after = asked(w);
    // identity (10m) came from the cache: neither identity source was asked again; marriage (0s) was.
    expect(after['prov-public-security']).toBe(before['prov-public-security']);
    expect(after['nat-population']).toBe(before['nat-population']);
    expect(after['city-civil-affairs']).toBe(before['city-civil-affairs']! + 1);
  });

  it('keeps purposes apart: the same person and kind for another item is not a cache hit', async () => {
    await query(w, { caseId: await caseOf('330800-FG-002'), purpose: '330800-FG-002', ...ZHANG_SAN, documents: ['household'] });
    const other = await query(w, { caseId: await caseOf('330800-RS-002'), purpose: '330800-RS-002', ...ZHANG_SAN, documents: ['household'] });
    expect(other.body.documents[0].cached).toBeUndefined();
    expect(other.body.documents[0].seal.purpose).toBe('人力社保业务（330800-RS-002）');
  });
});

describe('a look-up is tied to a case the gateway holds', () => {
  it('a caseId the gateway never received is 404 unknown_case, audited as refused, and no source is asked', async () => {
    const invented = caseId();
    const before = asked(w);
    const answer = await query(w, { caseId: invented, purpose: FG, idNumber: ZHANG_SAN.idNumber, documents: ALL_FG });
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'unknown_case', details: [{ path: 'caseId' }] });
    expect(asked(w)).toEqual(before);
    expect((await lookups(w, { caseId: invented })).body.items).toEqual([expect.objectContaining({ outcome: 'refused', refusal: 'unknown_case', refused: ALL_FG, sources: [] })]);
  });

  it('a purpose that is not the case’s item is 403 purpose_mismatch, and no source is asked', async () => {
    const id = await caseOf('330800-RS-001');
    const before = asked(w);
    // 330800-FG-* may use marriage; the case's own item (330800-RS-*) may not.
    const answer = await query(w, { caseId: id, purpose: FG, ...ZHANG_SAN, documents: ['marriage'] });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'purpose_mismatch', message: expect.stringContaining('330800-RS-001'), details: [{ path: 'purpose' }] });
    expect(asked(w)).toEqual(before);
    expect((await lookups(w, { caseId: id })).body.items).toEqual([expect.objectContaining({ outcome: 'refused', refusal: 'purpose_mismatch' })]);
  });

  it('the name asked with reaches the source and keys the cache: a wrong name is not answered with a record cached for the right one', async () => {
    const item = '330800-BDC-002';
    const right = await query(w, { caseId: await caseOf(item), purpose: item, ...ZHANG_SAN, documents: ['identity'] });
    expect(right.body.documents[0]).toMatchObject({ status: 'found', data: { name: '张三' } });
    const before = w.sims!.lookups('prov-public-security').latest.length;
    const wrong = await query(w, { caseId: await caseOf(item), purpose: item, idNumber: ZHANG_SAN.idNumber, name: '李四', documents: ['identity'] });
    expect(wrong.body.documents[0]).toMatchObject({ status: 'not_found' });
    expect(wrong.body.documents[0].cached).toBeUndefined();
    expect(w.sims!.lookups('prov-public-security').latest.slice(before).map((l) => (l.body as Record<string, unknown>).xm)).toEqual(['李四']);
  });

  it('a record cached for one case is sealed for the case that asks next', async () => {
    const item = '330800-BDC-003';
    const [a, b] = [await caseOf(item), await caseOf(item)];
    const first = await query(w, { caseId: a, purpose: item, ...LI_SI, documents: ['household'] });
    const second = await query(w, { caseId: b, purpose: item, ...LI_SI, documents: ['household'] });
    expect(first.body.documents[0].seal.caseId).toBe(a);
    expect(second.body.documents[0]).toMatchObject({ status: 'found', cached: true, seal: { caseId: b } });
    const verified = await (await fetch(`${w.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seal: second.body.documents[0].seal, payload: second.body.documents[0].data }) })).json();
    expect(verified).toMatchObject({ valid: true, changed: [] });
  });
});
