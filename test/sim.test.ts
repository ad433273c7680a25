/**
 * The legacy-system simulators, driven as the gateway drives them: the shipped config's request
 * mapping builds the body, the system's auth goes in the headers, and the system's own response
 * expressions read the reply.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsonata from 'jsonata';
import { loadConfig, type GatewayConfig } from '../src/config/loader';
import type { Auth, SystemConfig } from '../src/config/schema';
import type { Case } from '../src/cases/model';
import { demoEnv, samplePersonCase } from '../sim/samples';
import { startSimulators, type Simulators } from '../sim/server';

const CONFIG_DIR = path.join(__dirname, '..', 'config');
const ENV = demoEnv();

let config: GatewayConfig;
let sims: Simulators;
let seq = 0;

/** A fresh caseId per submission, so that tests never see each other's idempotency keys. */
function newCase(overrides: Partial<Case> = {}): Case {
  seq += 1;
  return samplePersonCase({ caseId: `QZ-SIMTEST-${String(seq).padStart(6, '0')}`, ...overrides });
}

function system(id: string): SystemConfig {
  const s = config.systems.get(id);
  if (!s) throw new Error(`no system ${id} in the shipped config`);
  return s;
}

function authHeaders(auth: Auth): Record<string, string> {
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}` };
  if (auth.type === 'basic') return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  return {};
}

interface Reply {
  status: number;
  json: unknown;
  success: unknown;
  receiptNo: unknown;
  error: unknown;
  retryable: unknown;
}

async function evaluate(expression: string | undefined, input: unknown): Promise<unknown> {
  return expression === undefined ? undefined : jsonata(expression).evaluate(input);
}

/** Posts a case the way the gateway's REST adapter would and reads the reply with the system's expressions. */
async function submit(
  systemId: string,
  kase: Case,
  opts: { key?: string | null; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Reply> {
  const s = system(systemId);
  const body = opts.rawBody ?? JSON.stringify(await jsonata(s.request.body).evaluate(kase));
  const key = opts.key === undefined ? `${kase.caseId}:${systemId}` : opts.key;
  const res = await fetch(`${sims.url}/sim/${systemId}/cases`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(key === null ? {} : { 'idempotency-key': key }),
      ...authHeaders(s.auth),
      ...opts.headers,
    },
    body,
  });
  const json: unknown = await res.json();
  return {
    status: res.status,
    json,
    success: await evaluate(s.response.success, json),
    receiptNo: await evaluate(s.response.receiptNo, json),
    error: await evaluate(s.response.error, json),
    retryable: await evaluate(s.response.retryable, json),
  };
}

async function control(systemId: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sims.url}/sim/_control/${systemId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: await res.json() };
}

const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
  .format(new Date())
  .replace(/-/g, '');

/** One system of each reply dialect, and the ones with credentials. */
const BY_DIALECT = {
  A: 'city-housing-reform',
  B: 'prov-market-supervision',
  C: 'prov-human-resources',
  D: 'nat-gov-service-platform',
} as const;

beforeAll(async () => {
  config = loadConfig(CONFIG_DIR, ENV);
  sims = await startSimulators({ configDir: CONFIG_DIR, port: 0, env: ENV });
});

afterAll(async () => {
  await sims?.close();
});

describe('simulators of the shipped systems', () => {
  it('listens on a free port on 127.0.0.1 and counts all 44 systems', async () => {
    expect(sims.port).toBeGreaterThan(0);
    expect(sims.url).toBe(`http://127.0.0.1:${sims.port}`);
    const res = await fetch(`${sims.url}/sim/_stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(stats).sort()).toEqual([...config.systems.keys()].sort());
  });

  it('accepts a mapped case for every system, in a reply its response expressions read', async () => {
    for (const id of config.systems.keys()) {
      const reply = await submit(id, newCase());
      expect({ id, status: reply.status, success: reply.success }).toEqual({ id, status: 200, success: true });
      expect(reply.receiptNo).toEqual(expect.stringMatching(new RegExp(`^(GJ|ZJ|QZ)[A-Z]{2,4}${today}\\d{5}$`)));
      expect(reply.retryable === undefined || reply.retryable === false).toBe(true);
    }
  });

  it('answers each dialect in its own envelope', async () => {
    const replies = await Promise.all(Object.values(BY_DIALECT).map((id) => submit(id, newCase())));
    expect(replies[0].json).toEqual({ code: '0', msg: '成功', data: { slbh: expect.stringMatching(/^QZHR\d{13}$/) } });
    expect(replies[1].json).toEqual({ resultCode: '00', resultMsg: '受理成功', result: { acceptNo: expect.any(String) } });
    expect(replies[2].json).toEqual({ success: true, errcode: 0, errmsg: '', ywlsh: expect.any(String) });
    expect(replies[3].json).toEqual({ head: { rtnCode: '000000', rtnMsg: '成功' }, body: { sblsh: expect.any(String) } });
  });

  it('checks bearer and basic credentials (401 when missing or wrong)', async () => {
    expect(system('nat-population').auth.type).toBe('basic');
    expect(system('prov-public-security').auth.type).toBe('bearer');
    const before = sims.stats()['nat-population'];
    expect((await submit('nat-population', newCase(), { headers: { authorization: 'Basic d3Jvbmc6d3Jvbmc=' } })).status).toBe(401);
    expect((await submit('prov-public-security', newCase(), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await submit('city-housing-reform', newCase(), { headers: { authorization: '' } })).status).toBe(401);
    expect((await submit('nat-population', newCase())).success).toBe(true);
    const after = sims.stats()['nat-population'];
    expect(after.failed - before.failed).toBe(1);
    expect(after.accepted - before.accepted).toBe(1);
  });

  it('drops a redelivery by Idempotency-Key: same receipt, counted once as received, once as duplicate', async () => {
    const id = 'city-real-estate-registration';
    const kase = newCase();
    const before = sims.stats()[id];
    const first = await submit(id, kase);
    const again = await submit(id, kase);
    expect(first.success).toBe(true);
    expect(again.success).toBe(true);
    expect(again.receiptNo).toBe(first.receiptNo);
    const after = sims.stats()[id];
    expect(after.received - before.received).toBe(1);
    expect(after.accepted - before.accepted).toBe(1);
    expect(after.duplicates - before.duplicates).toBe(1);
    // Without a key nothing can be recognised: each post is a new case.
    const a = await submit(id, kase, { key: null });
    const b = await submit(id, kase, { key: null });
    expect(a.receiptNo).not.toBe(b.receiptNo);
    const log = sims.requests(id);
    expect(log.filter((r) => r.idempotencyKey === `${kase.caseId}:${id}`).map((r) => r.outcome)).toEqual(['accepted', 'duplicate']);
    expect(log.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('answers HTTP 500 at failureRate 1, and takes the retry of the same key afterwards', async () => {
    const id = 'prov-education';
    const kase = newCase();
    sims.setFaults(id, { failureRate: 1 });
    const before = sims.stats()[id];
    const failed = await submit(id, kase);
    expect(failed.status).toBe(500);
    expect(failed.success).toBe(false);
    expect(sims.stats()[id].failed - before.failed).toBe(1);
    sims.setFaults(id, { failureRate: 0 });
    const retried = await submit(id, kase);
    expect(retried.success).toBe(true);
    expect(sims.stats()[id].duplicates).toBe(before.duplicates);
  });

  it('refuses in the dialect on the SIM-REJECT marker and asks for a retry on SIM-RETRY', async () => {
    for (const id of Object.values(BY_DIALECT)) {
      const before = sims.stats()[id];
      const refused = await submit(id, newCase({ itemName: '出具房改核查证明 SIM-REJECT' }));
      expect({ id, status: refused.status, success: refused.success, retryable: refused.retryable }).toEqual({
        id,
        status: 200,
        success: false,
        retryable: false,
      });
      expect(refused.error).toEqual(expect.stringContaining('材料不齐全'));
      const busy = await submit(id, newCase({ caseId: `QZ-SIM-RETRY-${id}` }));
      expect({ id, success: busy.success, retryable: busy.retryable }).toEqual({ id, success: false, retryable: true });
      const after = sims.stats()[id];
      expect(after.rejected - before.rejected).toBe(1);
      expect(after.failed - before.failed).toBe(1);
    }
  });

  it('takes fault knobs over HTTP and says clearly what is wrong with bad ones', async () => {
    const id = 'prov-justice';
    const set = await control(id, JSON.stringify({ rejectRate: 1 }));
    expect(set).toEqual({ status: 200, json: { systemId: id, faults: { failureRate: 0, rejectRate: 1, latencyMs: 0, down: false } } });
    const refused = await submit(id, newCase());
    expect(refused.success).toBe(false);
    expect(refused.error).toBe('材料不齐全，请补充后重新提交');
    expect(await control(id, '{"rejectRate": 0}')).toMatchObject({ status: 200 });
    expect((await submit(id, newCase())).success).toBe(true);

    const outOfRange = await control(id, '{"failureRate": 2}');
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.json).toMatchObject({ error: { code: 'invalid_faults', details: [{ path: 'failureRate' }] } });
    const unknownKey = await control(id, '{"explode": true}');
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.json).toMatchObject({ error: { code: 'invalid_faults' } });
    expect(await control(id, 'not json')).toMatchObject({ status: 400, json: { error: { code: 'invalid_json' } } });
    expect(await control(id, '[1]')).toMatchObject({ status: 400, json: { error: { code: 'invalid_faults' } } });
    expect(await control('prov-nowhere', '{"down": true}')).toMatchObject({ status: 404, json: { error: { code: 'unknown_system' } } });

    const current = await fetch(`${sims.url}/sim/_control/${id}`);
    expect(await current.json()).toEqual({ systemId: id, faults: { failureRate: 0, rejectRate: 0, latencyMs: 0, down: false } });
    expect(() => sims.setFaults(id, { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => sims.setFaults('prov-nowhere', {})).toThrow(/prov-nowhere/);
  });

  it('waits latencyMs before answering', async () => {
    const id = 'prov-forestry';
    sims.setFaults(id, { latencyMs: 300 });
    const started = Date.now();
    expect((await submit(id, newCase())).success).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    sims.setFaults(id, { latencyMs: 0 });
  });

  it('drops the connection while down', async () => {
    const id = 'prov-sports';
    sims.setFaults(id, { down: true });
    const before = sims.stats()[id];
    await expect(submit(id, newCase())).rejects.toThrow();
    expect(sims.stats()[id].failed - before.failed).toBe(1);
    sims.setFaults(id, { down: false });
    expect((await submit(id, newCase())).success).toBe(true);
  });

  it('answers 404 JSON for an unknown system and a dialect refusal for a malformed body', async () => {
    const res = await fetch(`${sims.url}/sim/prov-nowhere/cases`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_system' } });
    const malformed = await submit('city-urban-management', newCase(), { rawBody: '{"wbbh": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.success).toBe(false);
    expect(malformed.error).toBe('报文格式错误');
  });
});

describe('a simulated system with HMAC-signed requests', () => {
  let dir: string;
  let signed: Simulators;
  const secret = 'test-hmac-secret';

  beforeAll(async () => {
    // A one-system config: the shipped one has no hmac system, a later one may.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sim-hmac-'));
    fs.mkdirSync(path.join(dir, 'systems'));
    fs.writeFileSync(path.join(dir, 'routes.yaml'), 'routes:\n  - itemCode: "330800-*"\n    targets: [city-signed]\n');
    fs.writeFileSync(
      path.join(dir, 'systems', 'city-signed.yaml'),
      [
        'id: city-signed',
        'name: 签名测试系统',
        'level: city',
        'protocol: rest',
        'endpoint: http://127.0.0.1:9100/sim/city-signed/cases',
        'auth: { type: hmac, secret: "${SIGNED_SECRET}" }',
        'request: { body: \'{"ywh": caseId}\' }',
        'response: { success: \'code = "0"\', receiptNo: data.slbh, error: msg, retryable: \'code = "9"\' }',
        'result: { mode: push, map: \'{"caseId": ywh, "outcome": "approved"}\' }',
        '',
      ].join('\n'),
    );
    signed = await startSimulators({ configDir: dir, port: 0, env: { SIGNED_SECRET: secret } });
  });

  afterAll(async () => {
    await signed?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function post(body: string, timestamp: number, key: string): Promise<number> {
    const signature = 'sha256=' + crypto.createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
    const res = await fetch(`${signed.url}/sim/city-signed/cases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ow-timestamp': String(timestamp), 'x-ow-signature': signature },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('accepts a request signed over timestamp.body and refuses a bad or stale signature', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ ywh: 'QZ-HMAC-000001', sxmc: '签名测试' });
    expect(await post(body, now, secret)).toBe(200);
    expect(await post(body, now, 'another-secret')).toBe(401);
    expect(await post(body, now - 3600, secret)).toBe(401);
    expect(signed.stats()['city-signed']).toMatchObject({ received: 3, accepted: 1, failed: 2 });
  });
});
