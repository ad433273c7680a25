import { legacyExcerpt, maskDeep, maskPath, maskPersonalData, redactUrl, redactUrlsIn } from './privacy';

describe('when free text from a legacy system is masked', () => {
  it('then ID, phone and bank card numbers are masked, other numbers left alone', () => {
    const text = '申请人 330802199001011234，旧证 330802900101123，手机 13800000000 / +8613900001111，卡号 6222021234567890123，受理号 SL20261128000123，时间 1764300000000';
    const masked = maskPersonalData(text);
    expect(masked).not.toMatch(/330802199001011234|330802900101123|13800000000|8613900001111|6222021234567890123/);
    expect(masked).toContain('330*************34');
    expect(masked).toContain('SL20261128000123');
    expect(masked).toContain('1764300000000');
    expect(maskPersonalData('sfzh=33080219900101123X&')).toBe('sfzh=330*************3X&');
  });

  it('then numbers split by spaces or dashes are masked too', () => {
    for (const [text, masked] of [
      ['身份证 3308 0219 9001 0112 34。', '身份证 330*************34。'],
      ['sfzh 330802-19900101-1234', 'sfzh 330*************34'],
      ['ID 330802 19900101 123X', 'ID 330*************3X'],
      ['ID 3 3 0 8 0 2 1 9 9 0 0 1 0 1 1 2 3 4', 'ID 330*************34'],
      ['电话 138 0000 0000', '电话 138******00'],
      ['电话:138-0000-0000,', '电话:138******00,'],
      ['tel +86 138 0000 0000', 'tel +861********00'],
      ['卡 6222 0212 3456 7890 123', '卡 622**************23'],
    ]) expect(maskPersonalData(text!)).toBe(masked);
  });

  it('then dates, times, case ids and UUIDs are left as they are', () => {
    for (const text of [
      '2026-11-28T09:30:00+08:00',
      '2026-11-28 09:30:00',
      '2026-11-28 - 2026-12-05',
      'QZ-20261128-000123 SL-2026-1128-0001-23 QZ-20261128-1234567',
      'request 550e8400-e29b-41d4-a716-446655440000',
      'request 12345678-1234-1234-1234-123456789012',
      'after 3 attempts in 1500 ms',
    ]) expect(maskPersonalData(text)).toBe(text);
  });

  it('then a phone or ID number sent as a JSON number is masked, other numbers kept', () => {
    expect(maskDeep({ phone: 13800000000, id: 330802199001011200, attempts: 3, at: 1764300000000 })).toEqual({ phone: '138******00', id: expect.stringMatching(/^330\*{13}\d\d$/), attempts: 3, at: 1764300000000 });
    expect(maskPersonalData(JSON.stringify({ phone: 13800000000 }))).toBe('{"phone":138******00}');
  });

  it('then a request path is decoded before it is masked', () => {
    expect(maskPath('/api/v1/cases/330802199001011234')).toBe('/api/v1/cases/330*************34');
    expect(maskPath('/api/v1/cases/3308%200219%209001%200112%2034')).toBe('/api/v1/cases/330*************34');
    expect(maskPath('/api/v1/cases/%E0%A4%A')).toBe('/api/v1/cases/%E0%A4%A');
    expect(maskPath('/api/v1/cases/a%00b%0A%7F%E8%A1%A2')).toBe('/api/v1/cases/a%00b%0A%7F衢');
  });

  it('then hostile digit text costs linear time', () => {
    // About 100 KB each; a quadratic scan of any of them would take minutes.
    for (const text of ['1 '.repeat(50_000), '1-2 -3  '.repeat(12_500), '12345678901234567890X'.repeat(5_000), '1'.repeat(100_000)]) {
      const started = process.hrtime.bigint();
      maskPersonalData(text);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    }
  });

  it('then configured secrets are redacted', () => {
    expect(maskPersonalData('echo: Bearer s3cr3t-token-value', ['s3cr3t-token-value'])).toBe('echo: Bearer [redacted]');
  });
});

describe('when an excerpt is made of a hostile reply', () => {
  it('then 273 KB of "<script" costs linear time (the old regex blocked the event loop ~15 s)', () => {
    const started = process.hrtime.bigint();
    const out = legacyExcerpt('<script'.repeat(40_000));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    expect(out.length).toBeLessThanOrEqual(161);
  });

  it('then tags, scripts and styles are dropped and what is left is masked and cut short', () => {
    const page = '<html><head><style>body{}</style><script>var x = "<b>";</script></head><body><h1>服务暂不可用</h1><p>sfzh 330802199001011234</p></body></html>';
    expect(legacyExcerpt(page)).toBe('服务暂不可用 sfzh 330*************34');
    expect(legacyExcerpt('x'.repeat(500), { max: 10 })).toBe('xxxxxxxxxx…');
  });
});

describe('when a URL is shown', () => {
  it('then a password and credential-like parameters are redacted, placeholders kept', () => {
    expect(redactUrl('http://user:pw@127.0.0.1:9100/a?token=abc&x=1')).toBe('http://user:***@127.0.0.1:9100/a?token=***&x=1');
    expect(redactUrl('http://h/r/{caseId}?appKey=k')).toBe('http://h/r/{caseId}?appKey=***');
    expect(redactUrl('http://h/a?x=1')).toBe('http://h/a?x=1');
    expect(redactUrl('redis-sentinel://:pw@h1:26379,h2:26379/mymaster')).toBe('redis-sentinel://:***@h1:26379,h2:26379/mymaster');
  });
});

describe('when an error message names a URL with credentials in it', () => {
  it('then every URL in the text keeps its place with its password and credential-like parameters as ***', () => {
    expect(redactUrlsIn('p: the WSDL http://ow:pw@127.0.0.1:1/case?wsdl&token=abc could not be loaded')).toBe('p: the WSDL http://ow:***@127.0.0.1:1/case?wsdl&token=*** could not be loaded');
    expect(redactUrlsIn('at http://u@h/p?x=1&client_secret=2#f and "https://a:b@c"')).toBe('at http://u@h/p?x=1&client_secret=***#f and "https://a:***@c"');
    expect(redactUrlsIn('http://h?sign=x&y=2')).toBe('http://h?sign=***&y=2');
    expect(redactUrlsIn('redis-sentinel://:pw@h1:26379,h2:26379/m down')).toBe('redis-sentinel://:***@h1:26379,h2:26379/m down');
    expect(redactUrlsIn('no URL here: ECONNREFUSED')).toBe('no URL here: ECONNREFUSED');
  });

  it('then hostile text costs linear time', () => {
    const started = process.hrtime.bigint();
    for (const text of ['a'.repeat(50_000) + '://'.repeat(25_000), 'x://u:@'.repeat(15_000), ':// '.repeat(25_000), 'h://a/?k=&'.repeat(10_000)]) redactUrlsIn(text);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });
});
