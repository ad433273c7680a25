/**
 * Callers and roles, as a table: every caller on every route is let through or
 * refused as its role says; strangers get 401 before anything else; failed authentications are
 * limited per address and audited; intake requests can be HMAC-signed with replays refused; and
 * ops below admin see ID and phone numbers masked.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { loadConfig } from '../../src/config/loader';
import type { RunningGateway } from '../../src/gateway';
import {
  INTAKE_TOKEN, OPERATOR_TOKEN, OPS_TOKEN, VIEWER_TOKEN, admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';

type Caller = 'stranger' | 'wrong' | 'legacy' | 'intake' | 'viewer' | 'operator' | 'admin';
const TOKEN: Record<Caller, string | undefined> = {
  stranger: undefined,
  wrong: 'not-a-token',
  legacy: 'housing-result-token',
  intake: INTAKE_TOKEN,
  viewer: VIEWER_TOKEN,
  operator: OPERATOR_TOKEN,
  admin: OPS_TOKEN,
};
const CALLERS = Object.keys(TOKEN) as Caller[];

/** Route → the callers let through (everyone else: 401 without a valid token, 403 with one). */
const ROUTES: Array<{ method: string; path: string; body?: unknown; allowed: Caller[] }> = [
  { method: 'POST', path: '/api/v1/cases', body: {}, allowed: ['intake'] },
  { method: 'GET', path: '/api/v1/cases/QZ-NO-SUCH', allowed: ['intake', 'viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/whoami', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/systems', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/systems/city-housing-reform', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/dead-letters', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/audit', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/unmatched-results', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'POST', path: '/api/v1/admin/systems/city-other/pause', body: {}, allowed: ['operator', 'admin'] },
  { method: 'POST', path: '/api/v1/admin/systems/city-other/resume', body: {}, allowed: ['operator', 'admin'] },
  { method: 'POST', path: '/api/v1/admin/dead-letters/replay', body: { systemId: 'city-other' }, allowed: ['operator', 'admin'] },
  { method: 'DELETE', path: '/api/v1/admin/dead-letters/city-other.QZ-NONE', body: { reason: 'x' }, allowed: ['operator', 'admin'] },
  { method: 'POST', path: '/api/v1/admin/unmatched-results/city-other.x/rematch', allowed: ['operator', 'admin'] },
  { method: 'PUT', path: '/api/v1/admin/systems/city-nowhere', body: {}, allowed: ['admin'] },
  { method: 'DELETE', path: '/api/v1/admin/systems/city-nowhere', body: {}, allowed: ['admin'] },
  { method: 'GET', path: '/api/v1/admin/routes', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/admin/routes/history', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'PUT', path: '/api/v1/admin/routes', body: {}, allowed: ['admin'] },
  { method: 'POST', path: '/api/v1/admin/routes/rollback', body: {}, allowed: ['admin'] },
  { method: 'POST', path: '/api/v1/admin/config/reload', body: {}, allowed: ['admin'] },
  { method: 'GET', path: '/api/v1/admin/no-such-thing', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/API/V1/ADMIN/SYSTEMS', allowed: ['viewer', 'operator', 'admin'] },
  { method: 'GET', path: '/api/v1/seal/keys', allowed: CALLERS },
];

/** A GET from a given loopback address (the gateway limits and audits per address). */
function statusFrom(localAddress: string, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, headers: { Authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

async function call(gateway: { url: string }, method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

describe('when each caller calls each route', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const result = { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj}', inboundToken: 'housing-result-token' };
    const dir = writeConfig(
      [restSystem('city-housing-reform', `${legacy.url}/cases`, { result }), restSystem('city-other', `${legacy.url}/other`)],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] },
      { limits: { failedAuthPerMinute: 1000 } },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  it.each(ROUTES)('then $method $path lets through exactly its roles', async ({ method, path, body, allowed }) => {
    for (const caller of CALLERS) {
      const { status } = await call(gateway, method, path, TOKEN[caller], body);
      const expected = allowed.includes(caller) ? 'through' : TOKEN[caller] && !['wrong', 'legacy'].includes(caller) ? 403 : 401;
      expect({ caller, status: expected === 'through' ? (status === 401 || status === 403 ? status : 'through') : status }).toEqual({ caller, status: expected });
    }
  });

  it('then GET /api/v1/admin/whoami answers each ops token its role', async () => {
    for (const caller of ['viewer', 'operator', 'admin'] as const) expect(await call(gateway, 'GET', '/api/v1/admin/whoami', TOKEN[caller])).toEqual({ status: 200, body: { role: caller } });
  });

  it('then ops below admin see ID and phone numbers masked in a case, intake and admin see them in full', async () => {
    const c = sampleCase();
    await submit(gateway, c);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    expect((await pushResult(gateway, 'city-housing-reform', { ywh: c.caseId, yj: '申请人 330802199001011234，电话 13800000000，已核查' }, 'housing-result-token')).status).toBe(200);
    const seen = async (caller: Caller) => JSON.stringify((await call(gateway, 'GET', `/api/v1/cases/${c.caseId}`, TOKEN[caller])).body);
    for (const caller of ['intake', 'admin'] as const) expect(await seen(caller)).toContain('330802199001011234');
    for (const caller of ['viewer', 'operator'] as const) {
      const text = await seen(caller);
      expect(text).not.toContain('330802199001011234');
      expect(text).not.toContain('13800000000');
      expect(text).toContain('330*************34');
    }
  });

  it('then a refused request is audited with the ID number in its path masked, however the number is written', async () => {
    // From three loopback addresses: only an address's first refusal in a minute is audited.
    const forms = ['/api/v1/cases/330802199001011234', '/api/v1/cases/3308%200219%209001%200112%2034', '/api/v1/cases/330802-19900101-1234'];
    for (const [i, path] of forms.entries()) expect(await statusFrom(`127.0.0.${11 + i}`, `${gateway.url}${path}`, 'guessed-token-456')).toBe(401);
    await eventually(async () => {
      const audit = (await call(gateway, 'GET', '/api/v1/admin/audit?action=auth.refused&limit=500', VIEWER_TOKEN)).body.items as Array<Record<string, string>>;
      const targets = audit.map((e) => e.target).filter((t) => t.startsWith('GET /api/v1/cases/330'));
      expect(targets).toEqual(['GET /api/v1/cases/330*************34', 'GET /api/v1/cases/330*************34', 'GET /api/v1/cases/330*************34']);
    });
  });
});

describe('when strangers and callers in the wrong role are refused', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const result = { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj}', inboundToken: 'housing-result-token' };
    const dir = writeConfig([restSystem('city-housing-reform', 'http://127.0.0.1:1/x', { result })], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] }, { limits: { failedAuthPerMinute: 3 } });
    gateway = await startTestGateway(dir);
  });
  afterAll(() => gateway.stop());

  const refusals = async () => ((await admin(gateway, 'GET', '/audit?action=auth.refused')).body.items as Array<Record<string, string>>);

  it('then the first refusal of a stranger in a minute is audited with its address and fingerprint, never the token, the rest only counted', async () => {
    await call(gateway, 'GET', '/api/v1/admin/systems', 'guessed-token-123');
    await call(gateway, 'GET', '/api/v1/admin/systems', 'guessed-token-456');
    await call(gateway, 'PUT', '/api/v1/admin/systems/city-housing-reform', VIEWER_TOKEN, {});
    await call(gateway, 'PUT', '/api/v1/admin/systems/city-housing-reform', VIEWER_TOKEN, {});
    const refused = await refusals();
    expect(refused.filter((e) => e.detail === 'unknown token, from 127.0.0.1' && e.target === 'GET /api/v1/admin/systems')).toHaveLength(1);
    // A valid credential in the wrong role is an insider: every refusal is audited, with its role.
    expect(refused.filter((e) => e.role === 'viewer' && e.target === 'PUT /api/v1/admin/systems/city-housing-reform')).toHaveLength(2);
    expect(JSON.stringify(refused)).not.toContain('guessed-token');
  });

  it("then guesses at a legacy system's result token count against the address: after the limit 429, while the system's own token goes on", async () => {
    const push = (token: string) => pushResult(gateway, 'city-housing-reform', { ywh: 'QZ-NONE', yj: 'x' }, token);
    // One failure is already counted against this address above; the limit is 3.
    expect((await push('guess-1')).status).toBe(401);
    expect((await push('guess-2')).status).toBe(429);
    expect((await push('guess-3')).status).toBe(429);
    expect((await push('housing-result-token')).status).toBe(404); // through: no such case
    // Still one audit entry for this address in this minute.
    expect((await refusals()).filter((e) => e.detail?.includes('from 127.0.0.1') && e.role === undefined)).toHaveLength(1);
  });
});

describe('when an address keeps failing to authenticate', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] }, { limits: { failedAuthPerMinute: 5 } });
    gateway = await startTestGateway(dir);
  });
  afterAll(() => gateway.stop());

  it('then after the limit strangers on that address get 429 for a minute, and valid intake and ops tokens on it go on', async () => {
    for (let i = 0; i < 5; i++) expect((await call(gateway, 'GET', '/api/v1/admin/systems', `wrong-${i}`)).status).toBe(401);
    const blocked = await call(gateway, 'GET', '/api/v1/admin/systems', 'wrong-6');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    expect((await call(gateway, 'GET', '/api/v1/admin/systems', undefined)).status).toBe(429);
    // Behind an ingress every caller shares the address: one misconfigured caller locks nobody else out.
    expect((await call(gateway, 'GET', '/api/v1/admin/systems', OPS_TOKEN)).status).toBe(200);
    expect((await call(gateway, 'GET', '/api/v1/cases/QZ-NO-SUCH', INTAKE_TOKEN)).status).toBe(404);
  });
});

describe('when the gateway runs behind a proxy named in server.trustProxy', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] }, { server: { trustProxy: ['127.0.0.1/32'] }, limits: { failedAuthPerMinute: 3 } });
    gateway = await startTestGateway(dir);
  });
  afterAll(() => gateway.stop());

  const from = (address: string, token?: string) => call(gateway, 'GET', '/api/v1/admin/systems', token, undefined, { 'X-Forwarded-For': address });

  it("then failures count against the caller's address as the proxy reports it, not against the proxy's", async () => {
    for (let i = 0; i < 3; i++) expect((await from('203.0.113.7', `wrong-${i}`)).status).toBe(401);
    expect((await from('203.0.113.7', 'wrong-4')).status).toBe(429);
    expect((await from('203.0.113.8', 'wrong-5')).status).toBe(401);
    const audit = (await admin(gateway, 'GET', '/audit?action=auth.refused')).body.items.map((x: { detail: string }) => x.detail);
    expect(audit).toEqual(expect.arrayContaining(['unknown token, from 203.0.113.7', 'unknown token, from 203.0.113.8']));
  });

  it('then an entry that is no address or range is a configuration error', () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] }, { server: { trustProxy: ['proxy.example'] } });
    expect(() => loadConfig(dir, {})).toThrow(/server\.trustProxy\[0\]: an IP address or CIDR range/);
  });
});

describe('when a caller invents a new token for every request', () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:1/x')], { routes: [{ itemCode: '*', targets: ['city-a'] }] }, { limits: { failedAuthPerMinute: 1000, requestsPerMinute: 30 } });
    gateway = await startTestGateway(dir);
  });
  afterAll(() => gateway.stop());

  it("then the inventions spend their address's request budget, and a valid token keeps its own", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(gateway, 'GET', '/api/v1/admin/systems', `invented-${i}`)).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    expect((await call(gateway, 'GET', '/api/v1/admin/systems', OPS_TOKEN)).status).toBe(200);
  });
});

describe('when intake requests must be HMAC-signed', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  const SECRET = 'intake-hmac-secret';

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig([restSystem('city-a', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['city-a'] }] });
    gateway = await startTestGateway(dir, { intakeHmacSecret: SECRET });
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  /** The intake platform's signature, written out here as a client would: timestamp.nonce.METHOD.path-with-query.body. */
  function signed(method: string, path: string, body: string, overrides: { timestamp?: number; nonce?: string; secret?: string } = {}): Record<string, string> {
    const timestamp = String(overrides.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = overrides.nonce ?? crypto.randomUUID();
    const signature = crypto.createHmac('sha256', overrides.secret ?? SECRET).update(`${timestamp}.${nonce}.${method}.${path}.${body}`).digest('hex');
    return { 'X-OW-Timestamp': timestamp, 'X-OW-Nonce': nonce, 'X-OW-Signature': `sha256=${signature}` };
  }

  it('then a signed case is accepted, and an unsigned, wrongly signed, stale or replayed one is 401 and stores nothing', async () => {
    const c = sampleCase();
    const body = JSON.stringify(c);
    const headers = signed('POST', '/api/v1/cases', body);
    expect((await call(gateway, 'POST', '/api/v1/cases', INTAKE_TOKEN, body, headers)).status).toBe(202);
    const replayed = await call(gateway, 'POST', '/api/v1/cases', INTAKE_TOKEN, body, headers);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error.message).toContain('nonce was used before');

    const other = sampleCase();
    const otherBody = JSON.stringify(other);
    for (const headers of [{}, signed('POST', '/api/v1/cases', otherBody, { secret: 'wrong' }), signed('POST', '/api/v1/cases', otherBody, { timestamp: Math.floor(Date.now() / 1000) - 301 }), signed('POST', '/api/v1/cases', `${otherBody} `)]) {
      expect((await call(gateway, 'POST', '/api/v1/cases', INTAKE_TOKEN, otherBody, headers)).status).toBe(401);
    }
    expect((await call(gateway, 'GET', `/api/v1/cases/${other.caseId}`, INTAKE_TOKEN, undefined, signed('GET', `/api/v1/cases/${other.caseId}`, ''))).status).toBe(404);
    // A GET is signed over the empty body.
    expect((await call(gateway, 'GET', `/api/v1/cases/${c.caseId}`, INTAKE_TOKEN, undefined, signed('GET', `/api/v1/cases/${c.caseId}`, ''))).status).toBe(200);
    expect((await call(gateway, 'GET', `/api/v1/cases/${c.caseId}`, INTAKE_TOKEN)).status).toBe(401);
  });

  it('then a signature made for one method and path is refused on another, and what it signed is untouched', async () => {
    const c = sampleCase();
    const body = JSON.stringify(c);
    // Signed to read one case: presented with the same body to submit, or to read another case.
    const forRead = signed('GET', `/api/v1/cases/${c.caseId}`, body);
    const submitted = await call(gateway, 'POST', '/api/v1/cases', INTAKE_TOKEN, body, forRead);
    expect(submitted.status).toBe(401);
    expect(submitted.body.error.message).toContain('does not match');
    const forOne = signed('GET', '/api/v1/cases/QZ-ONE', '');
    expect((await call(gateway, 'GET', '/api/v1/cases/QZ-OTHER', INTAKE_TOKEN, undefined, forOne)).status).toBe(401);
    // The query is part of the path that is signed.
    const withQuery = signed('GET', `/api/v1/cases/${c.caseId}?view=a`, '');
    expect((await call(gateway, 'GET', `/api/v1/cases/${c.caseId}?view=b`, INTAKE_TOKEN, undefined, withQuery)).status).toBe(401);
    expect((await call(gateway, 'GET', `/api/v1/cases/${c.caseId}`, INTAKE_TOKEN, undefined, signed('GET', `/api/v1/cases/${c.caseId}`, ''))).status).toBe(404);
    // Signed for what it is, the same case goes in.
    expect((await call(gateway, 'POST', '/api/v1/cases', INTAKE_TOKEN, body, signed('POST', '/api/v1/cases', body))).status).toBe(202);
  });
});
