/**
 * A case's materials may name only what the gateway may fetch for it: a file of a configured
 * material store (store://, or a URL under the store's base URL) or a document a look-up of the
 * same case found. Every other form — the ones an attacker would use to make the gateway fetch for
 * them (SSRF) — is refused at intake with the path of the material, and nothing is fetched.
 */
import type { RunningGateway } from '../../src/gateway';
import { legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { query, world, ZHANG_SAN } from '../shared-data/support';
import type { World } from '../../sim/shared-data-world';

describe('when a case names its materials', () => {
  let anyone: LegacyServer; // stands for every address an attacker would aim at: it must hear nothing
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let port: number;

  beforeAll(async () => {
    anyone = await legacyServer((_req, _n, res) => replyJson(res, 200, { leaked: true }));
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', data: { slbh: `SL${n}` } }));
    port = Number(new URL(anyone.url).port);
    const dir = writeConfig([restSystem('city-a', `${legacy.url}/a`)], { routes: [{ itemCode: '*', targets: ['city-a'] }] }, { materials: { stores: { intake: { baseUrl: `${anyone.url}/store/` } } } });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await anyone.close();
    await legacy.close();
  });

  const material = (uri: string) => ({ name: '施工图', kind: 'DRAWING', uri });

  it.each([
    ['a file', (_port: number) => 'file:///etc/passwd'],
    ['data', (_port: number) => 'data:application/pdf;base64,JVBERi0xLjQ='],
    ['the loopback address, not a store', (port: number) => `http://127.0.0.1:${port}/other/a.pdf`],
    ['Redis on loopback', (_port: number) => 'http://127.0.0.1:6379/'],
    ['link-local (cloud metadata)', (_port: number) => 'http://169.254.169.254/latest/meta-data/iam/'],
    ['a decimal address of the store', (port: number) => `http://2130706433:${port}/store/a.pdf`],
    ['a hex address of the store', (port: number) => `http://0x7f000001:${port}/store/a.pdf`],
    ['an IPv6-mapped address of the store', (port: number) => `http://[::ffff:127.0.0.1]:${port}/store/a.pdf`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/store/a.pdf`],
    ['a user name before the store', (port: number) => `http://a@127.0.0.1:${port}/store/a.pdf`],
    ['the store as a user name', (port: number) => `http://127.0.0.1:${port}@169.254.169.254/store/a.pdf`],
    ['a path out of the store (URL)', (port: number) => `http://127.0.0.1:${port}/store/../admin`],
    ['an encoded path out of the store (URL)', (port: number) => `http://127.0.0.1:${port}/store/a/%2e%2e/%2e%2e/admin`],
    ['a path out of the store', (_port: number) => 'store://intake/../x'],
    ['an encoded path out of the store', (_port: number) => 'store://intake/%2e%2e/x'],
    ['an encoded slash', (_port: number) => 'store://intake/a%2f..%2f..%2fx'],
    ['a store not configured', (_port: number) => 'store://other/a.pdf'],
    ['another scheme', (_port: number) => 'share://id/330802199001011234'],
    ['an unknown look-up', (_port: number) => 'lookup://0f8fad5b-d9cb-469f-a165-70867728950e/marriage'],
  ])('then %s is refused 400 with the material\'s path, and nothing is fetched or queued', async (_what, uriAt) => {
    const uri = uriAt(port);
    expect(uri).not.toMatch(/undefined/);
    const c = sampleCase({ materials: [material('store://intake/fine.pdf'), material(uri)] });
    const answer = await submit(gateway, c);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_case');
    expect(answer.body.error.details).toEqual([{ path: 'materials[1].uri', message: expect.any(String) }]);
    expect((await fetch(`${gateway.url}/api/v1/cases/${String(c.caseId)}`, { headers: { Authorization: 'Bearer test-intake-token' } })).status).toBe(404);
    expect(anyone.received).toEqual([]);
    expect(legacy.received).toEqual([]);
  });

  it('then every refused material is named at once', async () => {
    const c = sampleCase({ materials: [material('file:///etc/passwd'), material('store://intake/fine.pdf'), material('http://169.254.169.254/')] });
    const answer = await submit(gateway, c);
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((d: { path: string }) => d.path)).toEqual(['materials[0].uri', 'materials[2].uri']);
  });

  it('then store files, as store:// or as a URL under the store, are accepted (and not fetched at intake)', async () => {
    const c = sampleCase({ targets: undefined, materials: [material('store://intake/2026/a.pdf'), material(`${anyone.url}/store/2026/b.pdf`)] });
    expect((await submit(gateway, c)).status).toBe(202);
    expect(anyone.received).toEqual([]);
  });
});

describe('when a case names a look-up document as a material', () => {
  let w: World;

  beforeAll(async () => {
    w = await world();
  }, 30_000);
  afterAll(async () => {
    await w.stop();
  });

  it("then another case's look-up is refused like an unknown one, and its own case's passes the material check", async () => {
    const mine = await w.submitCase('330800-FG-001');
    const found = await query(w, { caseId: mine, purpose: '330800-FG-001', ...ZHANG_SAN, documents: ['household'] });
    expect(found.status).toBe(200);
    expect(found.body.documents[0].status).toBe('found');
    const uri = `lookup://${String(found.body.queryId)}/household`;

    const other = sampleCase({ itemCode: '330800-FG-001', targets: ['city-civil-affairs'], materials: [{ name: '户籍信息', kind: 'HOUSEHOLD', uri }] });
    const refused = await submit(w, other);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'materials[0].uri', message: `no look-up ${String(found.body.queryId)} of case ${String(other.caseId)} found a household document` }]);
    // A kind the look-up did not find is refused the same way.
    const wrongKind = await submit(w, sampleCase({ caseId: mine, materials: [{ name: '婚姻', kind: 'MARRIAGE', uri: `lookup://${String(found.body.queryId)}/marriage` }] }));
    expect(wrongKind.body.error.details).toEqual([{ path: 'materials[0].uri', message: expect.stringMatching(/found a marriage document/) }]);
    // Its own case passes the material check: what stops it then is only that the case is already held with other content.
    const own = await submit(w, sampleCase({ caseId: mine, itemCode: '330800-FG-001', targets: ['city-civil-affairs'], materials: [{ name: '户籍信息', kind: 'HOUSEHOLD', uri }] }));
    expect(own.status).toBe(409);
  });
});
