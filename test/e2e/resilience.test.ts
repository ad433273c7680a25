import type { RunningGateway } from '../../src/gateway';
import {
  admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig, type LegacyServer,
} from '../support/harness';

const ok = (res: Parameters<typeof replyJson>[0], bizNo: string) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${bizNo}` } });
const bizNo = (r: { json: unknown }) => (r.json as { bizNo: string }).bizNo;
const status = async (gateway: RunningGateway, caseId: string) => (await caseView(gateway, caseId)).body.deliveries[0];

describe('one broken system never stalls the others, and ops stay in control', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let mode: 'ok' | 'down' | 'throttle' = 'ok';
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => {
      const path = req.url;
      if (path.startsWith('/slow')) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          ok(res, bizNo(req));
        }, 60);
        return;
      }
      if (path.startsWith('/flaky') && mode === 'down') return replyJson(res, 503, { code: '500', msg: '维护中' });
      if (path.startsWith('/flaky') && mode === 'throttle') {
        res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
        return res.end('{"code":"429","msg":"请求过于频繁"}');
      }
      ok(res, bizNo(req));
    });
    const dir = writeConfig(
      [
        restSystem('city-steady', `${legacy.url}/steady`),
        restSystem('prov-flaky', `${legacy.url}/flaky`, {
          retry: { attempts: 4, backoff: { type: 'fixed', delayMs: 50 } },
          circuitBreaker: { failureThreshold: 2, cooldownMs: 3000 },
        }),
        restSystem('prov-slow', `${legacy.url}/slow`, { concurrency: 2 }),
        restSystem('prov-fragile', `${legacy.url}/fragile-is-never-there`, {
          endpoint: 'http://127.0.0.1:9/',
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
          circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 },
        }),
      ],
      {
        routes: [
          { itemCode: 'STEADY-*', targets: ['city-steady'] },
          { itemCode: 'FLAKY-*', targets: ['prov-flaky'] },
          { itemCode: 'SLOW-*', targets: ['prov-slow'] },
          { itemCode: 'FRAGILE-*', targets: ['prov-fragile'] },
        ],
      },
    );
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await legacy.close();
  });

  it('when a system is paused, then its deliveries queue and nothing is sent until it is resumed; both audited', async () => {
    const paused = await admin(gateway, 'POST', '/systems/city-steady/pause', { reason: '系统升级' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: 'city-steady', paused: true });
    const c = sampleCase({ itemCode: 'STEADY-1' });
    await submit(gateway, c);
    await new Promise((r) => setTimeout(r, 400));
    expect(legacy.received.filter((r) => bizNo(r) === c.caseId)).toHaveLength(0);
    expect(await status(gateway, c.caseId as string)).toMatchObject({ status: 'queued', attempts: 0 });
    const listed = (await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-steady');
    expect(listed).toMatchObject({ paused: true, queue: { waiting: 1 }, circuit: { state: 'closed' } });

    await admin(gateway, 'POST', '/systems/city-steady/resume');
    await eventually(async () => expect((await status(gateway, c.caseId as string)).status).toBe('delivered'));
    const audit = (await admin(gateway, 'GET', '/audit')).body.items;
    expect(audit.slice(0, 2).map((a: { action: string }) => a.action)).toEqual(['system.resume', 'system.pause']);
    expect(audit[1]).toMatchObject({ target: 'city-steady', reason: '系统升级', who: expect.stringContaining('值班员 李四') });
  });

  it('when a system keeps failing, then its circuit opens, waiting costs no attempts, and one probe closes it', async () => {
    mode = 'down';
    const first = sampleCase({ itemCode: 'FLAKY-1' });
    await submit(gateway, first);
    await eventually(async () => {
      const systems = (await admin(gateway, 'GET', '/systems')).body;
      expect(systems.find((s: { id: string }) => s.id === 'prov-flaky').circuit.state).toBe('open');
    });
    const attemptsWhenOpened = (await status(gateway, first.caseId as string)).attempts;
    expect(attemptsWhenOpened).toBe(2);
    const second = sampleCase({ itemCode: 'FLAKY-2' });
    await submit(gateway, second);
    await new Promise((r) => setTimeout(r, 300)); // well inside the 3 s cool-down, even on a loaded machine
    expect((await status(gateway, first.caseId as string)).attempts).toBe(attemptsWhenOpened);
    expect((await status(gateway, second.caseId as string)).attempts).toBe(0);

    mode = 'ok';
    await eventually(async () => {
      expect((await status(gateway, first.caseId as string)).status).toBe('delivered');
      expect((await status(gateway, second.caseId as string)).status).toBe('delivered');
    });
    expect((await status(gateway, first.caseId as string)).attempts).toBe(3);
    expect((await status(gateway, second.caseId as string)).attempts).toBe(1);
    const circuit = (await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'prov-flaky').circuit;
    expect(circuit).toEqual({ state: 'closed', failures: 0 });
  });

  it('when a system answers 429 with Retry-After, then the system is held that long without spending attempts', async () => {
    mode = 'throttle';
    const c = sampleCase({ itemCode: 'FLAKY-3' });
    await submit(gateway, c);
    await eventually(async () => expect((await status(gateway, c.caseId as string)).history.map((h: { event: string }) => h.event)).toContain('throttled'));
    const throttledAt = Date.now();
    mode = 'ok';
    const d = await eventually(async () => {
      const v = await status(gateway, c.caseId as string);
      expect(v.status).toBe('delivered');
      return v;
    });
    expect(Date.now() - throttledAt).toBeGreaterThanOrEqual(700);
    expect(d.history.find((h: { event: string }) => h.event === 'throttled').detail).toContain('holding 1000 ms');
  });

  it('when many cases go to a system with concurrency 2, then at most 2 are in flight at once', async () => {
    const cases = Array.from({ length: 12 }, (_, i) => sampleCase({ itemCode: `SLOW-${i}` }));
    await Promise.all(cases.map((c) => submit(gateway, c)));
    await eventually(async () => {
      for (const c of cases) expect((await status(gateway, c.caseId as string)).status).toBe('delivered');
    });
    expect(maxInFlight).toBe(2);
  });

  it('when a delivery dies, then it is a dead letter that ops can replay (same key) or discard with a reason, audited', async () => {
    const a = sampleCase({ itemCode: 'FRAGILE-1' });
    const b = sampleCase({ itemCode: 'FRAGILE-2' });
    await submit(gateway, a);
    await submit(gateway, b);
    await eventually(async () => {
      expect((await status(gateway, a.caseId as string)).status).toBe('dead');
      expect((await status(gateway, b.caseId as string)).status).toBe('dead');
    });
    const letters = (await admin(gateway, 'GET', '/dead-letters?systemId=prov-fragile')).body.items;
    expect(letters.map((l: { caseId: string }) => l.caseId).sort()).toEqual([a.caseId, b.caseId].sort());
    expect(letters[0]).toMatchObject({ id: `prov-fragile.${letters[0].caseId}`, systemId: 'prov-fragile', attempts: 2, lastError: expect.stringContaining('could not be reached'), failedAt: expect.any(String) });

    expect((await admin(gateway, 'DELETE', `/dead-letters/prov-fragile.${b.caseId}`, {})).status).toBe(400);
    expect((await admin(gateway, 'DELETE', `/dead-letters/prov-fragile.${b.caseId}`, { reason: '申请人撤回' })).status).toBe(200);
    expect((await status(gateway, b.caseId as string)).history.at(-1)).toMatchObject({ event: 'discarded', detail: expect.stringContaining('申请人撤回') });

    // Replay: the system is still unreachable, so it dies again after fresh attempts.
    expect((await admin(gateway, 'POST', `/dead-letters/prov-fragile.${a.caseId}/replay`, { reason: '网络已恢复' })).status).toBe(200);
    await eventually(async () => {
      const d = await status(gateway, a.caseId as string);
      expect(d.status).toBe('dead');
      // Fresh attempts: the count starts again at the replay; the history keeps every one.
      expect(d.attempts).toBe(2);
    });
    const events = (await status(gateway, a.caseId as string)).history.map((h: { event: string }) => h.event);
    expect(events.filter((e: string) => e === 'replayed')).toHaveLength(1);
    expect(events.filter((e: string) => e === 'attempt')).toHaveLength(4);
    expect((await admin(gateway, 'GET', '/dead-letters?systemId=prov-fragile')).body.items.map((l: { caseId: string }) => l.caseId)).toEqual([a.caseId]);
    const audit = (await admin(gateway, 'GET', '/audit')).body.items.map((x: { action: string; target: string }) => `${x.action} ${x.target}`);
    expect(audit).toEqual(expect.arrayContaining([`dead_letter.discard prov-fragile.${b.caseId}`, `dead_letter.replay prov-fragile.${a.caseId}`]));
    expect((await admin(gateway, 'POST', '/dead-letters/prov-fragile.NOPE/replay')).status).toBe(404);
  });

  it('when the admin API is called without the ops token, then 401/403', async () => {
    expect((await fetch(`${gateway.url}/api/v1/admin/systems`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/api/v1/admin/systems`, { headers: { Authorization: 'Bearer test-intake-token' } })).status).toBe(403);
  });
});

describe('maintenance windows, with a test clock', () => {
  it('when a case arrives outside the window, then it waits, spending no attempts, and is delivered when the window opens', async () => {
    const legacy = await legacyServer((req, _n, res) => ok(res, bizNo(req)));
    // The test clock reads Saturday 08:29:59.2 in Quzhou (a make-up working day, the window opens at
    // 08:30) and stands still until the test moves it: however slow the machine, nothing is sent early.
    let clock = Date.parse('2026-10-10T08:29:59.200+08:00');
    const now = () => new Date(clock);
    const dir = writeConfig(
      [restSystem('city-windowed', `${legacy.url}/w`, { window: { timezone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5], hours: ['08:30-17:30'], exceptions: [{ date: '2026-10-10', open: true }] } })],
      { routes: [{ itemCode: '*', targets: ['city-windowed'] }] },
    );
    const gateway = await startTestGateway(dir, { keyPrefix: uniquePrefix(), now });
    try {
      const c = sampleCase();
      await submit(gateway, c);
      const waiting = await eventually(async () => {
        const v = await status(gateway, c.caseId as string);
        expect(v.history.at(-1)).toMatchObject({ event: 'waiting', detail: expect.stringContaining('outside the maintenance window; opens at 2026-10-10T00:30:00.000Z') });
        return v;
      });
      expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });
      // Waking up while the clock still reads 08:29:59 sends nothing either.
      await new Promise((r) => setTimeout(r, 1200));
      expect(legacy.received).toHaveLength(0);
      clock = Date.parse('2026-10-10T08:30:00.100+08:00');
      const d = await eventually(async () => {
        const v = await status(gateway, c.caseId as string);
        expect(v.status).toBe('delivered');
        return v;
      });
      expect(d.attempts).toBe(1);
    } finally {
      await gateway.stop();
      await legacy.close();
    }
  });
});
