/**
 * The SOAP simulators: real `soap` package servers built from the shipped WSDLs, driven by the
 * gateway's SOAP adapter with the shipped mappings; their fault knobs; and results pushed back to
 * the gateway's PushResult.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { createSoapAdapter } from '../../adapters/soap/soap.adapter';
import type { Adapter } from '../../adapters/adapter';
import { loadConfig, type GatewayConfig } from '../../src/config/loader';
import { speaks, type SystemOf } from '../../src/config/schema';
import { SystemMappings } from '../../src/delivery/mapping';
import { DEFAULT_BUDGET } from '../../src/platform/expressions';
import { PermanentError, RetryableError } from '../../src/platform/failure';
import type { RunningGateway } from '../../src/gateway';
import { demoEnv, samplePersonCase } from '../../sim/samples';
import { startSimulators, type Simulators } from '../../sim/server';
import { createSoapSimulator } from '../../sim/soap/soap.simulator';
import { caseView, eventually, sampleCase, startTestGateway, submit, writeConfig } from '../support/harness';
import { addWsdls, caseServiceWsdl, soapSystem } from './support';

const CONFIG_DIR = path.join(__dirname, '..', '..', 'config');
const log = pino({ level: 'silent' });

describe('when the gateway delivers to the simulated SOAP systems of the shipped config', () => {
  let config: GatewayConfig;
  let sims: Simulators;
  const adapters = new Map<string, Adapter>();
  let seq = 0;

  beforeAll(async () => {
    config = loadConfig(CONFIG_DIR, demoEnv());
    sims = await startSimulators({ configDir: CONFIG_DIR, port: 0, env: demoEnv(), protocols: [createSoapSimulator({ configDir: CONFIG_DIR })] });
  });
  afterAll(async () => {
    for (const adapter of adapters.values()) await adapter.close?.();
    await sims.close();
  });

  const soapSystems = (): Array<SystemOf<'soap'>> => [...config.systems.values()].filter((s) => speaks(s, 'soap'));

  /** The shipped system, pointed at the simulators on their test port. */
  function atSim(system: SystemOf<'soap'>, overrides: Partial<SystemOf<'soap'>> = {}): SystemOf<'soap'> {
    return { ...system, endpoint: system.endpoint.replace('http://127.0.0.1:9100', sims.url), ...overrides };
  }

  async function deliver(system: SystemOf<'soap'>, caseId = `QZ-SOAPSIM-${++seq}`, overrides: Record<string, unknown> = {}) {
    let adapter = adapters.get(system.id + JSON.stringify(system.auth));
    if (!adapter) {
      adapter = createSoapAdapter(system, { configDir: CONFIG_DIR, maxReplyBytes: 4 * 1024 * 1024 });
      adapters.set(system.id + JSON.stringify(system.auth), adapter);
    }
    const mappings = new SystemMappings(system, DEFAULT_BUDGET);
    const body = await mappings.requestBody(samplePersonCase({ caseId, ...overrides }));
    const reply = await adapter.send(body, { caseId, systemId: system.id, idempotencyKey: `${caseId}:${system.id}`, log });
    return mappings.acknowledgement(reply);
  }

  it('then the 12 SOAP systems (4 national) each accept a case in their own WSDL and dialect', async () => {
    const systems = soapSystems();
    expect(systems.map((s) => s.id).sort()).toEqual(
      [
        'nat-enterprise-credit', 'nat-gov-service-platform', 'nat-healthcare-security', 'nat-population',
        'prov-civil-affairs', 'prov-health', 'prov-human-resources', 'prov-market-supervision',
        'prov-medical-security', 'prov-natural-resources', 'prov-public-security', 'prov-taxation',
      ].sort(),
    );
    expect(systems.some((s) => s.soap.version === '1.2')).toBe(true);
    expect(systems.some((s) => s.auth.type === 'wsse')).toBe(true);
    expect(systems.some((s) => s.charset === 'gbk')).toBe(true);
    for (const system of systems) {
      const ack = await deliver(atSim(system));
      expect({ system: system.id, success: ack.success, receipt: /^(GJ|ZJ)[A-Z]+\d{13}$/.test(ack.receiptNo ?? '') }).toEqual({ system: system.id, success: true, receipt: true });
      const seen = sims.requests(system.id).at(-1)!;
      // What the simulator read is what was mapped, Chinese intact whatever the charset.
      expect(JSON.stringify(seen.body)).toContain('出具房改核查证明');
    }
  });

  it('then a redelivery is answered with the same receipt', async () => {
    const system = atSim((config.systems.get('prov-civil-affairs') as SystemOf<'soap'>));
    const first = await deliver(system, 'QZ-SOAPSIM-REDELIVER');
    const again = await deliver(system, 'QZ-SOAPSIM-REDELIVER');
    expect(again.receiptNo).toBe(first.receiptNo);
    expect(sims.stats()['prov-civil-affairs']!.duplicates).toBe(1);
  });

  it('then the WS-Security systems refuse a wrong password with a Client fault', async () => {
    for (const id of ['nat-population', 'prov-public-security']) {
      const system = (config.systems.get(id) as SystemOf<'soap'>);
      const wrong = atSim(system, { auth: { ...(system.auth as { type: 'wsse'; username: string; passwordType: 'PasswordText' | 'PasswordDigest' }), password: 'wrong' } });
      const err = await deliver(wrong).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as Error).message).toMatch(new RegExp(`^${id} answered with a SOAP fault soap:Client: `));
    }
  });

  it('then the fault knobs turn into Server faults, refusals and cut connections', async () => {
    const system = atSim((config.systems.get('nat-gov-service-platform') as SystemOf<'soap'>));
    sims.setFaults(system.id, { failureRate: 1 });
    const broken = await deliver(system).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(RetryableError);
    expect((broken as Error).message).toBe('nat-gov-service-platform answered with a SOAP fault soap:Receiver: 系统内部错误');
    sims.setFaults(system.id, { failureRate: 0, down: true });
    expect(await deliver(system).catch((e: unknown) => e)).toBeInstanceOf(RetryableError);
    sims.setFaults(system.id, { down: false });
    const refused = await deliver(system, undefined, { itemName: 'SIM-REJECT' });
    expect(refused).toMatchObject({ success: false, retryable: false, error: '材料不齐全，请补充后重新提交' });
    const busy = await deliver(system, undefined, { itemName: 'SIM-RETRY' });
    expect(busy).toMatchObject({ success: false, retryable: true });
  });

  it('then its WSDL is served at ?wsdl', async () => {
    const res = await fetch(`${sims.url}/sim/prov-taxation/soap?wsdl`);
    expect(await res.text()).toBe(fs.readFileSync(path.join(CONFIG_DIR, 'wsdl', 'prov-taxation.wsdl'), 'utf8'));
  });
});

describe('when a simulated SOAP system decides a case', () => {
  let sims: Simulators;
  let gateway: RunningGateway;

  beforeAll(async () => {
    // The simulators' port must be in the config before they start: take a free one.
    const port = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const endpoint = (id: string) => `http://127.0.0.1:${port}/sim/${id}/soap`;
    const result = (version: string) => ({
      mode: 'push',
      inboundToken: `token-${version}`,
      map: '{"caseId": caseId, "receiptNo": receiptNo, "outcome": $lookup({"01": "approved", "02": "rejected", "03": "need_more"}, outcome), "message": message, "decidedAt": decidedAt}',
    });
    const dir = writeConfig(
      [
        soapSystem('prov-decides', endpoint('prov-decides'), { charset: 'gbk', result: result('11') }),
        soapSystem('prov-decides12', endpoint('prov-decides12'), {
          soap: { wsdl: './wsdl/case12.wsdl', service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.2' },
          auth: { type: 'wsse', username: 'sim', password: 'sim-secret', passwordType: 'PasswordDigest' },
          result: result('12'),
        }),
      ],
      { routes: [{ itemCode: '330800-FG-*', targets: ['prov-decides', 'prov-decides12'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1'), 'case12.wsdl': caseServiceWsdl('1.2') });
    gateway = await startTestGateway(dir);
    sims = await startSimulators({
      configDir: dir,
      port,
      env: {},
      gatewayUrl: gateway.url,
      defaults: { decisionDelayMs: 50 },
      log: () => undefined,
      protocols: [createSoapSimulator({ configDir: dir })],
    });
  });
  afterAll(async () => {
    await sims.close();
    await gateway.stop();
  });

  it('then it pushes the result to PushResult with its UsernameToken and the case completes', async () => {
    const c = sampleCase({ applicant: { ...(sampleCase().applicant as object), name: '王五' } });
    await submit(gateway, c);
    const view = await eventually(async () => {
      const v = (await caseView(gateway, c.caseId as string)).body;
      expect(v.deliveries.map((d: { status: string }) => d.status)).toEqual(['completed', 'completed']);
      return v;
    }, 15_000);
    expect(view.status).toBe('completed');
    for (const d of view.deliveries) {
      expect(d.result).toMatchObject({ caseId: c.caseId, systemId: d.systemId, outcome: 'approved', receiptNo: d.receiptNo });
    }
    // The simulator counts a push once its answer is back, which may be just after the case completed.
    await eventually(async () => {
      expect(sims.stats()['prov-decides']).toMatchObject({ accepted: 1, pushed: 1, pushFailed: 0 });
      expect(sims.stats()['prov-decides12']).toMatchObject({ accepted: 1, pushed: 1, pushFailed: 0 });
    });
  });
});
