/**
 * Simulated decisions coming home: the push bodies the simulators build from each system's own
 * `result.map`, pushed over real HTTP to a stand-in gateway, and the answers of polled systems.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import jsonata from 'jsonata';
import { loadConfig, type GatewayConfig } from '../src/config/loader';
import type { Auth, SystemConfig } from '../src/config/schema';
import type { Case } from '../src/cases/model';
import { ResultReceiver } from '../src/results/receiver';
import { POLL_DONE, POLL_PENDING, PUSH_RETRY_DELAYS_MS } from '../sim/core';
import { synthesizeResultBody, type IntendedResult, type ResultOutcome } from '../sim/results';
import { demoEnv, demoResultToken, samplePersonCase } from '../sim/samples';
import { startSimulators, type Simulators } from '../sim/server';

const CONFIG_DIR = path.join(__dirname, '..', 'config');
const ENV = demoEnv();
const DECISION_DELAY_MS = 300;
const WANTED: ResultOutcome[] = ['approved', 'rejected', 'need_more', 'info'];

let config: GatewayConfig;

function system(id: string): SystemConfig {
  const s = config.systems.get(id);
  if (!s) throw new Error(`no system ${id} in the shipped config`);
  return s;
}

const pushSystems = (): SystemConfig[] => [...config.systems.values()].filter((s) => s.result!.mode === 'push');
const pollSystems = (): SystemConfig[] => [...config.systems.values()].filter((s) => s.result!.mode === 'poll');

async function evaluate(expression: string, input: unknown): Promise<Record<string, unknown>> {
  return (await jsonata(expression).evaluate(input)) as Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(() => {
  config = loadConfig(CONFIG_DIR, ENV);
});

describe('push bodies built from result.map', () => {
  // The gateway's own reading of a pushed body: result.map, then its schema of a mapped result.
  const receiver = (): ResultReceiver => new ResultReceiver({ config: () => config, store: undefined as never, log: undefined as never });

  it('fit every shipped push system, for every outcome, as the gateway reads them', async () => {
    expect(pushSystems().length).toBeGreaterThanOrEqual(30);
    const decidedAt = new Date('2026-11-28T09:30:05.000Z');
    const problems: string[] = [];
    for (const s of pushSystems()) {
      for (const outcome of WANTED) {
        const intended: IntendedResult = { caseId: `QZ-PUSH-${outcome}`, receiptNo: 'ZJAR2026112800007', outcome, message: '审批意见', decidedAt };
        // SOAP arguments and XML text reach result.map as strings.
        const built = await synthesizeResultBody(s.result!.map, intended, { stringsOnly: s.protocol !== 'rest' });
        if (!built.ok) {
          problems.push(`${s.id} (${s.protocol}) ${outcome}: ${built.reason}`);
          continue;
        }
        // Only what a real system would send: JSON, no undefined, no functions.
        expect(JSON.parse(JSON.stringify(built.body))).toEqual(built.body);
        const mapped = await evaluate(s.result!.map, built.body);
        expect({ system: s.id, caseId: mapped.caseId, receiptNo: mapped.receiptNo, outcome: mapped.outcome, message: mapped.message }).toEqual({
          system: s.id,
          caseId: intended.caseId,
          receiptNo: intended.receiptNo,
          outcome,
          message: '审批意见',
        });
        if (mapped.decidedAt !== undefined) expect({ system: s.id, at: Date.parse(String(mapped.decidedAt)) }).toEqual({ system: s.id, at: decidedAt.getTime() });
        expect(await receiver().map(s, built.body)).toMatchObject({ caseId: intended.caseId, receiptNo: intended.receiptNo, outcome });
      }
    }
    expect(problems).toEqual([]);
  });

  it('fit every shipped polled system: its poll reply says done and maps to the result', async () => {
    for (const s of pollSystems()) {
      const poll = s.result!.poll!;
      expect(await jsonata(poll.until).evaluate(POLL_PENDING)).not.toBe(true);
      for (const outcome of WANTED) {
        const built = await synthesizeResultBody(poll.map ?? s.result!.map, { caseId: 'QZ-POLL-1', receiptNo: 'R-1', outcome, decidedAt: new Date() }, { seed: POLL_DONE, idsKnown: true });
        expect({ system: s.id, outcome, problem: built.ok ? undefined : built.reason }).toEqual({ system: s.id, outcome, problem: undefined });
        if (!built.ok) continue;
        expect({ system: s.id, done: await jsonata(poll.until).evaluate(built.body) }).toEqual({ system: s.id, done: true });
        expect((await evaluate(poll.map ?? s.result!.map, built.body)).outcome).toBe(outcome);
      }
    }
  });

  it('solve lookups, numeric conditions, date conversions and a path prefix, and refuse what no body can satisfy', async () => {
    const decidedAt = new Date('2026-11-28T01:30:00.000Z');
    const conditional = await synthesizeResultBody(
      '{"caseId": lsh, "outcome": status = 1 ? "approved" : status = 3 ? "need_more" : "rejected", "decidedAt": handleTime ? $fromMillis(handleTime, "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z01:01]", "+0800")}',
      { caseId: 'QZ-1', outcome: 'need_more', decidedAt },
    );
    expect(conditional).toMatchObject({ ok: true, body: { lsh: 'QZ-1', status: 3, handleTime: decidedAt.getTime() }, mapped: { decidedAt: '2026-11-28T09:30:00+08:00' } });
    const rejected = await synthesizeResultBody('{"caseId": lsh, "outcome": status = 1 ? "approved" : "rejected"}', { caseId: 'QZ-1', outcome: 'rejected' });
    expect(rejected).toMatchObject({ ok: true, body: { status: 0 } });

    const prefixed = await synthesizeResultBody('data.{"caseId": ywh, "receiptNo": slbh, "outcome": $lookup({"Y": "approved", "N": "rejected"}, jg)}', {
      caseId: 'QZ-2',
      receiptNo: 'R2',
      outcome: 'rejected',
    });
    expect(prefixed).toMatchObject({ ok: true, body: { data: { ywh: 'QZ-2', slbh: 'R2', jg: 'N' } } });

    // SOAP arguments and XML text are strings: a map comparing with a number cannot read them.
    const strings = await synthesizeResultBody('{"caseId": lsh, "outcome": $lookup({"1": "approved", "0": "rejected"}, jg), "decidedAt": wcsj}', { caseId: 'QZ-1', outcome: 'rejected', decidedAt }, { stringsOnly: true });
    expect(strings).toMatchObject({ ok: true, body: { lsh: 'QZ-1', jg: '0', wcsj: '2026-11-28T09:30:00+08:00' } });
    const numeric = '{"caseId": lsh, "outcome": status = 1 ? "approved" : "rejected"}';
    expect(await synthesizeResultBody(numeric, { caseId: 'QZ-1', outcome: 'approved' }, { stringsOnly: true })).toMatchObject({ ok: false, reason: expect.stringContaining('instead of "approved"') });
    expect(await synthesizeResultBody(numeric.replace('status = 1', '$number(status) = 1'), { caseId: 'QZ-1', outcome: 'approved' }, { stringsOnly: true })).toMatchObject({ ok: true, body: { status: '1' } });

    const impossible = await synthesizeResultBody('{"caseId": ywh, "outcome": "approved"}', { caseId: 'QZ-3', outcome: 'rejected' });
    expect(impossible).toEqual({ ok: false, reason: expect.stringContaining('outcome "approved" instead of "rejected"') });
    expect(await synthesizeResultBody('$merge([{"outcome": "approved"}, $])', { caseId: 'QZ-4', outcome: 'approved' })).toEqual({ ok: false, reason: expect.stringContaining('object constructor') });
    // No case id and no receipt number in the map: the gateway could not place the result.
    expect(await synthesizeResultBody('{"outcome": $lookup({"1": "approved"}, jg)}', { caseId: 'QZ-5', outcome: 'approved' })).toEqual({ ok: false, reason: expect.stringContaining('neither') });
  });
});

interface Received {
  at: number;
  path: string;
  authorization?: string;
  contentType?: string;
  body: Record<string, unknown>;
}

/** A tiny real HTTP server standing in for the gateway's results endpoint. */
async function fakeGateway(answer: (r: Received) => number): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        at: Date.now(),
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      };
      received.push(r);
      const status = answer(r);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status < 300 ? { accepted: true } : { error: { code: 'x', message: 'no' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function authHeaders(auth: Auth): Record<string, string> {
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}` };
  if (auth.type === 'basic') return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  return {};
}

describe('decided cases coming home from the simulators', () => {
  let sims: Simulators;
  let gateway: Awaited<ReturnType<typeof fakeGateway>>;
  const logged: string[] = [];
  /** Case ids the stand-in gateway answers with these statuses, in turn, before 200. */
  const scripted = new Map<string, number[]>();
  let seq = 0;

  function newCase(overrides: Partial<Case> = {}): Case {
    seq += 1;
    return samplePersonCase({ caseId: `QZ-RESULT-${String(seq).padStart(6, '0')}`, ...overrides });
  }

  /** Submits a case as the gateway's REST adapter would; answers the receipt number. */
  async function deliver(systemId: string, kase: Case): Promise<string> {
    const s = system(systemId);
    const res = await fetch(`${sims.url}/sim/${systemId}/cases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${kase.caseId}:${systemId}`, ...authHeaders(s.auth) },
      body: JSON.stringify(await jsonata(s.request!.body).evaluate(kase)),
    });
    const reply: unknown = await res.json();
    expect(await jsonata(s.response!.success).evaluate(reply)).toBe(true);
    return String(await jsonata(s.response!.receiptNo!).evaluate(reply));
  }

  beforeAll(async () => {
    gateway = await fakeGateway((r) => {
      const caseId = Object.values(r.body).find((v) => typeof v === 'string' && scripted.has(v)) as string | undefined;
      const statuses = caseId === undefined ? undefined : scripted.get(caseId);
      return statuses?.shift() ?? 200;
    });
    sims = await startSimulators({ configDir: CONFIG_DIR, port: 0, env: ENV, defaults: { decisionDelayMs: DECISION_DELAY_MS }, log: (line) => logged.push(line) });
    // As the demo does: the simulators start first, the gateway's address is known later.
    sims.setGatewayUrl(gateway.url);
  });

  afterAll(async () => {
    await sims?.close();
    await gateway?.close();
  });

  const pushesOf = (caseId: string): Received[] => gateway.received.filter((r) => JSON.stringify(r.body).includes(`"${caseId}"`));

  it('pushes a decided case to the gateway after decisionDelayMs, with the bearer inbound token, in a body result.map reads', async () => {
    const id = 'city-housing-reform';
    const s = system(id);
    expect(s.result!.inboundToken).toBe(demoResultToken(id));
    const before = sims.stats()[id];
    const kase = newCase();
    const acceptedAt = Date.now();
    const receiptNo = await deliver(id, kase);
    expect(sims.results(id).find((r) => r.receiptNo === receiptNo)).toMatchObject({ caseId: kase.caseId, state: 'pending' });

    const [push] = await until('the push', () => (pushesOf(kase.caseId).length ? pushesOf(kase.caseId) : undefined));
    expect(push!.at - acceptedAt).toBeGreaterThanOrEqual(DECISION_DELAY_MS - 20);
    expect(push!.path).toBe(`/api/v1/results/${id}`);
    // Each system pushes with its own token.
    expect(push!.authorization).toBe(`Bearer ${demoResultToken(id)}`);
    expect(push!.contentType).toMatch(/^application\/json/);
    expect(await evaluate(s.result!.map, push!.body)).toMatchObject({ caseId: kase.caseId, receiptNo, outcome: 'approved', message: '准予许可' });

    await until('the counters', () => (sims.stats()[id]!.pushed > before.pushed ? true : undefined));
    expect(sims.stats()[id]).toMatchObject({ decided: before.decided + 1, pushed: before.pushed + 1, pushFailed: before.pushFailed });
    expect(sims.results(id).find((r) => r.receiptNo === receiptNo)).toMatchObject({ state: 'decided', push: 'pushed', outcome: 'approved' });
  });

  it('decides rejected or need_more on the SIM-OUTCOME-* markers, whatever the reply dialect', async () => {
    const cases: Array<{ id: string; marker: string; outcome: ResultOutcome }> = [
      { id: 'prov-drug-administration', marker: 'SIM-OUTCOME-REJECTED', outcome: 'rejected' },
      { id: 'prov-housing-construction', marker: 'SIM-OUTCOME-NEED-MORE', outcome: 'need_more' },
      { id: 'prov-commerce', marker: 'SIM-OUTCOME-REJECTED', outcome: 'rejected' },
      { id: 'prov-emergency-management', marker: 'SIM-OUTCOME-NEED-MORE', outcome: 'need_more' },
      { id: 'city-housing-reform', marker: 'SIM-OUTCOME-REJECTED', outcome: 'rejected' },
    ];
    const sent = await Promise.all(
      cases.map(async (c) => {
        const kase = newCase({ itemName: `测试事项 ${c.marker}` });
        return { ...c, kase, receiptNo: await deliver(c.id, kase) };
      }),
    );
    for (const c of sent) {
      const [push] = await until(`the push of ${c.id}`, () => (pushesOf(c.kase.caseId).length ? pushesOf(c.kase.caseId) : undefined));
      // Each system pushes with its own token.
      expect(push!.authorization).toBe(`Bearer ${demoResultToken(c.id)}`);
      expect({ id: c.id, mapped: await evaluate(system(c.id).result!.map, push!.body) }).toMatchObject({
        id: c.id,
        mapped: { caseId: c.kase.caseId, receiptNo: c.receiptNo, outcome: c.outcome },
      });
    }
  });

  it('retries a push the gateway could not take, and gives up on one it refuses', async () => {
    const id = 'prov-justice';
    sims.setFaults(id, { decisionDelayMs: 0 });
    const busy = newCase();
    const refused = newCase();
    scripted.set(busy.caseId, [503]);
    scripted.set(refused.caseId, [401]);
    const before = sims.stats()[id]!;
    await deliver(id, busy);
    await deliver(id, refused);
    const tries = await until('the retried push', () => (pushesOf(busy.caseId).length >= 2 ? pushesOf(busy.caseId) : undefined), 5000);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(PUSH_RETRY_DELAYS_MS[0]! - 20);
    await until('the counters', () => (sims.stats()[id]!.pushed > before.pushed && sims.stats()[id]!.pushFailed > before.pushFailed ? true : undefined));
    expect(pushesOf(refused.caseId)).toHaveLength(1);
    expect(sims.stats()[id]).toMatchObject({ pushed: before.pushed + 1, pushFailed: before.pushFailed + 1 });
    expect(logged).toContainEqual(expect.stringMatching(new RegExp(`${id} ${refused.caseId}: result push gave up after 1 try: .*HTTP 401`)));
    sims.setFaults(id, { decisionDelayMs: DECISION_DELAY_MS });
  });

  it('decides but pushes nothing while no gateway URL is known', async () => {
    const id = 'prov-finance';
    sims.setFaults(id, { decisionDelayMs: 0 });
    sims.setGatewayUrl(undefined);
    try {
      const before = sims.stats()[id]!;
      const kase = newCase();
      await deliver(id, kase);
      await until('the decision', () => (sims.stats()[id]!.decided > before.decided ? true : undefined));
      await sleep(100);
      expect(pushesOf(kase.caseId)).toEqual([]);
      expect(sims.stats()[id]).toMatchObject({ pushed: before.pushed, pushFailed: before.pushFailed });
    } finally {
      sims.setGatewayUrl(gateway.url);
      sims.setFaults(id, { decisionDelayMs: DECISION_DELAY_MS });
    }
  });

  it('answers a polled system\'s result "pending", then "done" after decisionDelayMs, at its configured poll endpoint', async () => {
    const polled = pollSystems();
    expect(polled.length).toBeGreaterThanOrEqual(6);
    for (const s of polled) {
      const poll = s.result!.poll!;
      expect(poll.endpoint).toBe(`http://127.0.0.1:9100/sim/${s.id}/results/{receiptNo}`);
      const kase = newCase({ itemName: `测试事项 ${s.id === polled[0]!.id ? 'SIM-OUTCOME-NEED-MORE' : ''}` });
      const receiptNo = await deliver(s.id, kase);
      const url = poll.endpoint.replace('http://127.0.0.1:9100', sims.url).replace('{receiptNo}', encodeURIComponent(receiptNo));
      const ask = async (): Promise<unknown> => {
        const res = await fetch(url, { method: poll.method, headers: { 'idempotency-key': `${kase.caseId}:${s.id}`, ...authHeaders(s.auth) } });
        expect(res.status).toBe(200);
        return res.json();
      };
      const early = await ask();
      expect({ system: s.id, early, done: await jsonata(poll.until).evaluate(early) }).toEqual({ system: s.id, early: POLL_PENDING, done: false });
      const late = await until(`the decision of ${s.id}`, async () => {
        const reply = await ask();
        return (await jsonata(poll.until).evaluate(reply)) === true ? reply : undefined;
      });
      const mapped = await evaluate(poll.map ?? s.result!.map, late);
      expect({ system: s.id, ...mapped }).toMatchObject({ system: s.id, outcome: s.id === polled[0]!.id ? 'need_more' : 'approved' });
      if (mapped.caseId !== undefined) expect(mapped.caseId).toBe(kase.caseId);
      if (mapped.receiptNo !== undefined) expect(mapped.receiptNo).toBe(receiptNo);
      // A polled system pushes nothing.
      expect(pushesOf(kase.caseId)).toEqual([]);
    }
    const missing = await fetch(`${sims.url}/sim/${polled[0]!.id}/results/NO-SUCH-RECEIPT`);
    expect(missing.status).toBe(404);
    // A push system has no results to poll.
    expect((await fetch(`${sims.url}/sim/city-housing-reform/results/X`)).status).toBe(404);
  });

  it('shows the knobs and what each system decided over HTTP', async () => {
    const res = await fetch(`${sims.url}/sim/_results/city-housing-reform`);
    expect(res.status).toBe(200);
    const results = (await res.json()) as Array<Record<string, unknown>>;
    expect(results[0]).toMatchObject({ systemId: 'city-housing-reform', state: 'decided', outcome: 'approved', push: 'pushed' });
    const stats = (await (await fetch(`${sims.url}/sim/_stats`)).json()) as Record<string, Record<string, number>>;
    expect(stats['city-housing-reform']).toMatchObject({ decided: expect.any(Number), pushed: expect.any(Number), pushFailed: 0 });
    expect(logged.filter((l) => !l.includes('HTTP 401'))).toEqual([]);
  });
});
