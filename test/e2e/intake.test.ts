import type { RunningGateway } from '../../src/gateway';
import { OPS_TOKEN, caseView, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';

describe('intake: POST /api/v1/cases', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig(
      [restSystem('city-housing-reform', `${legacy.url}/cases`), restSystem('prov-market', `${legacy.url}/cases`)],
      { routes: [{ itemCode: '330800-FG-*', targets: ['city-housing-reform'] }, { itemCode: '33*-SCJG-*', targets: ['prov-market', 'city-housing-reform'] }] },
      { server: { bodyLimit: '8kb' } },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  const post = (body: string, headers: Record<string, string>) => fetch(`${gateway.url}/api/v1/cases`, { method: 'POST', headers, body });

  describe('when the body is not a valid case, then 400 names each problem and nothing is stored', () => {
    const cases: Array<[string, (c: Record<string, unknown>) => unknown, string[]]> = [
      ['a missing field', (c) => ({ ...c, itemName: undefined }), ['itemName']],
      ['a wrong type', (c) => ({ ...c, applicant: { ...(c.applicant as object), name: 42 } }), ['applicant.name']],
      ['a caseId with forbidden characters', (c) => ({ ...c, caseId: 'QZ:2026/1' }), ['caseId']],
      ['a too long caseId', (c) => ({ ...c, caseId: 'x'.repeat(65) }), ['caseId']],
      ['an unknown channel', (c) => ({ ...c, channel: 'fax' }), ['channel']],
      ['an unknown applicant kind', (c) => ({ ...c, applicant: { ...(c.applicant as object), kind: 'robot' } }), ['applicant.kind']],
      ['a date that is not ISO 8601', (c) => ({ ...c, submittedAt: 'yesterday' }), ['submittedAt']],
      ['an unknown key', (c) => ({ ...c, extra: 1, applicant: { ...(c.applicant as object), age: 3 } }), ['extra', 'applicant.age']],
      ['several problems at once', (c) => ({ ...c, channel: 'fax', materials: [{ name: '' }] }), ['channel', 'materials[0].name', 'materials[0].kind', 'materials[0].uri']],
      ['a form key that XML and SOAP writers read as markup', (c) => ({ ...c, form: { jzlx: { $xml: '</jzlx><sfzh>INJECTED</sfzh>' }, fj: [{ '@id': '1' }] } }), ['form.jzlx.$xml', 'form.fj[0].@id']],
      ['not an object', () => [1, 2], ['(body)']],
    ];
    it.each(cases)('%s', async (_what, spoil, paths) => {
      const c = sampleCase();
      const res = await submit(gateway, spoil(c));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_case');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(paths));
      for (const d of res.body.error.details) expect(d.message).toEqual(expect.any(String));
      expect((await caseView(gateway, c.caseId as string)).status).toBe(404);
    });
  });

  it('when the JSON is malformed, then 400 invalid_json', async () => {
    const res = await post('{"caseId": ', { 'Content-Type': 'application/json', Authorization: 'Bearer test-intake-token' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_json');
  });

  it('when the body is not JSON, then 415', async () => {
    const res = await post('<case/>', { 'Content-Type': 'application/xml', Authorization: 'Bearer test-intake-token' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.code).toBe('unsupported_media_type');
  });

  it('when the body is larger than server.bodyLimit, then 413', async () => {
    const res = await submit(gateway, sampleCase({ form: { blob: 'x'.repeat(10_000) } }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('when the token is missing or wrong, then 401; the ops token, then 403', async () => {
    expect((await post('{}', { 'Content-Type': 'application/json' })).status).toBe(401);
    const wrong = await submit(gateway, sampleCase(), 'not-a-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
    const ops = await submit(gateway, sampleCase(), OPS_TOKEN);
    expect(ops.status).toBe(403);
    expect(ops.body.error.code).toBe('forbidden');
  });

  it('when no route matches the itemCode, then 422 no_route', async () => {
    const c = sampleCase({ itemCode: '110000-XX-001' });
    const res = await submit(gateway, c);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('no_route');
    expect((await caseView(gateway, c.caseId as string)).status).toBe(404);
  });

  it('when the case names unknown targets, then 400 names them', async () => {
    const res = await submit(gateway, sampleCase({ targets: ['city-housing-reform', 'nat-nowhere'] }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'targets[1]', message: 'unknown system "nat-nowhere"' }]);
  });

  it('when explicit targets are given, then they override the routes', async () => {
    const res = await submit(gateway, sampleCase({ itemCode: '110000-XX-001', targets: ['prov-market'] }));
    expect(res.status).toBe(202);
    expect(res.body.deliveries).toEqual([{ systemId: 'prov-market', status: 'queued' }]);
  });

  it('when the itemCode matches a fan-out route, then one delivery per target', async () => {
    const res = await submit(gateway, sampleCase({ itemCode: '330802-SCJG-0001' }));
    expect(res.status).toBe(202);
    expect(res.body.deliveries.map((d: { systemId: string }) => d.systemId)).toEqual(['prov-market', 'city-housing-reform']);
  });

  it('when the same case is sent again, then 200 with the same answer; changed, then 409', async () => {
    const c = sampleCase();
    expect((await submit(gateway, c)).status).toBe(202);
    const again = await submit(gateway, c);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ caseId: c.caseId, status: 'accepted' });
    const changed = await submit(gateway, { ...c, itemName: '另一个事项' });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('case_conflict');
    const view = await caseView(gateway, c.caseId as string);
    expect(view.body.deliveries).toHaveLength(1);
  });

  it('when key order differs, then it is still the same case', async () => {
    const c = sampleCase();
    expect((await submit(gateway, c)).status).toBe(202);
    const reordered = Object.fromEntries(Object.entries(c).reverse());
    expect((await submit(gateway, reordered)).status).toBe(200);
  });

  it('when a case is unknown, then GET answers 404 unknown_case', async () => {
    const res = await caseView(gateway, 'QZ-NOPE');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('unknown_case');
  });

  it('when a path is unknown, then 404 in the error shape', async () => {
    const res = await fetch(`${gateway.url}/api/v1/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
  });
});
