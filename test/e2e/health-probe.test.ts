/**
 * The board no longer calls an unreachable system healthy (issue 24): a system with a `health` probe
 * whose endpoint nobody answers shows "unreachable since T" and ow_system_probe_up 0 before any case
 * is sent to it, recovers when a listener answers, and no delivery attempt is spent on finding out.
 * One process probes a system per interval, the probe never goes where egress refuses, and the
 * system's credentials go only to its own origin. Real HTTP listeners on 127.0.0.1; the clock is injected.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config/loader';
import { SystemProbes, readProbe } from '../../src/delivery/probe';
import type { RunningGateway } from '../../src/gateway';
import { createRedis, type RedisClient } from '../../src/platform/redis';
import { sample, scrape } from '../observability/prom';
import { admin, eventually, legacyServer, redisUrl, restSystem, startTestGateway, uniquePrefix, writeConfig, type LegacyServer } from '../support/harness';

/** A port on 127.0.0.1 where nothing listens (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A listener on `port` that answers every request 200, counting them by method. */
async function listenOn(port: number): Promise<{ methods: string[]; close(): Promise<void> }> {
  const methods: string[] = [];
  const server = http.createServer((req, res) => {
    methods.push(req.method ?? '');
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { methods, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('the systems board and ow_system_probe_up say a system is unreachable, from its health probe', () => {
  let gateway: RunningGateway;
  let port: number;
  let listener: { methods: string[]; close(): Promise<void> } | undefined;
  let t = Date.parse('2026-03-02T01:00:00.000Z');

  beforeAll(async () => {
    port = await closedPort();
    const dir = writeConfig(
      [
        restSystem('city-closed', `http://127.0.0.1:${port}/cases`, { health: { probe: 'head', intervalMs: 100, timeoutMs: 1000 } }),
        restSystem('city-unprobed', `http://127.0.0.1:${port}/other`),
      ],
      { routes: [{ itemCode: '*', targets: ['city-closed'] }] },
    );
    gateway = await startTestGateway(dir, { now: () => new Date(t), options: { probeTickMs: 20, backlogCacheMs: 0 } });
  });
  afterAll(async () => {
    await gateway.stop();
    await listener?.close();
  });

  const board = async () => {
    const res = await admin(gateway, 'GET', '/systems');
    expect(res.status).toBe(200);
    return res.body as Array<{ id: string; problems: string[]; probe?: { ok: boolean; checkedAt: string; error?: string; unreachableSince?: string }; queue: Record<string, number>; circuit: { state: string }; lastError?: string; failingSince?: string }>;
  };

  it('when nothing listens, then it is unreachable since the first probe, first on the board, with no delivery attempt spent', async () => {
    const since = new Date(t).toISOString();
    const first = await eventually(async () => {
      const systems = await board();
      expect(systems[0]!.id).toBe('city-closed');
      expect(systems[0]!.probe).toMatchObject({ ok: false, checkedAt: since, unreachableSince: since });
      return systems;
    });
    expect(first[0]!.problems[0]).toBe('unreachable');
    expect(first[0]!.probe!.error).toMatch(/could not be reached/);
    // No probe on the other system: nothing said about it.
    expect(first.find((s) => s.id === 'city-unprobed')!.probe).toBeUndefined();
    // Later probes keep the first failure.
    t += 60_000;
    await eventually(async () => expect((await board())[0]!.probe).toMatchObject({ ok: false, checkedAt: new Date(t).toISOString(), unreachableSince: since }));
    expect(sample(await scrape(gateway.url), 'ow_system_probe_up', { systemId: 'city-closed' })).toBe(0);
    expect((await scrape(gateway.url)).find((f) => f.name === 'ow_system_probe_up')!.metrics.map((m) => m.labels!.systemId)).toEqual(['city-closed']);
    // Found out without a delivery: no job, no circuit count, no delivery failure recorded.
    const closed = (await board()).find((s) => s.id === 'city-closed')!;
    expect(closed.queue).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    expect(closed.circuit.state).toBe('closed');
    expect(closed.lastError).toBeUndefined();
    expect(closed.failingSince).toBeUndefined();
  });

  it('when a listener answers, then it recovers: ok, no longer a problem, ow_system_probe_up 1, and it got HEADs only', async () => {
    listener = await listenOn(port);
    t += 60_000;
    const at = new Date(t).toISOString();
    await eventually(async () => {
      const closed = (await board()).find((s) => s.id === 'city-closed')!;
      expect(closed.probe).toEqual({ ok: true, checkedAt: at });
      expect(closed.problems).not.toContain('unreachable');
    });
    expect(sample(await scrape(gateway.url), 'ow_system_probe_up', { systemId: 'city-closed' })).toBe(1);
    expect(listener.methods.length).toBeGreaterThan(0);
    expect(new Set(listener.methods)).toEqual(new Set(['HEAD']));
  });
});

describe('health probes across processes, egress and credentials', () => {
  let legacy: LegacyServer;
  let redis: RedisClient;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    legacy = await legacyServer((_req, _n, res) => res.writeHead(204).end());
    redis = createRedis(redisUrl(), 'worker');
  });
  afterAll(async () => {
    await legacy.close();
    redis.disconnect();
  });

  const config = () =>
    loadConfig(
      writeConfig([restSystem('city-probed', `${legacy.url}/cases`, { auth: { type: 'bearer', token: 'probe-secret-token' }, health: { probe: 'get', path: '/health', intervalMs: 60_000 } })], { routes: [{ itemCode: '*', targets: ['city-probed'] }] }),
      {},
    );

  it('when two worker processes look at once, then one probes (once per interval), sending the credential to its own origin', async () => {
    const prefix = uniquePrefix();
    const loaded = config();
    const processes = [1, 2].map(() => new SystemProbes({ config: () => loaded, redis, prefix, log }));
    const probed = (await Promise.all(processes.map((p) => p.runDue()))).flat();
    expect(probed).toEqual(['city-probed']);
    expect(await processes[0]!.runDue()).toEqual([]); // the interval has not passed
    expect(legacy.received.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([['GET', '/health', 'Bearer probe-secret-token']]);
    expect(await readProbe(redis, prefix, 'city-probed')).toMatchObject({ ok: true });
  });

  it('when the probe is wsdl, then it GETs the endpoint with ?wsdl, as SOAP stacks serve it', async () => {
    const prefix = uniquePrefix();
    const loaded = loadConfig(writeConfig([restSystem('city-wsdl', `${legacy.url}/ws/case`, { health: { probe: 'wsdl' } })], { routes: [{ itemCode: '*', targets: ['city-wsdl'] }] }), {});
    const before = legacy.received.length;
    expect(await new SystemProbes({ config: () => loaded, redis, prefix, log }).runDue()).toEqual(['city-wsdl']);
    expect(legacy.received.slice(before).map((r) => [r.method, r.url])).toEqual([['GET', '/ws/case?wsdl']]);
  });

  it('when egress.allow does not admit the system, then no probe is sent and the board says why', async () => {
    const prefix = uniquePrefix();
    const loaded = config();
    const refused = { ...loaded, gateway: { ...loaded.gateway, egress: { allow: ['10.0.0.0/8'] } } };
    const before = legacy.received.length;
    expect(await new SystemProbes({ config: () => refused, redis, prefix, log }).runDue()).toEqual(['city-probed']);
    expect(legacy.received.length).toBe(before);
    expect(await readProbe(redis, prefix, 'city-probed')).toMatchObject({ ok: false, error: expect.stringContaining('not allowed by egress.allow') });
  });

  it('when a probe path names another host, then the system file is refused', () => {
    const dir = writeConfig([restSystem('city-x', `${legacy.url}/cases`, { health: { probe: 'get', path: 'http://10.1.1.1/steal' } })], { routes: [{ itemCode: '*', targets: ['city-x'] }] });
    let issues: ConfigError['issues'] = [];
    try {
      loadConfig(dir, {});
    } catch (err) {
      if (err instanceof ConfigError) issues = err.issues;
    }
    expect(issues.map((i) => i.path)).toContain('health.path');
  });
});
