/**
 * Results pushed as XML to `POST /xml/results/:systemId`: decoded like replies, mapped by the
 * system's `result.map`, acknowledged in XML in the system's charset; and every refusal (bad
 * credentials, bad bytes, bad XML, the attack corpus) answered quickly with nothing stored.
 */
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import { OPS_TOKEN, caseView, eventually, sampleCase, startTestGateway, submit, uniquePrefix, writeConfig } from '../support/harness';
import { HEAP_GROWTH_LIMIT, attackCorpus, countingServer, cpuTime, heapUsed, reply, storedState, xmlSystem } from './support';
import { legacyServer, type LegacyServer } from '../support/harness';

const TOKEN = 'xml-push-token';
const GBK_SYSTEM = 'city-xml-push';
const GB18030_SYSTEM = 'prov-xml-push';
const NO_TOKEN_SYSTEM = 'city-xml-no-token';

let legacy: LegacyServer;
let gateway: RunningGateway;
let prefix: string;
let receipts = 0;

beforeAll(async () => {
  // The legacy systems accept every delivery under a receipt number with leading zeros.
  legacy = await legacyServer((_req, _n, res) => {
    receipts++;
    const receiptNo = `00${String(receipts).padStart(5, '0')}`;
    reply(res, 200, 'text/xml; charset=GBK', iconv.encode(`<Response><code>0</code><msg>成功</msg><data><slbh>${receiptNo}</slbh></data></Response>`, 'gbk'));
  });
  const dir = writeConfig(
    [
      xmlSystem(GBK_SYSTEM, legacy.url),
      xmlSystem(GB18030_SYSTEM, legacy.url, { level: 'provincial', charset: 'gb18030' }),
      xmlSystem(NO_TOKEN_SYSTEM, legacy.url, { result: { mode: 'push', map: 'Result.{"caseId": ywh, "outcome": "approved"}' } }),
    ],
    { routes: [{ itemCode: '330800-*', targets: [GBK_SYSTEM] }] },
  );
  prefix = uniquePrefix();
  gateway = await startTestGateway(dir, { keyPrefix: prefix });
});

afterAll(async () => {
  await gateway?.stop();
  await legacy?.close();
});

interface Pushed {
  status: number;
  contentType: string | null;
  bytes: Buffer;
  text: string;
}

async function push(systemId: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Pushed> {
  const res = await fetch(`${gateway.url}/xml/results/${systemId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=GBK', authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? iconv.encode(body, 'gbk') : body,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type');
  const charset = /charset=([\w-]+)/.exec(contentType ?? '')?.[1] ?? 'utf-8';
  return { status: res.status, contentType, bytes, text: iconv.decode(bytes, charset) };
}

/** A case delivered to `systemId`, with the receipt number the legacy system gave it. */
async function deliveredCase(systemId: string): Promise<{ caseId: string; receiptNo: string }> {
  const kase = sampleCase({ targets: [systemId] });
  expect((await submit(gateway, kase)).status).toBe(202);
  const caseId = String(kase.caseId);
  const receiptNo = await eventually(async () => {
    const delivery = (await caseView(gateway, caseId)).body.deliveries[0];
    expect(delivery.status).toBe('delivered');
    return String(delivery.receiptNo);
  });
  return { caseId, receiptNo };
}

async function unmatched(): Promise<unknown[]> {
  const res = await fetch(`${gateway.url}/api/v1/admin/unmatched-results`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: unknown[] }).items;
}

describe('a pushed XML result', () => {
  it('is recorded from GBK bytes, 生僻字 references included, and acknowledged in GBK', async () => {
    const { caseId } = await deliveredCase(GBK_SYSTEM);
    const xml = `<?xml version="1.0" encoding="GBK"?><Result><ywh>${caseId}</ywh><jg>1</jg><yj>准予许可：申请人王&#x2C1D5;材料齐全</yj></Result>`;
    const first = await push(GBK_SYSTEM, xml);
    expect(first.status).toBe(200);
    expect(first.contentType).toBe('text/xml; charset=GBK');
    expect(first.bytes.includes(iconv.encode('成功', 'gbk'))).toBe(true);
    expect(first.text).toBe(`<?xml version="1.0" encoding="GBK"?><Ack><code>0</code><msg>成功</msg><caseId>${caseId}</caseId><duplicate>false</duplicate></Ack>`);

    const view = await caseView(gateway, caseId);
    expect(view.body.deliveries[0]).toMatchObject({ status: 'completed', result: { outcome: 'approved', message: '准予许可：申请人王𬇕材料齐全' } });

    const again = await push(GBK_SYSTEM, xml);
    expect(again.status).toBe(200);
    expect(again.text).toContain('<duplicate>true</duplicate>');
  });

  it('is correlated by a receipt number with leading zeros, kept exactly as a string', async () => {
    const { caseId, receiptNo } = await deliveredCase(GBK_SYSTEM);
    expect(receiptNo).toMatch(/^00\d{5}$/);
    const res = await push(GBK_SYSTEM, `<Result><slbh>${receiptNo}</slbh><jg>0</jg><yj>不予许可</yj></Result>`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<caseId>${caseId}</caseId>`);
    expect((await caseView(gateway, caseId)).body.deliveries[0]).toMatchObject({ status: 'completed', result: { outcome: 'rejected', receiptNo } });
  });

  it('is decoded from GB18030 (four-byte characters) and acknowledged in GB18030', async () => {
    const { caseId } = await deliveredCase(GB18030_SYSTEM);
    const res = await push(GB18030_SYSTEM, iconv.encode(`<?xml version="1.0" encoding="GB18030"?><Result><ywh>${caseId}</ywh><jg>1</jg><yj>王𬇕</yj></Result>`, 'gb18030'), {
      'content-type': 'application/xml',
    });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/xml; charset=GB18030');
    expect((await caseView(gateway, caseId)).body.deliveries[0].result.message).toBe('王𬇕');
  });

  it('for an unknown case is answered 404 and kept for ops as unmatched', async () => {
    const before = (await unmatched()).length;
    const res = await push(GBK_SYSTEM, '<Result><ywh>QZ-NO-SUCH-CASE</ywh><jg>1</jg></Result>');
    expect(res.status).toBe(404);
    expect(res.text).toMatch(/^<\?xml version="1.0" encoding="GBK"\?><Ack><code>unknown_case<\/code><msg>No delivery matches this result; it is kept for ops as unmatched result city-xml-push\.[\w-]+\.<\/msg><\/Ack>$/);
    expect((await unmatched()).length).toBe(before + 1);
  });

  it('that does not map is answered 400 with the reasons, nothing stored', async () => {
    const before = await storedState(prefix);
    const res = await push(GBK_SYSTEM, '<Result><jg>1</jg></Result>');
    expect(res.status).toBe(400);
    expect(res.text).toBe(
      '<?xml version="1.0" encoding="GBK"?><Ack><code>invalid_result</code><msg>The result names neither a caseId nor a receiptNo.</msg>' +
        '<details><detail><path>caseId</path><message>required when there is no receiptNo</message></detail></details></Ack>',
    );
    expect(await storedState(prefix)).toEqual(before);
  });
});

describe('a refused push', () => {
  it('is 401 without the system bearer token, or for a system that has none, acknowledged in UTF-8', async () => {
    const wrong = await push(GBK_SYSTEM, '<Result/>', { authorization: 'Bearer wrong' });
    expect(wrong.status).toBe(401);
    // In UTF-8: the charset would tell a stranger that the system exists.
    expect(wrong.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Ack><code>unauthorized</code><msg>A valid bearer token of the pushing system is required.</msg></Ack>');
    expect((await push(GBK_SYSTEM, '<Result/>', { authorization: '' })).status).toBe(401);
    expect((await push(NO_TOKEN_SYSTEM, '<Result/>')).status).toBe(401);
  });

  it('is 401 in UTF-8 for an unknown system, as for a wrong token (ids are not revealed)', async () => {
    const res = await push('city-nowhere', '<Result/>');
    expect(res.status).toBe(401);
    expect(res.contentType).toBe('text/xml; charset=UTF-8');
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Ack><code>unauthorized</code><msg>A valid bearer token of the pushing system is required.</msg></Ack>');
  });

  it('is 400 for malformed XML, bytes that are not valid in the charset, or a header and declaration that disagree', async () => {
    const before = await storedState(prefix);
    const malformed = await push(GBK_SYSTEM, '<Result><ywh>x</Result>');
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('<code>invalid_xml</code>');
    const undecodable = await push(GBK_SYSTEM, Buffer.from([0x3c, 0x52, 0x3e, 0x81, 0x20, 0x3c, 0x2f, 0x52, 0x3e]));
    expect(undecodable.status).toBe(400);
    expect(undecodable.text).toContain('not valid GBK');
    const disagreeing = await push(GBK_SYSTEM, iconv.encode('<?xml version="1.0" encoding="GBK"?><Result><yj>张三</yj></Result>', 'gbk'), { 'content-type': 'text/xml; charset=utf-8' });
    expect(disagreeing.status).toBe(400);
    expect(disagreeing.text).toContain('the Content-Type says utf-8 but the XML declaration says GBK');
    const rootOnly = await push(GBK_SYSTEM, '<Result>text</Result>');
    expect(rootOnly.status).toBe(400);
    expect(rootOnly.text).toContain('<code>invalid_result</code>');
    expect(await storedState(prefix)).toEqual(before);
  });

  it('is 413 when larger than the body limit', async () => {
    const res = await push(GBK_SYSTEM, `<Result><yj>${'x'.repeat(1024 * 1024 + 10)}</yj></Result>`);
    expect(res.status).toBe(413);
    expect(res.text).toContain('<code>payload_too_large</code>');
  });
});

describe('the attack corpus, pushed', () => {
  it('is refused in under 100 ms (CPU) each, nothing fetched, nothing stored, no prototype touched, the heap flat', async () => {
    const entities = await countingServer();
    try {
      const { caseId } = await deliveredCase(GBK_SYSTEM);
      const corpus = attackCorpus(entities.url).map((a) => ({ ...a, xml: a.xml.replace(/<ywh>[^<]*<\/ywh>/, `<ywh>${caseId}</ywh>`) }));
      await push(GBK_SYSTEM, '<Result/>'); // a warm connection, so that the timings are the refusals'
      const viewBefore = (await caseView(gateway, caseId)).body;
      const unmatchedBefore = await unmatched();
      const storedBefore = await storedState(prefix);
      const heapBefore = heapUsed();
      for (const attack of corpus) {
        await push(GBK_SYSTEM, Buffer.from(attack.xml)); // warm: what is timed is the refusal
        for (let round = 0; round < 3; round++) {
          const { value: res, ms } = await cpuTime(() => push(GBK_SYSTEM, Buffer.from(attack.xml)));
          expect({ attack: attack.name, status: res.status, code: /<code>(\w+)<\/code>/.exec(res.text)?.[1] }).toEqual({
            attack: attack.name,
            status: attack.name === '1 MB attribute' ? 413 : 400,
            code: attack.name === '1 MB attribute' ? 'payload_too_large' : 'invalid_xml',
          });
          expect({ attack: attack.name, under100ms: ms < 100, ms: Math.round(ms) }).toMatchObject({ attack: attack.name, under100ms: true });
        }
      }
      expect(heapUsed() - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
      expect(entities.hits()).toBe(0);
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(await unmatched()).toEqual(unmatchedBefore);
      expect(await storedState(prefix)).toEqual(storedBefore);
      expect((await caseView(gateway, caseId)).body).toEqual(viewBefore);
    } finally {
      await entities.close();
    }
  });
});
