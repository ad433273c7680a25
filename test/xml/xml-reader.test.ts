/**
 * The one hardened XML reader and its writer (src/platform/xml.ts): what it reads, what it keeps
 * exactly, and the attack corpus refused quickly with the heap flat and no prototype touched.
 */
import { DEFAULT_XML_LIMITS, XmlRejectedError, XmlWriteError, encodeXmlDocument, inspectXml, readXml, writeXml } from '../../src/platform/xml';
import { CharsetError } from '../../src/platform/charset';
import iconv from 'iconv-lite';
import { HEAP_GROWTH_LIMIT, attackCorpus, countingServer, cpuTime, heapUsed } from './support';

function rejection(xml: string): XmlRejectedError {
  try {
    readXml(xml);
  } catch (err) {
    if (err instanceof XmlRejectedError) return err;
    throw err;
  }
  throw new Error('the XML was read');
}

describe('reading XML', () => {
  it('keeps every value a string: leading zeros, a trailing X, numbers and booleans survive exactly', () => {
    const doc = readXml('<Response><slbh>0012300</slbh><sfzh>33080219900101123X</sfzh><je>1e5</je><n>007.50</n><ok>true</ok><empty/></Response>');
    expect(doc).toEqual({ Response: { slbh: '0012300', sfzh: '33080219900101123X', je: '1e5', n: '007.50', ok: 'true', empty: '' } });
  });

  it('decodes &amp;, the predefined entities and numeric character references (生僻字 in GBK XML)', () => {
    const doc = readXml('<r a="x&amp;y&quot;"><t>A &amp; B &lt;c&gt; &apos;d&apos;</t><n>王&#x2C1D5;、&#20013;</n></r>');
    expect(doc).toEqual({ r: { '@a': 'x&y"', t: "A & B <c> 'd'", n: '王𬇕、中' } });
  });

  it('reads attributes as @name, mixed text as #text, repeated elements as arrays', () => {
    expect(readXml('<r v="1"><c t="a">x</c><c>y</c></r>')).toEqual({ r: { '@v': '1', c: [{ '@t': 'a', '#text': 'x' }, 'y'] } });
  });

  it('refuses what is not well-formed, saying so', () => {
    expect(rejection('<r><a></r>').reason).toBe('malformed');
    expect(rejection('not xml').reason).toBe('malformed');
    expect(rejection('<r a=1/>').reason).toBe('malformed');
    expect(rejection('</r><r>').reason).toBe('malformed');
    expect(rejection('').reason).toBe('malformed');
  });

  it('refuses a character XML cannot carry, written or as a reference in text or an attribute, and reads tab, LF and CR', () => {
    for (const xml of ['<r>a\u0000b</r>', '<r>a&#0;b</r>', '<r>a&#x1F;b</r>', '<r>a&#X0B;b</r>', '<r a="&#1;"/>', '<r>&#65535;</r>', '<r>&#xD800;</r>', '<r><![CDATA[a\u0001b]]></r>']) {
      expect({ xml, reason: rejection(xml).reason, message: rejection(xml).message }).toEqual({ xml, reason: 'malformed', message: expect.stringMatching(/XML cannot carry|unknown reference/) });
    }
    expect(readXml('<r a="x&#9;y">a&#10;b&#13;c\td</r>')).toEqual({ r: { '@a': 'x\ty', '#text': 'a\nb\rc\td' } });
  });

  it('never echoes a huge name back in its message', () => {
    const err = rejection(`<r ${'n'.repeat(100_000)}="1"/>`);
    expect(err.reason).toBe('name_too_long');
    expect(err.message.length).toBeLessThan(200);
  });
});

describe('the attack corpus, read directly', () => {
  it('refuses each one in under 100 ms (CPU), expands and fetches nothing, pollutes nothing, and leaves the heap flat', async () => {
    const entities = await countingServer();
    try {
      const corpus = attackCorpus(entities.url);
      const before = heapUsed();
      const read = (xml: string): unknown => {
        try {
          return readXml(xml);
        } catch (err) {
          return err;
        }
      };
      for (const attack of corpus) {
        read(attack.xml); // compiled and warm: what is timed is the refusal
        for (let round = 0; round < 5; round++) {
          const { value: error, ms } = await cpuTime(() => read(attack.xml));
          expect({ attack: attack.name, refused: error instanceof XmlRejectedError }).toEqual({ attack: attack.name, refused: true });
          expect({ attack: attack.name, under100ms: ms < 100, ms: Math.round(ms) }).toMatchObject({ attack: attack.name, under100ms: true });
        }
      }
      expect(heapUsed() - before).toBeLessThan(HEAP_GROWTH_LIMIT);
      expect(entities.hits()).toBe(0);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    } finally {
      await entities.close();
    }
  });

  it('names why: DOCTYPE, depth, size, counts and forbidden names each have their reason', () => {
    const reasons = Object.fromEntries(attackCorpus('http://127.0.0.1:9').map((a) => [a.name, rejection(a.xml).reason]));
    expect(reasons).toEqual({
      'external entity (file)': 'doctype',
      'external entity (URL)': 'doctype',
      'external DTD': 'doctype',
      'parameter entity': 'doctype',
      'billion laughs': 'doctype',
      'quadratic blowup': 'doctype',
      'lower-case doctype': 'doctype',
      '10 000-deep nesting': 'too_deep',
      '1 MB attribute': 'too_long',
      '100 KB attribute': 'attribute_too_long',
      '1 MB attribute name': 'name_too_long',
      'too many elements': 'too_many_elements',
      'too many attributes': 'too_many_attributes',
      '__proto__ element': 'forbidden_name',
      'constructor element': 'forbidden_name',
      'prefixed __proto__ element': 'forbidden_name',
      '__proto__ attribute': 'forbidden_name',
      'multiRef id __proto__': 'forbidden_name',
    });
  });

  it('inspects in linear time: a megabyte of attribute-name characters without "=" is refused at once', async () => {
    // A regular expression scanning attributes backtracks quadratically on this input (minutes).
    const text = `<r ${'a'.repeat(DEFAULT_XML_LIMITS.maxLength - 10)}></r>`;
    const { value, ms } = await cpuTime(() => {
      try {
        inspectXml(text, { ...DEFAULT_XML_LIMITS, maxNameLength: Infinity });
      } catch (err) {
        return err;
      }
    });
    expect(value).toBeInstanceOf(XmlRejectedError);
    expect(ms).toBeLessThan(100);
  });
});

describe('writing XML', () => {
  it('writes attributes, text nodes, repeated elements and empty ones, escaped, and reads back the same', () => {
    const body = { '@version': '1.0', ywh: 'QZ-1', sfzh: { '@type': 'ID_CARD', '#text': '0012300X' }, cl: [{ mc: 'A&B <c>' }, { mc: '"q"' }], none: null, n: 7, t: true };
    const xml = writeXml('Request', body);
    expect(xml).toBe(
      '<Request version="1.0"><ywh>QZ-1</ywh><sfzh type="ID_CARD">0012300X</sfzh><cl><mc>A&amp;B &lt;c&gt;</mc></cl><cl><mc>"q"</mc></cl><none/><n>7</n><t>true</t></Request>',
    );
    expect(readXml(xml)).toEqual({
      Request: { '@version': '1.0', ywh: 'QZ-1', sfzh: { '@type': 'ID_CARD', '#text': '0012300X' }, cl: [{ mc: 'A&B <c>' }, { mc: '"q"' }], none: '', n: '7', t: 'true' },
    });
  });

  it('keeps line ends and tabs in attributes and carriage returns in text', () => {
    const xml = writeXml('r', { '@a': 'x\ty\nz', t: 'a\r\nb' });
    expect(readXml(xml)).toEqual({ r: { '@a': 'x\ty\nz', t: 'a\r\nb' } });
  });

  it('refuses, naming the field, names that are not XML names and characters XML cannot carry', () => {
    expect(() => writeXml('Request', { 'bad name': 'x' })).toThrow(new XmlWriteError('Request.bad name', '"bad name" is not a valid XML name'));
    expect(() => writeXml('Request', { a: { '@1x': 'v' } })).toThrow(/Request\.a\.@1x/);
    expect(() => writeXml('Request', { a: [{ b: 'ok\u0001' }] })).toThrow(/Request\.a\[0\]\.b: U\+0001 cannot be carried by XML 1\.0/);
    expect(() => writeXml('Request', { a: 'lone \uD800' })).toThrow(/Request\.a: U\+D800/);
    expect(() => writeXml('Request', { a: [[1]] })).toThrow(/Request\.a\[0\]/);
    expect(() => writeXml('Request', { __proto__x: 1, constructor: 'x' })).toThrow(/Request\.constructor/);
  });

  it('writes 生僻字 outside GBK as character references in GBK, and refuses them in a name, naming it', () => {
    const bytes = encodeXmlDocument('Request', { sqrxm: '王𬇕', '@bz': '𠀀' }, 'gbk');
    const text = iconv.decode(bytes, 'gbk');
    expect(text).toBe('<?xml version="1.0" encoding="GBK"?><Request bz="&#x20000;"><sqrxm>王&#x2C1D5;</sqrxm></Request>');
    expect(text).not.toContain('?</');
    expect(readXml(text)).toEqual({ Request: { '@bz': '𠀀', sqrxm: '王𬇕' } });
    expect(() => encodeXmlDocument('Request', { 王𬇕: 'x' }, 'gbk')).toThrow(CharsetError);
    expect(() => encodeXmlDocument('Request', { 王𬇕: 'x' }, 'gbk')).toThrow(/Request\.王𬇕: "𬇕" \(U\+2C1D5\) cannot be written in GBK/);
    // GB18030 and UTF-8 hold every character: written as themselves.
    expect(iconv.decode(encodeXmlDocument('Request', { sqrxm: '王𬇕' }, 'gb18030'), 'gb18030')).toContain('<sqrxm>王𬇕</sqrxm>');
  });
});
