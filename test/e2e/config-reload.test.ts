import type { RunningGateway } from '../../src/gateway';
import {
  admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';

describe('when ops change a system configuration through the admin API', () => {
  let legacy: LegacyServer;
  let a: RunningGateway;
  let b: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      expect(req.headers.authorization).toBe('Bearer s3cret');
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    const dir = writeConfig(
      [restSystem('city-housing-reform', `${legacy.url}/cases`, { auth: { type: 'bearer', token: 's3cret' } })],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] },
    );
    const keyPrefix = uniquePrefix();
    a = await startTestGateway(dir, { keyPrefix });
    b = await startTestGateway(dir, { keyPrefix });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await legacy.close();
  });

  it('then it is shown with secrets redacted, validated, versioned, and used by every instance within 5 s', async () => {
    const shown = await admin(a, 'GET', '/systems/city-housing-reform');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: 'city-housing-reform', version: 1, system: { auth: { type: 'bearer', token: '[redacted]' } } });
    expect(JSON.stringify(shown.body)).not.toContain('s3cret');

    const broken = await admin(a, 'PUT', '/systems/city-housing-reform', { ...shown.body.system, timeoutMs: 'soon', request: { body: '{"a": ' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('invalid_config');
    // Every problem at once: the expression that does not compile is named beside the schema error.
    expect(broken.body.error.details.map((d: { path: string }) => d.path)).toEqual(['request.body', 'timeoutMs']);
    expect((await admin(a, 'GET', '/systems/city-housing-reform')).body.version).toBe(1);

    const changed = { ...shown.body.system, request: { body: '{"ywh": caseId, "xm": applicant.name}' } };
    const put = await admin(a, 'PUT', '/systems/city-housing-reform', changed);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 2, system: { auth: { token: '[redacted]' } } });

    const started = Date.now();
    await eventually(async () => expect((await admin(b, 'GET', '/systems/city-housing-reform')).body.version).toBe(2), 5000);
    expect(Date.now() - started).toBeLessThan(5000);

    // Both instances now deliver with the new mapping, and the secret sent back as shown was kept.
    for (const gateway of [a, b]) {
      const c = sampleCase();
      await submit(gateway, c);
      await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
      expect(legacy.received.find((r) => (r.json as { ywh?: string }).ywh === c.caseId)?.json).toEqual({ ywh: c.caseId, xm: '张三' });
    }
    const audit = (await admin(a, 'GET', '/audit')).body.items;
    expect(audit[0]).toMatchObject({ action: 'system.configure', target: 'city-housing-reform', detail: 'version 2' });
    // A PUT of an id no system has adds one: this body is another system's, so it is refused and nothing is added.
    const stray = await admin(a, 'PUT', '/systems/nat-nowhere', changed);
    expect(stray.status).toBe(400);
    expect(stray.body.error.details).toEqual([
      { path: 'auth.token', message: '[redacted] keeps the secret of the version in use, and it has none here: send the value itself' },
      { path: 'id', message: 'must be nat-nowhere' },
    ]);
    expect((await admin(a, 'GET', '/systems/nat-nowhere')).status).toBe(404);
  });
});
