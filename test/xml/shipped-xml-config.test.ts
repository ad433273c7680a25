/**
 * The XML systems of the shipped config/: which moved to XML, in which charsets, and that each
 * one's request body can be written in its charset and its replies read by its own expressions.
 */
import path from 'node:path';
import iconv from 'iconv-lite';
import jsonata from 'jsonata';
import { loadConfig, type GatewayConfig } from '../../src/config/loader';
import { speaks, type SystemOf } from '../../src/config/schema';
import { encodeXmlDocument, readXml } from '../../src/platform/xml';
import { demoEnv, sampleOrganizationCase, samplePersonCase } from '../../sim/samples';
import { xmlDialectOf } from '../../sim/xml/dialects';

const CONFIG_DIR = path.join(__dirname, '..', '..', 'config');

describe('the shipped XML systems', () => {
  let config: GatewayConfig;
  let xml: Array<SystemOf<'xml'>>;

  beforeAll(() => {
    config = loadConfig(CONFIG_DIR, demoEnv());
    xml = [...config.systems.values()].filter((s) => speaks(s, 'xml'));
  });

  it('are 5 city and 5 provincial systems, at least 3 in GBK and 1 in GB18030', () => {
    expect(xml.map((s) => s.id).sort()).toEqual([
      'city-civil-affairs',
      'city-housing-fund',
      'city-market-supervision',
      'city-real-estate-registration',
      'city-urban-management',
      'prov-agriculture',
      'prov-education',
      'prov-forestry',
      'prov-transport',
      'prov-water-resources',
    ]);
    expect(xml.filter((s) => s.level === 'city')).toHaveLength(5);
    expect(xml.filter((s) => s.level === 'provincial')).toHaveLength(5);
    expect(xml.filter((s) => s.charset === 'gbk').length).toBeGreaterThanOrEqual(3);
    expect(xml.filter((s) => s.charset === 'gb18030').length).toBeGreaterThanOrEqual(1);
  });

  it('point at their XML simulator and name their root element', () => {
    for (const s of xml) {
      expect(s.endpoint).toBe(`http://127.0.0.1:9100/sim/${s.id}/xml`);
      expect(s.xml.root).toMatch(/^[A-Z][A-Za-z]+$/);
    }
  });

  it('write every sample case as XML in their charset, a 生僻字 name intact (a reference in GBK)', async () => {
    for (const s of xml) {
      for (const kase of [samplePersonCase(), sampleOrganizationCase()]) {
        kase.applicant.name = `${kase.applicant.name}𬇕`;
        const body = await jsonata(s.request!.body).evaluate(kase);
        const bytes = encodeXmlDocument(s.xml.root, body, s.charset);
        const text = iconv.decode(bytes, s.charset);
        expect({ id: s.id, undecodable: text.includes('\uFFFD') }).toEqual({ id: s.id, undecodable: false });
        expect(text).toContain(s.charset === 'gbk' ? '&#x2C1D5;' : '𬇕');
        const read = JSON.stringify(readXml(text));
        expect({ id: s.id, name: read.includes(kase.applicant.name), caseId: read.includes(kase.caseId) }).toEqual({ id: s.id, name: true, caseId: true });
      }
    }
  });

  it('each fit one of the XML simulator reply dialects', async () => {
    const dialects = new Set<string>();
    for (const s of xml) dialects.add((await xmlDialectOf(s)).name);
    expect([...dialects].sort()).toEqual(['XA', 'XB', 'XC', 'XD']);
  });
});
