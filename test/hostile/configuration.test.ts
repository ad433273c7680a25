/**
 * Configuration is code that runs on input, and the admin API writes it: a tired operator (or a
 * stolen ops token) must not be able to stop the gateway, read its environment, or point it at
 * anything but the legacy systems.
 */
import Redis from 'ioredis';
import type { RunningGateway } from '../../src/gateway';
import {
  admin, caseView, eventually, legacyServer, redisUrl, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';

const RECURSE = '($f := function($n){ $f($n+1) + 1 }; $f(0))';

describe('when ops store a system version through the admin API', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  const id = 'city-housing-reform';

  beforeAll(async () => {
    process.env.OW_HOSTILE_TEST_SECRET = 'env-secret-must-not-leak';
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig(
      [restSystem(id, `${legacy.url}/cases`, { auth: { type: 'bearer', token: '${OW_HOSTILE_TEST_SECRET}' } })],
      { routes: [{ itemCode: '*', targets: [id] }] },
      { egress: { allow: [new URL(legacy.url).host] } },
    );
    gateway = await startTestGateway(dir, { env: { OW_HOSTILE_TEST_SECRET: 'env-secret-must-not-leak' } });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    delete process.env.OW_HOSTILE_TEST_SECRET;
  });

  const shown = async () => (await admin(gateway, 'GET', `/systems/${id}`)).body.system as Record<string, unknown>;

  it('then a ${VAR} reference anywhere is refused, so no API caller can read the environment', async () => {
    const base = await shown();
    for (const body of [
      { ...base, name: '${OW_HOSTILE_TEST_SECRET} ${PATH}' },
      { ...base, request: { body: '{"leak": "${OW_HOSTILE_TEST_SECRET}"}' } },
      { ...base, auth: { type: 'bearer', token: '${PATH}' } },
    ]) {
      const put = await admin(gateway, 'PUT', `/systems/${id}`, body);
      expect(put.status).toBe(400);
      expect(put.body.error.details[0].message).toContain('environment references are read from configuration files only');
    }
    const listed = JSON.stringify((await admin(gateway, 'GET', '/systems')).body) + JSON.stringify(await shown());
    expect(listed).not.toContain('env-secret-must-not-leak');
    expect((await admin(gateway, 'GET', `/systems/${id}`)).body.version).toBe(1);
  });

  it('then a secret sent back as shown keeps the file reference and still works', async () => {
    const put = await admin(gateway, 'PUT', `/systems/${id}`, { ...(await shown()), name: '衢州市房改办（新）' });
    expect(put.status).toBe(200);
    const c = sampleCase();
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    expect(legacy.received.at(-1)!.headers.authorization).toBe('Bearer env-secret-must-not-leak');
  });

  it('then an endpoint outside egress.allow, or not http(s), is refused', async () => {
    const base = await shown();
    for (const endpoint of [redisUrl().replace(/^redis:/, 'http:'), 'http://169.254.169.254/latest/meta-data', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO']) {
      const put = await admin(gateway, 'PUT', `/systems/${id}`, { ...base, endpoint });
      expect(put.status).toBe(400);
      expect(put.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'endpoint' })]));
    }
  });

  it('then a password or token in an endpoint URL is redacted when shown, and kept when sent back', async () => {
    const withCredentials = `${legacy.url.replace('http://', 'http://qz:url-password@')}/cases?access_token=url-token`;
    expect((await admin(gateway, 'PUT', `/systems/${id}`, { ...(await shown()), endpoint: withCredentials })).status).toBe(200);
    const text = JSON.stringify(await admin(gateway, 'GET', `/systems/${id}`));
    expect(text).not.toContain('url-password');
    expect(text).not.toContain('url-token');
    expect((await admin(gateway, 'PUT', `/systems/${id}`, { ...(await shown()), name: '衢州市房改办' })).status).toBe(200);
    const c = sampleCase();
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    const last = legacy.received.at(-1)!;
    expect(last.url).toBe('/cases?access_token=url-token');
    // The URL's own credentials were kept (sent as basic authentication, in place of the configured one).
    expect(last.headers.authorization).toBe(`Basic ${Buffer.from('qz:url-password').toString('base64')}`);
  });

  it('then an expression that runs over its budget on the sample case is refused', async () => {
    const put = await admin(gateway, 'PUT', `/systems/${id}`, { ...(await shown()), request: { body: RECURSE } });
    expect(put.status).toBe(400);
    expect(put.body.error.details).toEqual([expect.objectContaining({ path: 'request.body', message: expect.stringContaining('limits.expressionDepth') })]);
  });
});

describe('when a stored version with an expression that blows up on some cases survives a restart', () => {
  let legacy: LegacyServer;
  const id = 'city-housing-reform';

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
  });
  afterAll(() => legacy.close());

  it('then the gateway stays up: one that fails its test-run is not applied, one that passes fails only the cases it blows up on', async () => {
    const dir = writeConfig([restSystem(id, `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: [id] }] });
    const keyPrefix = uniquePrefix();
    const redis = new Redis(redisUrl());
    const stored = (version: number, body: string) =>
      redis.hset(`${keyPrefix}:config:systems`, id, JSON.stringify({ version, raw: { ...restSystem(id, `${legacy.url}/cases`), request: { body } }, at: new Date().toISOString(), by: 'an older gateway' }));
    try {
      // Stored by a gateway without budgets: recursion on every case. Refused at start; the file is used.
      await stored(2, RECURSE);
      let gateway = await startTestGateway(dir, { keyPrefix });
      expect((await admin(gateway, 'GET', `/systems/${id}`)).body.version).toBe(1);
      const first = sampleCase();
      await submit(gateway, first);
      await eventually(async () => expect((await caseView(gateway, first.caseId as string)).body.deliveries[0].status).toBe('delivered'));
      await gateway.stop();

      // Recursion only when the form asks for it: passes the test-run, applied, fails that case alone.
      await stored(3, `form.evil ? ${RECURSE} : {"bizNo": caseId}`);
      gateway = await startTestGateway(dir, { keyPrefix });
      try {
        expect((await admin(gateway, 'GET', `/systems/${id}`)).body.version).toBe(3);
        const evil = sampleCase({ form: { evil: true } });
        const fine = sampleCase();
        expect((await submit(gateway, evil)).status).toBe(202);
        expect((await submit(gateway, fine)).status).toBe(202);
        await eventually(async () => {
          const d = (await caseView(gateway, evil.caseId as string)).body.deliveries[0];
          expect(d.status).toBe('rejected');
          expect(d.lastError).toContain('request.body mapping failed: ran over its budget');
        });
        await eventually(async () => expect((await caseView(gateway, fine.caseId as string)).body.deliveries[0].status).toBe('delivered'));
        expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
        expect(legacy.received.some((r) => (r.json as { bizNo?: string }).bizNo === evil.caseId)).toBe(false);
      } finally {
        await gateway.stop();
      }
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});

describe('when an operator points a system at a host of their own and sends its secret back as shown', () => {
  let legacy: LegacyServer;
  let collector: LegacyServer;
  let gateway: RunningGateway;
  const id = 'city-housing-reform';

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    collector = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `X${n}` } }));
    // Any port of the loopback is allowed: only the kept-secret rule stands between the two.
    const dir = writeConfig([restSystem(id, `${legacy.url}/cases`, { auth: { type: 'bearer', token: 'stored-secret-of-the-housing-office' } })], { routes: [{ itemCode: '*', targets: [id] }] }, { egress: { allow: ['127.0.0.1'] } });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await collector.close();
  });

  it('then the version is refused naming the secret, nothing is stored, and the stored secret never reaches that host', async () => {
    const shown = (await admin(gateway, 'GET', `/systems/${id}`)).body.system as Record<string, unknown>;
    expect(shown.auth).toEqual({ type: 'bearer', token: '[redacted]' });
    const moved = { ...shown, endpoint: `${collector.url}/cases` };

    const put = await admin(gateway, 'PUT', `/systems/${id}`, moved);
    expect(put.status).toBe(400);
    expect(put.body.error.details).toEqual([expect.objectContaining({ path: 'auth.token', message: expect.stringContaining('send the secret itself') })]);
    expect((await admin(gateway, 'GET', `/systems/${id}`)).body.version).toBe(1);

    const c = sampleCase();
    await submit(gateway, c);
    // A dry run of it sends nothing (and shows no secret), so it may be previewed.
    const dryRun = await admin(gateway, 'POST', `/systems/${id}/dry-run`, { case: c, system: moved });
    expect(dryRun.status).toBe(200);
    expect(JSON.stringify(dryRun.body)).not.toContain('stored-secret-of-the-housing-office');
    expect(collector.received).toEqual([]);

    // Moving the endpoint with the secret written out is an ordinary change.
    const rewritten = await admin(gateway, 'PUT', `/systems/${id}`, { ...moved, auth: { type: 'bearer', token: 'a-new-secret-for-the-new-host' } });
    expect(rewritten.status).toBe(200);
    const d = sampleCase();
    await submit(gateway, d);
    await eventually(async () => expect(collector.received.some((r) => r.headers.authorization === 'Bearer a-new-secret-for-the-new-host')).toBe(true));
    expect(collector.received.every((r) => !String(r.headers.authorization).includes('stored-secret-of-the-housing-office'))).toBe(true);
  });
});
