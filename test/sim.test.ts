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
import { dialectOf, type Dialect } from '../sim/dialects';
import { demoEnv, samplePersonCase } from '../sim/samples';
import type { ProtocolSimulator } from '../sim/protocol';
import { restSimulator } from '../sim/rest';
import { DEFAULT_FAULTS, startSimulators, type Simulators } from '../sim/server';

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
  const body = opts.rawBody ?? JSON.stringify(await jsonata(s.request!.body).evaluate(kase));
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
    success: await evaluate(s.response!.success, json),
    receiptNo: await evaluate(s.response!.receiptNo, json),
    error: await evaluate(s.response!.error, json),
    retryable: await evaluate(s.response!.retryable, json),
  };
}

async function control(systemId: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sims.url}/sim/_control/${systemId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: await res.json() };
}

const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
  .format(new Date())
  .replace(/-/g, '');

/**
 * The shipped REST systems (the ones this suite drives; SOAP and XML systems have their own
 * simulators and tests), and the first of them in each reply dialect.
 */
const restSystems = (): SystemConfig[] => [...config.systems.values()].filter((s) => s.protocol === 'rest');
const byDialect: Partial<Record<Dialect['name'], string>> = {};

/** What an accepted reply looks like in each dialect. */
const ENVELOPES: Record<Dialect['name'], unknown> = {
  A: { code: '0', msg: '成功', data: { slbh: expect.stringMatching(/^(GJ|ZJ|QZ)[A-Z]{2,4}\d{13}$/) } },
  B: { resultCode: '00', resultMsg: '受理成功', result: { acceptNo: expect.any(String) } },
  C: { success: true, errcode: 0, errmsg: '', ywlsh: expect.any(String) },
  D: { head: { rtnCode: '000000', rtnMsg: '成功' }, body: { sblsh: expect.any(String) } },
};

beforeAll(async () => {
  config = loadConfig(CONFIG_DIR, ENV);
  for (const s of restSystems()) byDialect[(await dialectOf(s)).name] ??= s.id;
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

  it('accepts a mapped case for every REST system, in a reply its response expressions read', async () => {
    expect(restSystems().length).toBeGreaterThanOrEqual(20);
    for (const { id } of restSystems()) {
      const reply = await submit(id, newCase());
      expect({ id, status: reply.status, success: reply.success }).toEqual({ id, status: 200, success: true });
      expect(reply.receiptNo).toEqual(expect.stringMatching(new RegExp(`^(GJ|ZJ|QZ)[A-Z]{2,4}${today}\\d{5}$`)));
      expect(reply.retryable === undefined || reply.retryable === false).toBe(true);
    }
  });

  it('answers each dialect in its own envelope', async () => {
    // A, B and C are spoken by REST systems for good; D (head/body) by national ones, which may move to SOAP.
    expect(Object.keys(byDialect)).toEqual(expect.arrayContaining(['A', 'B', 'C']));
    expect(byDialect.A).toBe('city-housing-reform');
    for (const [dialect, id] of Object.entries(byDialect) as Array<[Dialect['name'], string]>) {
      expect({ dialect, json: (await submit(id, newCase())).json }).toEqual({ dialect, json: ENVELOPES[dialect] });
    }
    expect((await submit('city-housing-reform', newCase())).json).toMatchObject({ data: { slbh: expect.stringMatching(/^QZHR\d{13}$/) } });
  });

  it('checks bearer and basic credentials (401 when missing or wrong)', async () => {
    const guarded = restSystems().filter((s) => s.auth.type === 'bearer' || s.auth.type === 'basic');
    expect(guarded.map((s) => s.id)).toContain('city-housing-reform');
    for (const s of guarded) {
      const before = sims.stats()[s.id];
      const wrong = s.auth.type === 'basic' ? 'Basic d3Jvbmc6d3Jvbmc=' : 'Bearer wrong';
      expect({ id: s.id, status: (await submit(s.id, newCase(), { headers: { authorization: wrong } })).status }).toEqual({ id: s.id, status: 401 });
      expect({ id: s.id, status: (await submit(s.id, newCase(), { headers: { authorization: '' } })).status }).toEqual({ id: s.id, status: 401 });
      expect((await submit(s.id, newCase())).success).toBe(true);
      const after = sims.stats()[s.id];
      expect(after.failed - before.failed).toBe(2);
      expect(after.accepted - before.accepted).toBe(1);
    }
  });

  it('drops a redelivery by Idempotency-Key: same receipt, counted once as received, once as duplicate', async () => {
    const id = 'prov-housing-construction';
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
    const id = 'prov-drug-administration';
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
    for (const id of Object.values(byDialect)) {
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
    expect(set).toEqual({ status: 200, json: { systemId: id, faults: { ...DEFAULT_FAULTS, rejectRate: 1 } } });
    expect(DEFAULT_FAULTS).toEqual({ failureRate: 0, rejectRate: 0, latencyMs: 0, down: false, decisionDelayMs: 500, outcomeMix: { rejected: 0, need_more: 0 } });
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
    expect(await current.json()).toEqual({ systemId: id, faults: DEFAULT_FAULTS });
    expect(() => sims.setFaults(id, { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => sims.setFaults('prov-nowhere', {})).toThrow(/prov-nowhere/);

    // The decision knobs sit next to the faults; outcomeMix is merged key by key.
    const decision = await control(id, '{"decisionDelayMs": 2000, "outcomeMix": {"rejected": 0.25}}');
    expect(decision.json).toEqual({ systemId: id, faults: { ...DEFAULT_FAULTS, decisionDelayMs: 2000, outcomeMix: { rejected: 0.25, need_more: 0 } } });
    sims.setFaults(id, { outcomeMix: { need_more: 0.5 } });
    expect(sims.faults(id).outcomeMix).toEqual({ rejected: 0.25, need_more: 0.5 });
    expect(await control(id, '{"outcomeMix": {"need_more": 0.9}}')).toMatchObject({ status: 400, json: { error: { code: 'invalid_faults', details: [{ path: 'outcomeMix' }] } } });
    expect(await control(id, '{"decisionDelayMs": 600001}')).toMatchObject({ status: 400, json: { error: { details: [{ path: 'decisionDelayMs' }] } } });
    expect(await control(id, '{"outcomeMix": {"approved": 1}}')).toMatchObject({ status: 400, json: { error: { code: 'invalid_faults' } } });
    sims.setFaults(id, { decisionDelayMs: 500, outcomeMix: { rejected: 0, need_more: 0 } });
    expect(sims.faults(id)).toEqual(DEFAULT_FAULTS);
  });

  it('waits latencyMs before answering', async () => {
    const id = 'prov-ecology-environment';
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
    const malformed = await submit('prov-civil-air-defense', newCase(), { rawBody: '{"sbh": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.success).toBe(false);
    expect(malformed.error).toBe('报文格式错误');
  });
});

describe('simulated systems with HMAC-signed requests and basic credentials', () => {
  let dir: string;
  let signed: Simulators;
  const secret = 'test-hmac-secret';

  beforeAll(async () => {
    // A one-system config: the shipped one has no hmac system, a later one may.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sim-hmac-'));
    fs.mkdirSync(path.join(dir, 'systems'));
    fs.writeFileSync(path.join(dir, 'routes.yaml'), 'routes:\n  - itemCode: "330800-*"\n    targets: [city-signed, city-basic]\n');
    fs.writeFileSync(
      path.join(dir, 'systems', 'city-basic.yaml'),
      [
        'id: city-basic',
        'name: 基本认证测试系统',
        'level: city',
        'protocol: rest',
        'endpoint: http://127.0.0.1:9100/sim/city-basic/cases',
        'auth: { type: basic, username: ow, password: "${BASIC_PASSWORD}" }',
        'request: { body: \'{"ywh": caseId}\' }',
        'response: { success: \'code = "0"\', receiptNo: data.slbh, error: msg }',
        'result: { mode: push, map: \'{"caseId": ywh, "outcome": "approved"}\' }',
        '',
      ].join('\n'),
    );
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
    signed = await startSimulators({ configDir: dir, port: 0, env: { SIGNED_SECRET: secret, BASIC_PASSWORD: 'pw' } });
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

  it('accepts the right basic credentials only', async () => {
    const post = async (authorization?: string): Promise<number> => {
      const res = await fetch(`${signed.url}/sim/city-basic/cases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: '{"ywh": "QZ-BASIC-000001"}',
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await post(`Basic ${Buffer.from('ow:pw').toString('base64')}`)).toBe(200);
    expect(await post(`Basic ${Buffer.from('ow:wrong').toString('base64')}`)).toBe(401);
    expect(await post()).toBe(401);
    expect(signed.stats()['city-basic']).toMatchObject({ received: 3, accepted: 1, failed: 2 });
  });
});

describe('the protocol seam: a core for every system, routes from the registered protocol simulators', () => {
  let dir: string;
  let mixed: Simulators;
  const seen: string[] = [];
  const pushed: Array<{ systemId: string; body: Record<string, unknown>; gatewayUrl: string }> = [];

  /** A stand-in SOAP simulator: JSON on the wire, verdicts from the core, pushes recorded. */
  const fakeSoap: ProtocolSimulator = {
    protocol: 'soap',
    mount(app, _server, ctx) {
      seen.push(...ctx.systems.map((s) => s.id));
      app.post('/sim/:systemId/fake-soap', async (req, res, next) => {
        if (!ctx.systems.some((s) => s.id === req.params.systemId)) return next();
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const verdict = await ctx.submit({
          systemId: req.params.systemId,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          idempotencyKey: req.get('idempotency-key'),
          authorized: true,
          headers: { 'idempotency-key': req.get('idempotency-key') ?? '', authorization: 'secret' },
        });
        if (verdict.kind === 'down') return void req.socket.destroy();
        res.json(verdict);
      });
    },
    async push(system, body, gatewayUrl) {
      pushed.push({ systemId: system.id, body, gatewayUrl });
    },
  };

  const systemFile = (id: string, protocol: string, extra: string[] = []): string =>
    [
      `id: ${id}`,
      `name: ${id} 测试系统`,
      'level: city',
      `protocol: ${protocol}`,
      `endpoint: http://127.0.0.1:9100/sim/${id}/cases`,
      ...extra,
      'request: { body: \'{"ywh": caseId, "sxmc": itemName}\' }',
      'response: { success: \'code = "0"\', receiptNo: data.slbh, error: msg }',
      'result:',
      '  mode: push',
      '  inboundToken: t',
      '  map: \'{"caseId": ywh, "receiptNo": slbh, "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more"}, jg), "message": yj}\'',
      '',
    ].join('\n');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sim-seam-'));
    fs.mkdirSync(path.join(dir, 'systems'));
    fs.writeFileSync(path.join(dir, 'routes.yaml'), 'routes:\n  - itemCode: "330800-*"\n    targets: [city-r, city-s, city-x]\n');
    fs.writeFileSync(path.join(dir, 'systems', 'city-r.yaml'), systemFile('city-r', 'rest'));
    fs.writeFileSync(path.join(dir, 'systems', 'city-s.yaml'), systemFile('city-s', 'soap', ['soap: { wsdl: ./x.wsdl, service: S, port: P, operation: SubmitCase }']));
    fs.writeFileSync(path.join(dir, 'systems', 'city-x.yaml'), systemFile('city-x', 'xml', ['xml: { root: Request }']));
    mixed = await startSimulators({ configDir: dir, port: 0, env: {}, protocols: [restSimulator, fakeSoap], defaults: { decisionDelayMs: 0 }, gatewayUrl: 'http://127.0.0.1:1' });
  });

  afterAll(async () => {
    await mixed?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function soapPost(body: unknown, key: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${mixed.url}/sim/city-s/fake-soap`, { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  }

  it('mounts each protocol with its own systems only, and keeps state and knobs for all of them', async () => {
    expect(seen).toEqual(['city-s']);
    expect(Object.keys(mixed.stats()).sort()).toEqual(['city-r', 'city-s', 'city-x']);
    const put = await fetch(`${mixed.url}/sim/_control/city-x`, { method: 'PUT', body: '{"latencyMs": 5}' });
    expect(await put.json()).toEqual({ systemId: 'city-x', faults: { ...DEFAULT_FAULTS, decisionDelayMs: 0, latencyMs: 5 } });
    expect(mixed.faults('city-s').decisionDelayMs).toBe(0);
    // An xml system has no simulator registered here: no routes, and a 404 that says why.
    const xml = await fetch(`${mixed.url}/sim/city-x/cases`, { method: 'POST', body: '{}' });
    expect(xml.status).toBe(404);
    expect(await xml.json()).toMatchObject({ error: { code: 'not_simulated', message: expect.stringContaining('xml') } });
    // The REST simulator leaves a SOAP system's path alone.
    expect((await fetch(`${mixed.url}/sim/city-s/cases`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('gives another protocol the same verdicts, idempotency and counters as REST, and pushes through it', async () => {
    const first = await soapPost({ ywh: 'QZ-SEAM-1', sxmc: 'x' }, 'QZ-SEAM-1:city-s');
    expect(first).toEqual({ kind: 'accepted', receiptNo: expect.stringMatching(/^QZS\d{13}$/) });
    expect(await soapPost({ ywh: 'QZ-SEAM-1', sxmc: 'x' }, 'QZ-SEAM-1:city-s')).toEqual({ kind: 'duplicate', receiptNo: first.receiptNo });
    expect(await soapPost({ ywh: 'QZ-SEAM-2', sxmc: 'SIM-REJECT' }, 'QZ-SEAM-2:city-s')).toEqual({ kind: 'refused', message: expect.any(String) });
    mixed.setFaults('city-s', { down: true });
    await expect(soapPost({ ywh: 'QZ-SEAM-3' }, 'QZ-SEAM-3:city-s')).rejects.toThrow();
    mixed.setFaults('city-s', { down: false });
    expect(mixed.stats()['city-s']).toMatchObject({ received: 3, accepted: 1, duplicates: 1, rejected: 1, failed: 1 });
    expect(mixed.requests('city-s').every((r) => r.headers.authorization === undefined)).toBe(true);

    // Decided at once (decisionDelayMs 0), and pushed with the SOAP simulator's push.
    for (let i = 0; i < 50 && pushed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pushed).toEqual([{ systemId: 'city-s', gatewayUrl: 'http://127.0.0.1:1', body: { ywh: 'QZ-SEAM-1', slbh: first.receiptNo, jg: '1', yj: '准予许可' } }]);
    expect(mixed.stats()['city-s']).toMatchObject({ decided: 1, pushed: 1, pushFailed: 0 });
    expect(mixed.results('city-s')).toEqual([expect.objectContaining({ caseId: 'QZ-SEAM-1', receiptNo: first.receiptNo, outcome: 'approved', state: 'decided', push: 'pushed' })]);
  });
});
