/**
 * The configuration shipped in config/: it must load, describe the 44 systems, route
 * every one of them, and map the sample cases into bodies the legacy systems can use.
 */
import path from 'node:path';
import jsonata from 'jsonata';
import picomatch from 'picomatch';
import { ConfigError, loadConfig, type GatewayConfig } from '../src/config/loader';
import { demoEnv, demoResultToken, resultTokenVar, sampleOrganizationCase, samplePersonCase, SHIPPED_ENV_VARS, SHIPPED_PUSH_SYSTEMS } from '../sim/samples';

const CONFIG_DIR = path.join(__dirname, '..', 'config');

/** Every string value anywhere in a mapped body. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** An item code the glob matches: each `*` and `?` filled in. */
function exampleCode(glob: string): string {
  return glob.replace(/\*/g, '001').replace(/\?/g, '0');
}

describe('shipped config/', () => {
  let config: GatewayConfig;

  beforeAll(() => {
    // Only the variables the config needs: nothing from the machine (REDIS_URL, PORT…) leaks in.
    config = loadConfig(CONFIG_DIR, demoEnv());
  });

  it('needs exactly the documented environment variables', () => {
    let error: unknown;
    try {
      loadConfig(CONFIG_DIR, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    const missing = new Set(issues.map((i) => /environment variable (\w+) is not set/.exec(i.message)?.[1]));
    expect([...missing].sort()).toEqual([...SHIPPED_ENV_VARS].sort());
    // Nothing but unset variables is wrong with it.
    expect(issues.every((i) => i.message.includes('is not set'))).toBe(true);
  });

  it('sets the gateway defaults and leaves Redis and the callback to the environment', () => {
    expect(config.gateway.defaults).toEqual({
      timeoutMs: 10000,
      concurrency: 4,
      rateLimit: { max: 20, perMs: 1000 },
      retry: { attempts: 8, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 600000 } },
      circuitBreaker: { failureThreshold: 5, cooldownMs: 30000 },
    });
    expect(config.gateway.server.port).toBe(8080);
    expect(config.gateway.redis.url).toBeUndefined();
    expect(config.gateway.intake.callbackUrl).toBeUndefined();
  });

  it('has 44 systems: 4 national, 33 provincial, 7 city, ids prefixed by level', () => {
    const systems = [...config.systems.values()];
    expect(systems).toHaveLength(44);
    const byLevel = (level: string): number => systems.filter((s) => s.level === level).length;
    expect(byLevel('national')).toBe(4);
    expect(byLevel('provincial')).toBe(33);
    expect(byLevel('city')).toBe(7);
    const prefix = { national: 'nat-', provincial: 'prov-', city: 'city-' };
    for (const s of systems) expect(s.id.startsWith(prefix[s.level])).toBe(true);
    expect(new Set(systems.map((s) => s.name)).size).toBe(44);
  });

  it('points every system at its simulator, on the path of its protocol', () => {
    const path = { rest: 'cases', soap: 'soap', xml: 'xml' } as const;
    for (const s of config.systems.values()) expect(s.endpoint).toBe(`http://127.0.0.1:9100/sim/${s.id}/${path[s.protocol]}`);
  });

  it('speaks every protocol the issues ask for: 4 national and ≥8 provincial SOAP, ≥5 city and ≥5 provincial XML, GBK and GB18030', () => {
    const systems = [...config.systems.values()];
    const count = (protocol: string, level: string) => systems.filter((s) => s.protocol === protocol && s.level === level).length;
    expect(count('soap', 'national')).toBe(4);
    expect(count('soap', 'provincial')).toBeGreaterThanOrEqual(8);
    expect(count('xml', 'city')).toBeGreaterThanOrEqual(5);
    expect(count('xml', 'provincial')).toBeGreaterThanOrEqual(5);
    expect(systems.filter((s) => s.protocol === 'xml' && s.charset === 'gbk').length).toBeGreaterThanOrEqual(3);
    expect(systems.filter((s) => s.protocol === 'xml' && s.charset === 'gb18030').length).toBeGreaterThanOrEqual(1);
    expect(systems.some((s) => s.protocol === 'soap' && s.soap?.version === '1.2')).toBe(true);
    expect(systems.some((s) => s.protocol === 'soap' && s.auth.type === 'wsse')).toBe(true);
    expect(systems.some((s) => s.protocol === 'soap' && s.charset === 'gbk')).toBe(true);
  });

  it('takes results by push, each system with its own <ID>_RESULT_TOKEN, or polls at least 6 systems at their simulator', () => {
    const polled = [...config.systems.values()].filter((s) => s.result!.mode === 'poll');
    expect(polled.length).toBeGreaterThanOrEqual(6);
    const pushing = [...config.systems.values()].filter((s) => s.result!.mode === 'push');
    expect(pushing.map((s) => s.id).sort()).toEqual([...SHIPPED_PUSH_SYSTEMS]);
    // No two systems share an inbound token, so one system's token is worth nothing on another's endpoint.
    expect(new Set(pushing.map((s) => s.result!.inboundToken)).size).toBe(pushing.length);
    for (const s of config.systems.values()) {
      if (s.result!.mode === 'push') {
        const source = config.sources.get(s.id) as { result: { inboundToken: string } };
        expect({ system: s.id, inboundToken: source.result.inboundToken }).toEqual({ system: s.id, inboundToken: `\${${resultTokenVar(s.id)}}` });
        expect({ system: s.id, inboundToken: s.result!.inboundToken }).toEqual({ system: s.id, inboundToken: demoResultToken(s.id) });
        expect(s.result!.poll).toBeUndefined();
      } else {
        expect({ system: s.id, protocol: s.protocol }).toEqual({ system: s.id, protocol: 'rest' });
        expect(s.result!.poll).toEqual({
          endpoint: `http://127.0.0.1:9100/sim/${s.id}/results/{receiptNo}`,
          method: 'GET',
          intervalMs: 2000,
          until: 'code = "0" and data.status = "DONE"',
          maxAgeMs: 86400000,
        });
      }
    }
  });

  it('never holds a demo case for a maintenance window', () => {
    const windowed = [...config.systems.values()].filter((s) => s.window);
    expect(windowed.length).toBeGreaterThanOrEqual(1);
    for (const s of windowed) {
      expect(s.window?.days).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(s.window?.hours).toEqual(['00:00-24:00']);
    }
  });

  it('routes every system, with at least 30 routes and 5 fan-outs', () => {
    const { routes, unrouted } = config.routes;
    expect(unrouted).toBe('reject');
    expect(routes.length).toBeGreaterThanOrEqual(30);
    const routed = new Set(routes.flatMap((r) => r.targets));
    const unroutedSystems = [...config.systems.keys()].filter((id) => !routed.has(id));
    expect(unroutedSystems).toEqual([]);
    const fanOuts = routes.filter((r) => r.targets.length >= 2);
    expect(fanOuts.length).toBeGreaterThanOrEqual(5);
    for (const r of routes) {
      expect(r.targets.length).toBeLessThanOrEqual(3);
      expect(new Set(r.targets).size).toBe(r.targets.length);
    }
    expect(new Set(routes.map((r) => r.itemCode)).size).toBe(routes.length);
  });

  it('has no two routes matching the same item code, so route order never matters', () => {
    const { routes } = config.routes;
    const matchers = routes.map((r) => picomatch(r.itemCode));
    for (const route of routes) {
      const code = exampleCode(route.itemCode);
      const matching = routes.filter((_, j) => matchers[j](code)).map((r) => r.itemCode);
      expect({ code, matching }).toEqual({ code, matching: [route.itemCode] });
    }
  });

  it('maps sample cases into a JSON object per system that carries the caseId and itemName', async () => {
    const bodies: string[] = [];
    const keySets = new Set<string>();
    for (const s of config.systems.values()) {
      for (const kase of [samplePersonCase(), sampleOrganizationCase()]) {
        const body: unknown = await jsonata(s.request!.body).evaluate(kase);
        expect(body).toEqual(expect.any(Object));
        expect(Array.isArray(body)).toBe(false);
        const values = strings(body);
        expect({ system: s.id, hasCaseId: values.some((v) => v.includes(kase.caseId)) }).toEqual({ system: s.id, hasCaseId: true });
        expect({ system: s.id, hasItemName: values.includes(kase.itemName) }).toEqual({ system: s.id, hasItemName: true });
        // The whole case must survive JSON: no functions, no undefined in arrays.
        expect(JSON.parse(JSON.stringify(body))).toEqual(body);
        bodies.push(JSON.stringify(body));
        keySets.add(Object.keys(body as object).sort().join(','));
      }
    }
    // Systems name their fields differently: most mappings are their own.
    expect(keySets.size).toBeGreaterThanOrEqual(30);
  });

  it('maps a pushed or polled result back to the case that was sent (REST systems)', async () => {
    // Each REST system echoes the caseId under the field name it received it as (the first field of
    // its request body, or the request head's id for the head/body systems); a polled system's
    // reply carries those fields under `data`. SOAP pushes are PushResult arguments and XML pushes
    // documents: test/sim-results.test.ts checks every system's map against what its simulator pushes.
    for (const s of [...config.systems.values()].filter((x) => x.protocol === 'rest')) {
      const sent = (await jsonata(s.request!.body).evaluate(samplePersonCase())) as Record<string, unknown>;
      const pushed = await jsonata(s.result!.map).evaluate(s.result!.mode === 'poll' ? { code: '0', data: { ...sent, status: 'DONE' } } : { ...sent });
      expect({ system: s.id, caseId: (pushed as { caseId?: unknown }).caseId }).toEqual({ system: s.id, caseId: samplePersonCase().caseId });
    }
  });
});
