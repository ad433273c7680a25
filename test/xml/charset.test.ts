/**
 * Bytes to text for GBK and GB18030 systems (src/platform/charset.ts): which label wins, what
 * happens when the header and the XML declaration disagree, and U+FFFD as an error.
 */
import iconv from 'iconv-lite';
import { CharsetError, decodeBody, encodeStrict, encodeXml } from '../../src/platform/charset';
import { pythonGbkWithReferences, strictGbk } from './support';

const gbk = (text: string): Buffer => iconv.encode(text, 'gbk');
const declared = (label: string, body: string): string => `<?xml version="1.0" encoding="${label}"?>${body}`;

describe('decoding a body', () => {
  it('takes the Content-Type charset first, then the XML declaration, then the configured charset', () => {
    const body = '<r><xm>张三</xm></r>';
    expect(decodeBody(gbk(body), 'text/xml; charset=GBK', 'utf-8')).toMatchObject({ text: body, charset: 'gbk', source: 'content-type' });
    expect(decodeBody(gbk(declared('GBK', body)), 'text/xml', 'utf-8')).toMatchObject({ charset: 'gbk', source: 'declaration' });
    expect(decodeBody(gbk(body), 'text/xml', 'gbk')).toMatchObject({ text: body, charset: 'gbk', source: 'configured' });
    expect(decodeBody(gbk(body), undefined, 'gbk').text).toBe(body);
  });

  it('reads GB2312 and x-gbk labels as GBK and a quoted charset parameter', () => {
    expect(decodeBody(gbk('<r>衢州</r>'), 'text/xml; charset="gb2312"', 'utf-8').charset).toBe('gbk');
    expect(decodeBody(gbk(declared('x-gbk', '<r>衢州</r>')), undefined, 'utf-8').charset).toBe('gbk');
  });

  it('decodes GB18030 four-byte sequences (characters outside GBK)', () => {
    const text = declared('GB18030', '<r><xm>王𬇕</xm></r>');
    const bytes = iconv.encode(text, 'gb18030');
    expect(bytes.includes(Buffer.from('9931', 'hex'))).toBe(true);
    expect(decodeBody(bytes, 'application/xml', 'utf-8')).toMatchObject({ text, charset: 'gb18030', source: 'declaration' });
  });

  it('makes undecodable bytes (U+FFFD) an error, not data', () => {
    expect(() => decodeBody(gbk('<r>张三</r>'), 'text/xml; charset=utf-8', 'utf-8')).toThrow(new CharsetError('the body is not valid UTF-8 (undecodable bytes)'));
    expect(() => decodeBody(Buffer.from([0x3c, 0x72, 0x3e, 0x81, 0x20, 0x3c]), undefined, 'gbk')).toThrow(CharsetError);
  });

  it('refuses a charset it does not speak, naming where it was found', () => {
    expect(() => decodeBody(gbk('<r/>'), 'text/xml; charset=ISO-8859-1', 'gbk')).toThrow(/unsupported charset "ISO-8859-1" in the Content-Type/);
    expect(() => decodeBody(Buffer.from(declared('Big5', '<r/>')), undefined, 'gbk')).toThrow(/"Big5" in the XML declaration/);
  });

  describe('when the header and the declaration disagree', () => {
    it('refuses a body that reads differently in each, naming both, rather than guess (UTF-8 bytes often read as GBK mojibake)', () => {
      const utf8 = Buffer.from(declared('UTF-8', '<r><xm>张三</xm></r>'));
      // As GBK these bytes decode without a single U+FFFD: only the disagreement reveals them.
      expect(iconv.decode(utf8, 'gbk')).not.toContain('\uFFFD');
      expect(() => decodeBody(utf8, 'text/xml; charset=GBK', 'gbk')).toThrow(/the Content-Type says GBK but the XML declaration says UTF-8, and the body reads differently in each/);
      expect(() => decodeBody(gbk(declared('GBK', '<r>张三</r>')), 'text/xml; charset=utf-8', 'gbk')).toThrow(/Content-Type says utf-8 but the XML declaration says GBK.*not valid/);
    });

    it('reads a body that is the same in both (plain ASCII)', () => {
      const ascii = Buffer.from(declared('GBK', '<r><code>0</code><slbh>0012300X</slbh></r>'));
      expect(decodeBody(ascii, 'text/xml; charset=UTF-8', 'gbk')).toMatchObject({ charset: 'utf-8', source: 'content-type' });
    });

    it('reads GBK against GB18030 as GB18030, which reads every GBK text the same', () => {
      const text = declared('GBK', '<r><xm>张三 王𬇕</xm></r>');
      expect(decodeBody(iconv.encode(text, 'gb18030'), 'text/xml; charset=GB18030', 'utf-8')).toMatchObject({ text, charset: 'gb18030', source: 'content-type' });
      expect(decodeBody(gbk(declared('GB18030', '<r>张三</r>')), 'text/xml; charset=GBK', 'utf-8')).toMatchObject({ charset: 'gb18030', source: 'declaration' });
    });
  });

  it('skips a UTF-8 byte order mark, also when looking for the declaration', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(declared('UTF-8', '<r>衢州</r>'))]);
    expect(decodeBody(bytes, undefined, 'gbk')).toMatchObject({ text: declared('UTF-8', '<r>衢州</r>'), source: 'declaration' });
  });
});

describe('encoding', () => {
  it('never turns a character GBK cannot hold into "?": XML gets a character reference', () => {
    expect(iconv.decode(encodeXml('<xm>王𬇕?</xm>', 'gbk'), 'gbk')).toBe('<xm>王&#x2C1D5;?</xm>');
    expect(iconv.decode(encodeXml('<xm>王𬇕</xm>', 'gb18030'), 'gb18030')).toBe('<xm>王𬇕</xm>');
  });

  it('refuses it elsewhere, naming the field', () => {
    expect(() => encodeStrict('王𬇕', 'gbk', 'applicant.name')).toThrow(new CharsetError('applicant.name: "𬇕" (U+2C1D5) cannot be written in GBK'));
    expect(encodeStrict('王五', 'gbk', 'applicant.name')).toEqual(gbk('王五'));
  });
});

describe('GBK as strict GBK decoders read it', () => {
  it('writes every character outside GBK proper (GB18030-only mappings such as 䶮, CP936\'s one-byte €, private use) as a character reference', () => {
    expect(encodeXml('<xm>䶮€\uE000王</xm>', 'gbk')).toEqual(Buffer.concat([Buffer.from('<xm>&#x4DAE;&#x20AC;&#xE000;'), gbk('王'), Buffer.from('</xm>')]));
    // The whole BMP and two 生僻字 beyond it: Python's codec and glibc's iconv read every byte we write.
    let all = '';
    for (let cp = 0x80; cp <= 0xffff; cp++) if (cp < 0xd800 || cp > 0xdfff) all += String.fromCharCode(cp);
    const text = `<r>${all}𬇕𠈌</r>`;
    const bytes = encodeXml(text, 'gbk');
    const read = strictGbk.python(bytes);
    expect(strictGbk.glibc(bytes)).toBe(read);
    expect(read.replace(/&#x([0-9A-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))).toBe(text);
    // And nothing GBK holds is sent as a reference: byte for byte what Python's own GBK writes.
    expect(bytes.equals(pythonGbkWithReferences(text))).toBe(true);
  });

  it('refuses a character outside GBK proper where a reference is impossible', () => {
    expect(() => encodeStrict('王䶮', 'gbk', 'Request.name')).toThrow(new CharsetError('Request.name: "䶮" (U+4DAE) cannot be written in GBK'));
    expect(() => encodeStrict('€', 'gbk', 'Request.name')).toThrow(/U\+20AC\) cannot be written in GBK/);
    expect(encodeStrict('䶮€', 'gb18030', 'Request.name')).toEqual(iconv.encode('䶮€', 'gb18030'));
  });
});
