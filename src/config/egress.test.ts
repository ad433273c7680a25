import { egressRefusal, fileRefusal, invalidEgressEntries } from './egress';

const egress = { allow: ['127.0.0.1:9100', '10.0.0.0/8', '*.zj.gov.cn', '[::1]:9100', 'intake.qz.gov.cn'] };

describe('when an endpoint is checked against egress.allow', () => {
  it.each([
    'http://127.0.0.1:9100/sim/a/cases',
    'https://10.1.2.3/x',
    'https://ywxt.zj.gov.cn/api',
    'http://a.b.zj.gov.cn:8080/api',
    'http://[::1]:9100/x',
    'http://intake.qz.gov.cn/x',
    'http://[::ffff:10.0.0.1]/x',
    'http://127.0.0.1:9100/poll/{caseId}?r={receiptNo}',
  ])('then %s is allowed', (url) => {
    expect(egressRefusal(url, egress)).toBeUndefined();
  });

  it.each([
    ['http://127.0.0.1:6379/', /127.0.0.1:6379 is not allowed/],
    ['http://2130706433:6379/', /127.0.0.1:6379 is not allowed/],
    ['http://169.254.169.254/latest/meta-data', /not allowed/],
    ['http://zj.gov.cn.evil.example/', /not allowed/],
    ['http://evilzj.gov.cn/', /not allowed/],
    ['file:///etc/passwd', /only http and https/],
    ['gopher://127.0.0.1:9100/', /only http and https/],
    ['not a url', /not a URL/],
  ])('then %s is refused', (url, why) => {
    expect(egressRefusal(url, egress)).toMatch(why);
  });

  it('then without egress.allow any http(s) URL passes, and no other scheme', () => {
    expect(egressRefusal('http://127.0.0.1:6379/', undefined)).toBeUndefined();
    expect(egressRefusal('file:///etc/passwd', undefined)).toMatch(/only http and https/);
  });

  it('then entries that mean nothing are named', () => {
    expect(invalidEgressEntries({ allow: ['10.0.0.0/8', 'a b', '1.2.3.4:99999', 'host:x'] })).toEqual(['a b', '1.2.3.4:99999', 'host:x']);
  });
});

describe('when a WSDL file is checked against the configuration folder', () => {
  it.each(['./wsdl/a.wsdl', 'wsdl/a.wsdl', '/etc/ow/wsdl/a.wsdl', 'wsdl/../a.wsdl', '..a.wsdl'])('then %s is inside and may be read', (file) => {
    expect(fileRefusal(file, '/etc/ow')).toBeUndefined();
  });

  it.each(['../a.wsdl', './wsdl/../../etc/passwd', '/etc/passwd', '/etc/owner/a.wsdl', '.', ''])('then %s is refused', (file) => {
    expect(fileRefusal(file, '/etc/ow')).toMatch(/inside the configuration folder/);
  });
});
