/**
 * Delivering to XML systems over real HTTP with real GBK and GB18030 bytes: what the legacy server
 * receives (checked by decoding its raw bytes), how replies are decoded and read, and how every
 * failure is classified.
 */
import crypto from 'node:crypto';
import iconv from 'iconv-lite';
import type { RunningGateway } from '../../src/gateway';
import { readXml } from '../../src/platform/xml';
import { caseView, eventually, sampleCase, startTestGateway, submit, writeConfig } from '../support/harness';
import { countingServer, reply, strictGbk, xmlSystem } from './support';
import { legacyServer, type LegacyServer, type Received } from '../support/harness';

type Answer = (bytes: Buffer, n: number) => { status?: number; type?: string; body: Buffer };

/** One legacy server per system, each answering through its own `answer`. */
const answers = new Map<string, Answer>();
let server: LegacyServer;
let gateway: RunningGateway;
let entities: Awaited<ReturnType<typeof countingServer>>;

const gbk = (text: string): Buffer => iconv.encode(text, 'gbk');
const gb18030 = (text: string): Buffer => iconv.encode(text, 'gb18030');
const accepted = (receiptNo: string, label = 'GBK'): string =>
  `<?xml version="1.0" encoding="${label}"?><Response><code>0</code><msg>成功</msg><data><slbh>${receiptNo}</slbh></data></Response>`;
const HMAC_SECRET = 'xml-hmac-secret';

// Failures count towards a system's circuit breaker: each test that fails deliveries has its own system.
const SYSTEMS = {
  gbk: 'city-xml-gbk',
  mismatch: 'city-xml-mismatch',
  garbled: 'city-xml-garbled',
  doctype: 'city-xml-doctype',
  broken: 'city-xml-broken',
  busy: 'city-xml-busy',
  huge: 'city-xml-huge',
  gb18030: 'prov-xml-gb18030',
  utf8: 'city-xml-utf8',
  hmac: 'city-xml-hmac',
  badToken: 'city-xml-bad-token',
  badName: 'city-xml-bad-name',
} as const;

beforeAll(async () => {
  server = await legacyServer((req, n, res) => {
    const systemId = req.url.slice(1);
    const answer = answers.get(systemId);
    if (!answer) return reply(res, 404, 'text/plain', Buffer.from(`no answer for ${systemId}`));
    const out = answer(req.bytes, n);
    reply(res, out.status ?? 200, out.type, out.body);
  });
  entities = await countingServer();
  // One server plays every system: the path names the system.
  const at = (id: string): string => `${server.url}/${id}`;
  const dir = writeConfig(
    [
      ...[SYSTEMS.gbk, SYSTEMS.mismatch, SYSTEMS.garbled, SYSTEMS.doctype, SYSTEMS.broken, SYSTEMS.busy, SYSTEMS.huge].map((id) => xmlSystem(id, at(id))),
      xmlSystem(SYSTEMS.gb18030, at(SYSTEMS.gb18030), { level: 'provincial', charset: 'gb18030', xml: { root: 'ApplyInfo' } }),
      xmlSystem(SYSTEMS.utf8, at(SYSTEMS.utf8), { charset: 'utf-8', request: { body: '{"ywh": caseId, "bz": form.bell ? "line\\u0007bell" : form.bz}' } }),
      xmlSystem(SYSTEMS.hmac, at(SYSTEMS.hmac), { auth: { type: 'hmac', secret: HMAC_SECRET } }),
      xmlSystem(SYSTEMS.badToken, at(SYSTEMS.badToken), { auth: { type: 'bearer', token: '令牌' } }),
      xmlSystem(SYSTEMS.badName, at(SYSTEMS.badName), { request: { body: '{"ywh": caseId, "王𬇕": applicant.name}' } }),
    ],
    { routes: [{ itemCode: '330800-*', targets: [SYSTEMS.gbk] }] },
  );
  gateway = await startTestGateway(dir);
});

afterAll(async () => {
  await gateway?.stop();
  await server?.close();
  await entities?.close();
});

beforeEach(() => answers.clear());

/** The latest request the server got for one system. */
function lastTo(systemId: string): Received {
  const last = server.received.filter((r) => r.url === `/${systemId}`).at(-1);
  if (!last) throw new Error(`${systemId} received nothing`);
  return last;
}

async function deliver(systemId: string, overrides: Record<string, unknown> = {}): Promise<{ caseId: string }> {
  const kase = sampleCase({ targets: [systemId], ...overrides });
  const res = await submit(gateway, kase);
  expect(res.status).toBe(202);
  return { caseId: String(kase.caseId) };
}

async function settled(caseId: string, status: string): Promise<Record<string, any>> {
  return eventually(async () => {
    const view = await caseView(gateway, caseId);
    const delivery = view.body.deliveries[0];
    expect(delivery.status).toBe(status);
    return delivery;
  });
}

describe('a GBK system', () => {
  it('receives the Chinese fields intact as GBK bytes, with 生僻字 as character references, never "?"', async () => {
    let raw: Buffer | undefined;
    answers.set(SYSTEMS.gbk, (bytes) => {
      raw = bytes;
      return { type: 'text/xml; charset=GBK', body: gbk(accepted('0012300')) };
    });
    server.received.length = 0;
    const { caseId } = await deliver(SYSTEMS.gbk, {
      applicant: { kind: 'person', name: '张三丰𬇕', idType: 'ID_CARD', idNumber: '33080219900101123X', address: '衢州市柯城区荷花街道' },
    });
    const delivery = await settled(caseId, 'delivered');
    expect(delivery.receiptNo).toBe('0012300');
    const headers = lastTo(SYSTEMS.gbk).headers;

    // The server's side: decode the raw bytes as GBK, as a GBK-only system does.
    expect(raw).toBeDefined();
    const bytes = raw!;
    expect(bytes.includes(gbk('张三丰'))).toBe(true);
    expect(bytes.includes(Buffer.from('张三丰', 'utf8'))).toBe(false);
    const text = iconv.decode(bytes, 'gbk');
    expect(text).not.toContain('\uFFFD');
    expect(text).toBe(
      `<?xml version="1.0" encoding="GBK"?><Request version="1.0"><ywh>${caseId}</ywh><sqrxm>张三丰&#x2C1D5;</sqrxm>` +
        `<sfzh type="ID_CARD">33080219900101123X</sfzh><sxmc>出具房改核查证明</sxmc><dz>衢州市柯城区荷花街道</dz></Request>`,
    );
    expect(text.replace(/^<\?xml[^>]*\?>/, '')).not.toContain('?');
    expect(headers['content-type']).toBe('text/xml; charset=GBK');
    expect(headers['idempotency-key']).toBe(`${caseId}:${SYSTEMS.gbk}`);
  });

  it('sends characters outside GBK proper (䶮, €, private use) as character references, so a strict GBK decoder reads the whole request', async () => {
    let raw: Buffer | undefined;
    answers.set(SYSTEMS.gbk, (bytes) => {
      raw = bytes;
      return { type: 'text/xml; charset=GBK', body: gbk(accepted('0012301')) };
    });
    const { caseId } = await deliver(SYSTEMS.gbk, {
      applicant: { kind: 'person', name: '王䶮', idType: 'ID_CARD', idNumber: '33080219900101123X', address: '衢州市€\uE000街' },
    });
    await settled(caseId, 'delivered');
    const read = strictGbk.python(raw!);
    expect(strictGbk.glibc(raw!)).toBe(read);
    expect(read).toContain('<sqrxm>王&#x4DAE;</sqrxm>');
    expect(read).toContain('<dz>衢州市&#x20AC;&#xE000;街</dz>');
  });

  it('keeps leading zeros and a trailing X of a receipt number exactly', async () => {
    answers.set(SYSTEMS.gbk, () => ({ type: 'text/xml; charset=GBK', body: gbk(accepted('00330802199001011X')) }));
    const { caseId } = await deliver(SYSTEMS.gbk);
    expect((await settled(caseId, 'delivered')).receiptNo).toBe('00330802199001011X');
  });

  it('reads a reply without a charset label in the system charset', async () => {
    answers.set(SYSTEMS.gbk, () => ({ type: 'text/xml', body: gbk('<Response><code>1</code><msg>材料不齐全，请补充</msg></Response>') }));
    const { caseId } = await deliver(SYSTEMS.gbk);
    const delivery = await settled(caseId, 'rejected');
    expect(delivery.lastError).toBe(`${SYSTEMS.gbk} refused the case: 材料不齐全，请补充`);
  });

  it('retries a reply whose header and declaration disagree when it reads differently in each, naming both', async () => {
    answers.set(SYSTEMS.mismatch, () => ({ type: 'text/xml; charset=UTF-8', body: gbk(accepted('QZ0001').replace('成功', '受理成功')) }));
    const { caseId } = await deliver(SYSTEMS.mismatch);
    const delivery = await settled(caseId, 'dead');
    expect(delivery.attempts).toBe(3);
    expect(delivery.lastError).toContain(`${SYSTEMS.mismatch} answered HTTP 200 with a body that cannot be decoded`);
    expect(delivery.lastError).toContain('the Content-Type says UTF-8 but the XML declaration says GBK');
  });

  it('takes a reply whose header and declaration disagree when it reads the same in both (ASCII)', async () => {
    answers.set(SYSTEMS.gbk, () => ({ type: 'text/xml; charset=UTF-8', body: Buffer.from('<?xml version="1.0" encoding="GBK"?><Response><code>0</code><data><slbh>0001</slbh></data></Response>') }));
    const { caseId } = await deliver(SYSTEMS.gbk);
    expect((await settled(caseId, 'delivered')).receiptNo).toBe('0001');
  });

  it('retries a reply that is not XML, or not valid GBK, naming the system, and delivers once it is', async () => {
    let n = 0;
    answers.set(SYSTEMS.garbled, () => {
      n++;
      if (n === 1) return { type: 'text/html; charset=utf-8', body: Buffer.from('<html><body>系统维护中</body>') };
      if (n === 2) return { type: 'text/xml; charset=GBK', body: Buffer.concat([gbk('<Response><code>0</code><msg>'), Buffer.from([0x81, 0x20]), gbk('</msg></Response>')]) };
      return { type: 'text/xml; charset=GBK', body: gbk(accepted('QZ0002')) };
    });
    const { caseId } = await deliver(SYSTEMS.garbled);
    const delivery = await settled(caseId, 'delivered');
    expect(n).toBe(3);
    const retries = delivery.history.filter((h: { event: string }) => h.event === 'retry_scheduled').map((h: { detail: string }) => h.detail);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(`${SYSTEMS.garbled} answered HTTP 200 with a body that is not acceptable XML`);
    expect(retries[1]).toMatch(`${SYSTEMS.garbled} answered HTTP 200 with a body that cannot be decoded`);
    expect(retries.join('\n')).toContain('not valid GBK');
  });

  it('refuses a reply with a DOCTYPE without expanding or fetching it (retried as a garbled answer)', async () => {
    answers.set(SYSTEMS.doctype, () => ({
      type: 'text/xml; charset=GBK',
      body: gbk(`<?xml version="1.0" encoding="GBK"?><!DOCTYPE r [<!ENTITY x SYSTEM "${entities.url}/x">]><Response><code>0</code><data><slbh>&x;</slbh></data></Response>`),
    }));
    const { caseId } = await deliver(SYSTEMS.doctype);
    const delivery = await settled(caseId, 'dead');
    expect(delivery.lastError).toContain('DOCTYPE');
    expect(delivery.receiptNo).toBeUndefined();
    expect(entities.hits()).toBe(0);
  });

  it('classifies HTTP statuses as REST does: 5xx retried, other 4xx rejected, retryable refusals retried', async () => {
    answers.set(SYSTEMS.broken, () => ({ status: 503, type: 'text/xml; charset=GBK', body: gbk('<Response><code>500</code><msg>系统内部错误</msg></Response>') }));
    const broken = await deliver(SYSTEMS.broken);
    const dead = await settled(broken.caseId, 'dead');
    // The excerpt is the reply's text, tags dropped and personal data masked.
    expect(dead.lastError).toBe(`${SYSTEMS.broken} answered HTTP 503: 500 系统内部错误`);

    answers.set(SYSTEMS.busy, () => ({ status: 400, type: 'text/xml; charset=GBK', body: gbk('<Response><code>1</code><msg>报文格式错误</msg></Response>') }));
    const bad = await deliver(SYSTEMS.busy);
    expect((await settled(bad.caseId, 'rejected')).attempts).toBe(1);

    let tries = 0;
    answers.set(SYSTEMS.busy, () => ({ type: 'text/xml; charset=GBK', body: gbk(++tries === 1 ? '<Response><code>9</code><msg>系统繁忙</msg></Response>' : accepted('QZ0003')) }));
    const busy = await deliver(SYSTEMS.busy);
    const delivered = await settled(busy.caseId, 'delivered');
    expect(delivered.history.some((h: { detail?: string }) => h.detail === `${SYSTEMS.busy} refused for now: 系统繁忙`)).toBe(true);
  });
});

describe('a reply too large to read', () => {
  it('is retried, saying so, without being read', async () => {
    answers.set(SYSTEMS.huge, () => ({ type: 'text/xml; charset=GBK', body: gbk(`<Response><code>0</code><msg>${'长'.repeat(2_200_000)}</msg></Response>`) }));
    const { caseId } = await deliver(SYSTEMS.huge);
    const delivery = await settled(caseId, 'dead');
    expect(delivery.lastError).toBe(`${SYSTEMS.huge} answered with more than 4194304 bytes (limits.maxReplyBytes); the reply was not read`);
  });
});

describe('a GB18030 system', () => {
  it('decodes a GB18030 reply, four-byte characters included', async () => {
    answers.set(SYSTEMS.gb18030, () => ({
      type: 'application/xml; charset=GB18030',
      body: gb18030('<?xml version="1.0" encoding="GB18030"?><Response><code>1</code><msg>申请人王𬇕的材料不齐全</msg></Response>'),
    }));
    const { caseId } = await deliver(SYSTEMS.gb18030, { applicant: { kind: 'person', name: '王𬇕', idType: 'ID_CARD', idNumber: '330802199001011234' } });
    const delivery = await settled(caseId, 'rejected');
    expect(delivery.lastError).toBe(`${SYSTEMS.gb18030} refused the case: 申请人王𬇕的材料不齐全`);
    // And the request carried the name as GB18030's own four bytes, not a reference.
    const sent = lastTo(SYSTEMS.gb18030).bytes;
    expect(sent.includes(gb18030('王𬇕'))).toBe(true);
    expect(iconv.decode(sent, 'gb18030')).toContain('<?xml version="1.0" encoding="GB18030"?><ApplyInfo version="1.0">');
  });
});

describe('what can never be sent', () => {
  it('rejects at once a value XML cannot carry, naming the field', async () => {
    answers.set(SYSTEMS.utf8, () => ({ type: 'text/xml; charset=UTF-8', body: Buffer.from(accepted('X', 'UTF-8')) }));
    const before = server.received.length;
    // Intake refuses a control character in case data; a mapping can still make one.
    const { caseId } = await deliver(SYSTEMS.utf8, { form: { bell: true } });
    const delivery = await settled(caseId, 'rejected');
    expect(delivery.lastError).toBe(`${SYSTEMS.utf8}: request body cannot be written as UTF-8 XML: Request.bz: U+0007 cannot be carried by XML 1.0`);
    expect(server.received.length).toBe(before);
  });

  it('writes markup-shaped case text as text: a tag- or CDATA-shaped value arrives escaped, and adds no element', async () => {
    answers.set(SYSTEMS.utf8, () => ({ type: 'text/xml; charset=UTF-8', body: Buffer.from(accepted('X', 'UTF-8')) }));
    const bz = '<![CDATA[LSJZ]]></bz><sfzh>INJECTED</sfzh><bz><![CDATA[LSJZ]]>';
    const { caseId } = await deliver(SYSTEMS.utf8, { form: { bz } });
    await settled(caseId, 'delivered');
    const text = lastTo(SYSTEMS.utf8).bytes.toString('utf8');
    expect(text).not.toContain('<sfzh>');
    expect(readXml(text)).toEqual({ Request: { ywh: caseId, bz } });
  });

  it('rejects an element name GBK cannot hold (references are impossible in names), naming the field', async () => {
    const { caseId } = await deliver(SYSTEMS.badName);
    const delivery = await settled(caseId, 'rejected');
    expect(delivery.lastError).toBe(`${SYSTEMS.badName}: request body cannot be written as GBK XML: Request.王𬇕: "𬇕" (U+2C1D5) cannot be written in GBK`);
  });

  it('rejects a header value HTTP cannot carry, naming the header', async () => {
    const { caseId } = await deliver(SYSTEMS.badToken);
    const delivery = await settled(caseId, 'rejected');
    expect(delivery.lastError).toBe(`${SYSTEMS.badToken}: header Authorization: U+4EE4 cannot be sent in an HTTP header`);
  });
});

describe('a system with HMAC-signed requests', () => {
  it('gets the signature over the exact GBK bytes sent', async () => {
    answers.set(SYSTEMS.hmac, () => ({ type: 'text/xml; charset=GBK', body: gbk(accepted('QZ0004')) }));
    const { caseId } = await deliver(SYSTEMS.hmac);
    await settled(caseId, 'delivered');
    const last = lastTo(SYSTEMS.hmac);
    const timestamp = String(last.headers['x-ow-timestamp']);
    const expected = 'sha256=' + crypto.createHmac('sha256', HMAC_SECRET).update(`${timestamp}.`).update(last.bytes).digest('hex');
    expect(last.headers['x-ow-signature']).toBe(expected);
    expect(iconv.decode(last.bytes, 'gbk')).toContain('<sqrxm>张三</sqrxm>');
  });
});
