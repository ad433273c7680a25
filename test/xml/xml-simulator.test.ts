/**
 * The XML simulator (sim/xml): the shipped XML systems answered in their own charset's bytes and
 * reply dialect, a body in the wrong charset refused as a real GBK server would, and the whole loop
 * with a gateway — delivered as GBK/GB18030 XML, decided, and pushed home as XML.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import jsonata from 'jsonata';
import { loadConfig, type GatewayConfig } from '../../src/config/loader';
import { speaks, type SystemConfig, type SystemOf } from '../../src/config/schema';
import type { RunningGateway } from '../../src/gateway';
import { charsetLabel } from '../../src/platform/charset';
import { encodeXmlDocument, readXml } from '../../src/platform/xml';
import { demoEnv, resultTokenVar, samplePersonCase } from '../../sim/samples';
import { startSimulators, type Simulators } from '../../sim/server';
import { xmlSimulator } from '../../sim/xml/xml.simulator';
import { caseView, eventually, startTestGateway, submit } from '../support/harness';

const CONFIG_DIR = path.join(__dirname, '..', '..', 'config');
const RARE_NAME = '王𬇕';

describe('the simulated XML systems of the shipped config', () => {
  let config: GatewayConfig;
  let sims: Simulators;
  let seq = 0;

  beforeAll(async () => {
    config = loadConfig(CONFIG_DIR, demoEnv());
    sims = await startSimulators({ configDir: CONFIG_DIR, port: 0, env: demoEnv(), protocols: [xmlSimulator], log: () => undefined });
  });

  afterAll(async () => {
    await sims?.close();
  });

  const xmlSystems = (): Array<SystemOf<'xml'>> => [...config.systems.values()].filter((s) => speaks(s, 'xml'));

  async function post(system: SystemConfig, bytes: Buffer, contentType = `text/xml; charset=${charsetLabel(system.charset)}`, key?: string) {
    const res = await fetch(`${sims.url}/sim/${system.id}/xml`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(key ? { 'idempotency-key': key } : {}) },
      body: bytes,
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const reply = readXml(iconv.decode(raw, system.charset));
    const evaluate = async (expression: string | undefined): Promise<unknown> => (expression ? jsonata(expression).evaluate(reply) : undefined);
    return {
      status: res.status,
      type,
      raw,
      success: await evaluate(system.response!.success),
      receiptNo: await evaluate(system.response!.receiptNo),
      error: await evaluate(system.response!.error),
      retryable: await evaluate(system.response!.retryable),
    };
  }

  async function submitCase(system: SystemOf<'xml'>, overrides: Parameters<typeof samplePersonCase>[0] = {}) {
    seq++;
    const kase = samplePersonCase({ caseId: `QZ-XMLSIM-${String(seq).padStart(6, '0')}`, ...overrides });
    kase.applicant.name = RARE_NAME;
    const body = await jsonata(system.request!.body).evaluate(kase);
    return { kase, reply: await post(system, encodeXmlDocument(system.xml.root, body, system.charset), undefined, `${kase.caseId}:${system.id}`) };
  }

  it('accepts a mapped case for every XML system, answering in its charset a reply its response expressions read', async () => {
    expect(xmlSystems()).toHaveLength(10);
    for (const system of xmlSystems()) {
      const { kase, reply } = await submitCase(system);
      expect({ id: system.id, status: reply.status, success: reply.success, type: reply.type }).toEqual({
        id: system.id,
        status: 200,
        success: true,
        type: `text/xml; charset=${charsetLabel(system.charset)}`,
      });
      expect(reply.receiptNo).toEqual(expect.stringMatching(/^(ZJ|QZ)[A-Z]{2,4}\d{13}$/));
      expect(iconv.decode(reply.raw, system.charset).startsWith(`<?xml version="1.0" encoding="${charsetLabel(system.charset)}"?>`)).toBe(true);
      // The system read the name back intact, whether it travelled as bytes or as a reference.
      const seen = sims.requests(system.id).at(-1);
      expect(seen?.idempotencyKey).toBe(`${kase.caseId}:${system.id}`);
      expect(JSON.stringify(seen?.body)).toContain(RARE_NAME);
    }
  });

  it('answers a refusal, a retry-later and a back-end failure in each dialect', async () => {
    for (const id of ['city-market-supervision', 'city-housing-fund', 'city-civil-affairs', 'prov-water-resources']) {
      const system = (config.systems.get(id) as SystemOf<'xml'>);
      const refused = (await submitCase(system, { itemName: '出具证明 SIM-REJECT' })).reply;
      expect({ id, success: refused.success, retryable: refused.retryable, error: refused.error }).toEqual({
        id,
        success: false,
        retryable: false,
        error: '材料不齐全，请补充后重新提交',
      });
      const busy = (await submitCase(system, { itemName: '出具证明 SIM-RETRY' })).reply;
      expect({ id, success: busy.success, retryable: busy.retryable }).toEqual({ id, success: false, retryable: true });
      sims.setFaults(id, { failureRate: 1 });
      const broken = (await submitCase(system)).reply;
      sims.setFaults(id, { failureRate: 0 });
      expect({ id, status: broken.status, success: broken.success }).toEqual({ id, status: 500, success: false });
    }
  });

  it('refuses, as a GBK-only server would, a body in another charset or with another root', async () => {
    const system = config.systems.get('prov-forestry') as SystemOf<'xml'>;
    expect(system.charset).toBe('gbk');
    const body = await jsonata(system.request!.body).evaluate(samplePersonCase());
    const utf8 = await post(system, encodeXmlDocument(system.xml.root, body, 'utf-8'), 'text/xml; charset=UTF-8');
    expect(utf8.status).toBe(400);
    expect(utf8.error).toBe('报文格式错误: Content-Type says UTF-8, this system speaks GBK');
    const unlabelled = await post(system, Buffer.from(encodeXmlDocument(system.xml.root, body, 'utf-8').toString('utf8').replace(/^<\?xml[^>]*>/, '')), 'text/xml');
    expect(unlabelled.status).toBe(400);
    expect(unlabelled.error).toMatch(/^报文格式错误: the body is not valid GBK/);
    const otherRoot = await post(system, encodeXmlDocument('Other', body, 'gbk'));
    expect(otherRoot.error).toBe(`报文格式错误: the root element must be <${system.xml.root}>, not <Other>`);
  });
});

describe('the whole loop with a gateway', () => {
  const SYSTEMS = ['city-market-supervision', 'city-real-estate-registration', 'prov-water-resources', 'city-housing-fund'];
  // Each system its own inbound token, as in the shipped config.
  const tokenOf = (id: string) => `xml-loop-token-${id}`;
  let dir: string;
  let sims: Simulators;
  let gateway: RunningGateway;
  const simLog: string[] = [];

  beforeAll(async () => {
    // Copies of shipped XML systems: GBK (XB, attributes in the request), GB18030 (XA), GBK (XD), UTF-8 (XC).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-xml-loop-'));
    fs.mkdirSync(path.join(dir, 'systems'));
    fs.writeFileSync(path.join(dir, 'routes.yaml'), `routes:\n  - itemCode: "330800-*"\n    targets: [${SYSTEMS[0]}]\n`);
    fs.writeFileSync(path.join(dir, 'gateway.yaml'), '');
    for (const id of SYSTEMS) {
      const text = fs.readFileSync(path.join(CONFIG_DIR, 'systems', `${id}.yaml`), 'utf8');
      fs.writeFileSync(path.join(dir, 'systems', `${id}.yaml`), text.replace(`\${${resultTokenVar(id)}}`, tokenOf(id)));
    }
    sims = await startSimulators({ configDir: dir, port: 0, env: {}, protocols: [xmlSimulator], defaults: { decisionDelayMs: 20 }, log: (line) => simLog.push(line) });
    for (const id of SYSTEMS) {
      const file = path.join(dir, 'systems', `${id}.yaml`);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('http://127.0.0.1:9100', sims.url));
    }
    // The sample cases name files of the simulators' material store.
    fs.writeFileSync(path.join(dir, 'gateway.yaml'), `materials: { stores: { intake: { baseUrl: "${sims.url}/sim/materials/" } } }\n`);
    gateway = await startTestGateway(dir);
    sims.setGatewayUrl(gateway.url);
  });

  afterAll(async () => {
    await gateway?.stop();
    await sims?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers GBK and GB18030 XML to the simulators and completes each case from the XML result they push', async () => {
    for (const id of SYSTEMS.slice(0, 3)) {
      const kase = samplePersonCase({ caseId: `QZ-XMLLOOP-${id.length}${Date.now() % 100000}`, targets: [id] });
      kase.applicant.name = RARE_NAME;
      expect((await submit(gateway, kase)).status).toBe(202);
      const delivery = await eventually(async () => {
        const view = await caseView(gateway, kase.caseId);
        expect({ id, status: view.body.deliveries[0].status }).toEqual({ id, status: 'completed' });
        return view.body.deliveries[0];
      });
      expect(delivery.receiptNo).toMatch(/^(ZJ|QZ)[A-Z]{2,4}\d{13}$/);
      expect(delivery.result).toMatchObject({ outcome: 'approved', receiptNo: delivery.receiptNo });
      expect(JSON.stringify(sims.requests(id).at(-1)?.body)).toContain(RARE_NAME);
      // The simulator marks its push done when the gateway's acknowledgement reaches it, which may be
      // a moment after the gateway has recorded the result.
      await eventually(async () => expect(sims.results(id).at(-1)).toMatchObject({ push: 'pushed' }));
    }
  });

  it('pushes a UTF-8 system result only when its result.map reads the all-string XML as it reads the body, and says why not', async () => {
    const id = 'city-housing-fund';
    const map = loadConfig(dir, {}).systems.get(id)!.result!.map;
    const kase = samplePersonCase({ caseId: `QZ-XMLLOOP-NUM${Date.now() % 100000}`, targets: [id] });
    expect((await submit(gateway, kase)).status).toBe(202);
    if (/\$number\(/.test(map)) {
      await eventually(async () => expect((await caseView(gateway, kase.caseId)).body.deliveries[0].status).toBe('completed'));
      return;
    }
    // A map comparing numbers (status = 1) would misread the pushed XML: the simulator refuses to push it.
    await eventually(async () => expect(sims.results(id).at(-1)).toMatchObject({ push: 'failed' }));
    expect(simLog.join('\n')).toContain(`result.map of ${id} reads the pushed XML, where every value is a string`);
    expect((await caseView(gateway, kase.caseId)).body.deliveries[0].status).toBe('delivered');
  });
});
