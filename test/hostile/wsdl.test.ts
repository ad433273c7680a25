/**
 * A WSDL is a document that names further documents, and a dry run takes a configuration an admin
 * proposes: neither may take the gateway, or a system's credentials, anywhere it would not go to
 * deliver. Real listeners on port 0 record whether they were called and with which Authorization.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunningGateway } from '../../src/gateway';
import { admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { CASE_NS, addWsdls, caseServiceWsdl, soapPeer, soapSystem, type SoapPeer } from '../soap/support';

const BASIC = `Basic ${Buffer.from('gw:basic-secret').toString('base64')}`;
const CODES_XSD = `<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ow:test:codes">
  <xsd:simpleType name="code"><xsd:restriction base="xsd:string"/></xsd:simpleType>
</xsd:schema>
`;

/** The test case service's WSDL, its schema importing another schema from `location`. */
function importingWsdl(endpoint: string, location: string): string {
  return caseServiceWsdl('1.1', endpoint).replace(
    `<xsd:schema targetNamespace="${CASE_NS}" elementFormDefault="qualified">`,
    `$&<xsd:import namespace="urn:ow:test:codes" schemaLocation="${location}"/>`,
  );
}

/** A listener that serves `documents` by path (404 otherwise) and records every request. */
function documentServer(documents: () => Record<string, string>): Promise<LegacyServer> {
  return legacyServer((req, _n, res) => {
    const text = documents()[req.url.split('?')[0]!];
    if (text === undefined) return replyJson(res, 404, { error: 'no such document' });
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
    res.end(text);
  });
}

const fetchesOf = (server: LegacyServer, at: string) => server.received.filter((r) => r.url.split('?')[0] === at);

async function delivery(gateway: RunningGateway, caseId: string): Promise<any> {
  return (await caseView(gateway, caseId)).body.deliveries[0];
}

describe('when a WSDL, what it imports or a dry run would take the gateway elsewhere', () => {
  let peer: SoapPeer;
  /** Serves the WSDLs named in the configuration: their origin is one the systems trust. */
  let docs: LegacyServer;
  /** Allowed by egress.allow, but the origin of neither a system's endpoint nor its WSDL. */
  let other: LegacyServer;
  /** Allowed by egress.allow, and named only by what an admin proposes in a dry run. */
  let trap: LegacyServer;
  /** A loopback port egress.allow does not list. */
  let refused: LegacyServer;
  let legacy: LegacyServer;
  let dir: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    peer = await soapPeer({ version: '1.1', submitCase: (args) => ({ code: '0', msg: '成功', slbh: `SL-${args.bizNo}` }) });
    other = await documentServer(() => ({ '/codes.xsd': CODES_XSD }));
    refused = await documentServer(() => ({ '/codes.xsd': CODES_XSD }));
    trap = await documentServer(() => ({ '/case.wsdl': caseServiceWsdl('1.1', peer.url) }));
    docs = await documentServer(() => ({
      '/plain.wsdl': caseServiceWsdl('1.1', peer.url),
      '/imports-other.wsdl': importingWsdl(peer.url, `${other.url}/codes.xsd`),
      '/imports-refused.wsdl': importingWsdl(peer.url, `${refused.url}/codes.xsd`),
    }));
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const basic = { type: 'basic', username: 'gw', password: 'basic-secret' };
    const wsdlAt = (url: string) => ({ soap: { wsdl: url, service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' } });
    dir = writeConfig(
      [
        soapSystem('prov-file', peer.url, { auth: basic }),
        soapSystem('prov-url', peer.url, { auth: basic, ...wsdlAt(`${docs.url}/plain.wsdl`) }),
        soapSystem('prov-imports', peer.url, { auth: basic, ...wsdlAt(`${docs.url}/imports-other.wsdl`) }),
        soapSystem('prov-refused', peer.url, { auth: basic, ...wsdlAt(`${docs.url}/imports-refused.wsdl`) }),
        restSystem('city-rest', `${legacy.url}/cases`, { auth: { type: 'bearer', token: 'rest-secret-token' } }),
      ],
      {
        routes: [
          { itemCode: 'URL-*', targets: ['prov-url'] },
          { itemCode: 'IMPORTS-*', targets: ['prov-imports'] },
          { itemCode: 'REFUSED-*', targets: ['prov-refused'] },
          { itemCode: '*', targets: ['prov-file'] },
        ],
      },
      { egress: { allow: [peer, docs, other, trap, legacy].map((s) => new URL(s.url).host) } },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1'), 'imports-outside.wsdl': importingWsdl(peer.url, `../../${path.basename(dir)}-outside.wsdl`) });
    fs.writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.wsdl`), caseServiceWsdl('1.1'));
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    for (const server of [peer, docs, other, trap, refused, legacy]) await server.close();
    fs.rmSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.wsdl`), { force: true });
  });

  const shown = async (id: string) => (await admin(gateway, 'GET', `/systems/${id}`)).body.system as Record<string, any>;

  it('then a dry run of a proposed configuration whose WSDL is a URL fetches nothing and says the envelope cannot be previewed', async () => {
    const soapSettings = { wsdl: `${trap.url}/case.wsdl`, service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' };
    const soapFile = await shown('prov-file');
    const rest = await shown('city-rest');
    for (const [id, system] of [
      ['prov-file', { ...soapFile, soap: soapSettings }],
      // A REST system proposed as SOAP: its stored bearer token is restored from `[redacted]` first.
      ['city-rest', { ...rest, protocol: 'soap', soap: soapSettings, response: { success: 'code = "0"', receiptNo: 'slbh' } }],
    ] as const) {
      const dry = await admin(gateway, 'POST', `/systems/${id}/dry-run`, { case: sampleCase(), system });
      expect(dry.status).toBe(400);
      expect(dry.body.error.details[0].message).toContain('cannot be previewed without fetching');
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(trap.received).toEqual([]);
    expect(peer.received).toEqual([]);
  });

  it('then a dry run uses a WSDL only once a delivery has loaded it, and never fetches it again', async () => {
    const before = await admin(gateway, 'POST', '/systems/prov-url/dry-run', { case: sampleCase() });
    expect(before.status).toBe(400);
    expect(before.body.error.details[0].message).toContain('cannot be previewed without fetching');
    expect(fetchesOf(docs, '/plain.wsdl')).toHaveLength(0);

    const c = sampleCase({ itemCode: 'URL-1' });
    await submit(gateway, c);
    await eventually(async () => expect((await delivery(gateway, c.caseId as string)).status).toBe('delivered'));
    expect(fetchesOf(docs, '/plain.wsdl')).toHaveLength(1);

    const current = await admin(gateway, 'POST', '/systems/prov-url/dry-run', { case: sampleCase() });
    expect(current.status).toBe(200);
    expect(current.body.request.body).toMatch(/<SubmitCase xmlns="[^"]+"><bizNo>/);
    const proposed = await admin(gateway, 'POST', '/systems/prov-url/dry-run', { case: sampleCase(), system: { ...(await shown('prov-url')), request: { body: '{"bizNo": caseId, "sqrxm": "预览", "sfzh": "", "sxbm": itemCode}' } } });
    expect(proposed.status).toBe(200);
    expect(proposed.body.request.body).toContain('<sqrxm>预览</sqrxm>');
    expect(fetchesOf(docs, '/plain.wsdl')).toHaveLength(1);
    expect(peer.received).toHaveLength(1);
  });

  it('then a schema a WSDL imports from a port egress.allow does not list is not fetched, and the delivery says why', async () => {
    const c = sampleCase({ itemCode: 'REFUSED-1' });
    await submit(gateway, c);
    const stuck = await eventually(async () => {
      const d = await delivery(gateway, c.caseId as string);
      expect(d.lastError).toContain('egress.allow');
      return d;
    });
    expect(stuck.status).not.toBe('delivered');
    expect(fetchesOf(docs, '/imports-refused.wsdl').length).toBeGreaterThan(0);
    expect(refused.received).toEqual([]);
  });

  it("then credentials go to the WSDL's own origin but not to another origin it imports from", async () => {
    const c = sampleCase({ itemCode: 'IMPORTS-1' });
    await submit(gateway, c);
    await eventually(async () => expect((await delivery(gateway, c.caseId as string)).status).toBe('delivered'));
    expect(fetchesOf(docs, '/imports-other.wsdl').map((r) => r.headers.authorization)).toEqual([BASIC]);
    expect(fetchesOf(other, '/codes.xsd')).toHaveLength(1);
    expect(other.received[0]!.headers.authorization).toBeUndefined();
    expect(peer.received.at(-1)!.headers.authorization).toBe(BASIC);
  });

  it('then a WSDL file outside the configuration folder is refused at soap.wsdl, and a file that is no WSDL is not quoted', async () => {
    const base = await shown('prov-file');
    const outside = path.join(path.dirname(dir), `${path.basename(dir)}-outside.wsdl`);
    for (const wsdl of [`../${path.basename(outside)}`, outside, '/etc/passwd', './wsdl/../../etc/passwd']) {
      for (const [method, route] of [['PUT', '/systems/prov-file'], ['POST', '/systems/prov-file/dry-run']] as const) {
        const system = { ...base, soap: { ...base.soap, wsdl } };
        const answer = await admin(gateway, method, route, method === 'PUT' ? system : { system });
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatchObject({ code: 'invalid_config', details: [expect.objectContaining({ path: 'soap.wsdl' })] });
        expect(JSON.stringify(answer.body)).not.toContain('root:');
      }
    }
    // Inside the folder but not a WSDL: said in words that quote nothing of the file.
    const yaml = await admin(gateway, 'POST', '/systems/prov-file/dry-run', { system: { ...base, soap: { ...base.soap, wsdl: './gateway.yaml' } } });
    expect(yaml.status).toBe(400);
    expect(yaml.body.error.details[0].message).toContain('not a WSDL document');
    expect(yaml.body.error.details[0].message).not.toMatch(/Char|Line|Column|egress/);
    const missing = await admin(gateway, 'POST', '/systems/prov-file/dry-run', { system: { ...base, soap: { ...base.soap, wsdl: './wsdl/none.wsdl' } } });
    expect(missing.body.error.details[0].message).toContain('no such file');
    // A WSDL inside the folder that imports a file outside it: that file is not read.
    const importing = await admin(gateway, 'POST', '/systems/prov-file/dry-run', { system: { ...base, soap: { ...base.soap, wsdl: './wsdl/imports-outside.wsdl' } } });
    expect(importing.status).toBe(400);
    expect(importing.body.error.details[0].message).toContain('it imports a file outside the configuration folder');
    expect((await admin(gateway, 'GET', '/systems/prov-file')).body.version).toBe(1);
  });
});
