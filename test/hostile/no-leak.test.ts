/**
 * No secret and no full ID or phone number leaves the gateway — not in a log line, an
 * error, a stored lastError or history entry, a callback, a dead letter, an unmatched result shown to
 * ops below admin, an audit entry or a metric — even when legacy systems echo the request back.
 * A mixed load of 60 cases over systems that accept, echo in refusals, echo in 500s until dead, and
 * decide with the applicant's numbers in their words; then every exit is read and scanned.
 */
import type { RunningGateway } from '../../src/gateway';
import {
  INTAKE_TOKEN, OPS_TOKEN, VIEWER_TOKEN, capturingLogger, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';
import { soapSystem } from '../soap/support';

const PEOPLE = [
  { idNumber: '330802199001011234', phone: '13800000000' },
  { idNumber: '33080219851212567X', phone: '13912345678' },
  { idNumber: '330821197703030011', phone: '15057001234' },
];
const SECRETS = ['echoed-outbound-token-1', 'result-token-of-city-decides', 'cb-secret-not-to-leak'];

async function read(gateway: { url: string }, path: string, token: string): Promise<string> {
  const res = await fetch(`${gateway.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return res.text();
}

describe('after a mixed load with echoing and failing legacy systems', () => {
  let legacy: LegacyServer;
  let callbacks: LegacyServer;
  let gateway: RunningGateway;
  const captured = capturingLogger();
  const caseIds: string[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((req, n, res) => {
      const echo = `${req.body} ${req.headers.authorization ?? ''}`;
      if (req.url.startsWith('/refuse')) return replyJson(res, 200, { code: '1', msg: `不予受理：${echo}` });
      if (req.url.startsWith('/fail')) {
        res.writeHead(500, { 'Content-Type': 'text/html' });
        return void res.end(`<pre>${echo}</pre>`);
      }
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } });
    });
    callbacks = await legacyServer((_req, _n, res) => replyJson(res, 200, { ok: true }));
    const body = { body: '{"bizNo": caseId, "sfzh": applicant.idNumber, "sjhm": applicant.phone, "xm": applicant.name}' };
    const dir = writeConfig(
      [
        restSystem('city-decides', `${legacy.url}/ok`, { request: body, result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj}', inboundToken: SECRETS[1] } }),
        restSystem('city-refuses', `${legacy.url}/refuse`, { request: body, auth: { type: 'bearer', token: SECRETS[0] } }),
        restSystem('city-fails', `${legacy.url}/fail`, { request: body, auth: { type: 'bearer', token: SECRETS[0] }, retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } }, circuitBreaker: { failureThreshold: 1000, cooldownMs: 100 }, rateLimit: { max: 200, perMs: 1000 } }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-decides', 'city-refuses', 'city-fails'] }] },
      { intake: { callbackUrl: `${callbacks.url}/cb`, callbackSecret: SECRETS[2] } },
    );
    gateway = await startTestGateway(dir, { log: captured.log });
    for (let i = 0; i < 60; i++) {
      const person = PEOPLE[i % PEOPLE.length]!;
      const c = sampleCase({ applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', ...person, address: '衢州市柯城区' } });
      caseIds.push(c.caseId as string);
      expect((await submit(gateway, c)).status).toBe(202);
    }
    await eventually(async () => {
      const views = await Promise.all(caseIds.map(async (id) => JSON.parse(await read(gateway, `/api/v1/cases/${id}`, INTAKE_TOKEN))));
      expect(views.every((v) => v.deliveries.every((d: { status: string }) => ['delivered', 'rejected', 'dead'].includes(d.status)))).toBe(true);
    }, 30_000);
    // Decisions that quote the applicant, and a result for a case nobody knows.
    for (const [i, id] of caseIds.entries()) {
      const person = PEOPLE[i % PEOPLE.length]!;
      await pushResult(gateway, 'city-decides', { ywh: id, yj: `已核查 ${person.idNumber}，联系电话 ${person.phone}` }, SECRETS[1]);
    }
    await pushResult(gateway, 'city-decides', { ywh: 'QZ-NOBODY-1', yj: `申请人 ${PEOPLE[0]!.idNumber}` }, SECRETS[1]);
    await eventually(async () => expect(callbacks.received.length).toBeGreaterThanOrEqual(caseIds.length * 3));
  }, 60_000);
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
    await callbacks.close();
  });

  function leaks(text: string): string[] {
    const found: string[] = [];
    for (const p of PEOPLE) for (const v of [p.idNumber, p.phone]) if (text.includes(v)) found.push(v);
    for (const s of SECRETS) if (text.includes(s)) found.push(s);
    return found;
  }

  it('then no log line, error, history entry, callback, dead letter, masked listing, audit entry or metric holds a full number or a secret', async () => {
    // What intake and admins see of lastError and history (results themselves are the system's decision, theirs in full).
    const views = await Promise.all(caseIds.map(async (id) => JSON.parse(await read(gateway, `/api/v1/cases/${id}`, OPS_TOKEN))));
    const errorsAndHistory = JSON.stringify(views.map((v) => v.deliveries.map((d: { lastError?: string; history: unknown }) => [d.lastError, d.history])));
    const exits: Record<string, string> = {
      'log lines': captured.lines.join('\n'),
      'lastError and history': errorsAndHistory,
      'case answers to a viewer': (await Promise.all(caseIds.map((id) => read(gateway, `/api/v1/cases/${id}`, VIEWER_TOKEN)))).join('\n'),
      'callbacks (error fields)': JSON.stringify(callbacks.received.map((r) => (r.json as { error?: string }).error)),
      'dead letters': await read(gateway, '/api/v1/admin/dead-letters?limit=500', OPS_TOKEN),
      'unmatched results to a viewer': await read(gateway, '/api/v1/admin/unmatched-results', VIEWER_TOKEN),
      'audit trail': await read(gateway, '/api/v1/admin/audit?limit=500', OPS_TOKEN),
      'systems board': await read(gateway, '/api/v1/admin/systems', VIEWER_TOKEN),
      metrics: await read(gateway, '/metrics', OPS_TOKEN),
    };
    // The scan can find something: the intake platform is told results in full, as the contract says.
    expect(leaks(await read(gateway, `/api/v1/cases/${caseIds[0]}`, INTAKE_TOKEN))).not.toEqual([]);
    expect(JSON.parse(exits['dead letters']!).items.length).toBeGreaterThan(0);
    expect(JSON.parse(exits['unmatched results to a viewer']!).items.length).toBe(1);
    for (const [exit, text] of Object.entries(exits)) expect({ exit, leaks: leaks(text), where: text.split('\n').filter((l) => leaks(l).length).slice(0, 2) }).toEqual({ exit, leaks: [], where: [] });
  });
});

describe('a system whose endpoint and WSDL URLs carry credentials, and cannot be reached', () => {
  // A password in the userinfo and a token in the query, on a loopback port nobody listens on.
  const URL_SECRETS = ['wsdl-pass-in-url', 'wsdl-query-token', 'endpoint-pass-in-url', 'endpoint-query-token'];
  let callbacks: LegacyServer;
  let gateway: RunningGateway;
  const captured = capturingLogger();
  let caseId: string;

  beforeAll(async () => {
    const closed = await legacyServer(() => undefined);
    const port = new URL(closed.url).port;
    await closed.close();
    callbacks = await legacyServer((_req, _n, res) => replyJson(res, 200, { ok: true }));
    const endpoint = `http://ow:${URL_SECRETS[2]}@127.0.0.1:${port}/case?access_token=${URL_SECRETS[3]}`;
    const dir = writeConfig(
      [
        soapSystem('prov-locked', endpoint, {
          soap: { wsdl: `http://ow:${URL_SECRETS[0]}@127.0.0.1:${port}/case?wsdl&token=${URL_SECRETS[1]}`, service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' },
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
        }),
        restSystem('city-locked', endpoint, { retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } } }),
      ],
      { routes: [{ itemCode: '*', targets: ['prov-locked', 'city-locked'] }] },
      { intake: { callbackUrl: `${callbacks.url}/cb`, callbackSecret: 'cb-secret-of-locked' } },
    );
    gateway = await startTestGateway(dir, { log: captured.log });
    const c = sampleCase();
    caseId = c.caseId as string;
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => {
      const view = JSON.parse(await read(gateway, `/api/v1/cases/${caseId}`, OPS_TOKEN));
      expect(view.deliveries.map((d: { status: string }) => d.status)).toEqual(['dead', 'dead']);
      expect(callbacks.received.filter((r) => (r.json as { event: string }).event === 'delivery.dead')).toHaveLength(2);
    }, 30_000);
  }, 60_000);
  afterAll(async () => {
    await gateway.stop();
    await callbacks.close();
  });

  it('then neither its password nor its query token reaches lastError, the history, dead letters, callbacks or the logs', async () => {
    const view = JSON.parse(await read(gateway, `/api/v1/cases/${caseId}`, OPS_TOKEN));
    const exits: Record<string, string> = {
      'lastError and history': JSON.stringify(view.deliveries.map((d: { lastError?: string; history: unknown }) => [d.lastError, d.history])),
      'dead letters': await read(gateway, '/api/v1/admin/dead-letters?limit=500', OPS_TOKEN),
      'callbacks (error fields)': JSON.stringify(callbacks.received.map((r) => (r.json as { error?: string }).error)),
      'systems board': await read(gateway, '/api/v1/admin/systems', VIEWER_TOKEN),
      'log lines': captured.lines.join('\n'),
    };
    // The failure is still told, with where it happened (the password and token masked).
    expect(view.deliveries.find((d: { systemId: string }) => d.systemId === 'prov-locked').lastError).toMatch(/the WSDL http:\/\/ow:\*\*\*@127\.0\.0\.1:\d+\/case\?wsdl.*could not be loaded/);
    expect(JSON.parse(exits['dead letters']!).items).toHaveLength(2);
    const found = (text: string) => URL_SECRETS.filter((s) => text.includes(s));
    for (const [exit, text] of Object.entries(exits)) expect({ exit, found: found(text), where: text.split('\n').filter((l) => found(l).length).slice(0, 2) }).toEqual({ exit, found: [], where: [] });
  });
});
