import { materialsGatewaySchema } from '../config/schema';
import { readMaterialUri, storeUrl, withinStore } from './uri';

const settings = materialsGatewaySchema.parse({
  stores: {
    intake: { baseUrl: 'http://127.0.0.1:9100/sim/materials' },
    city: { baseUrl: 'https://clk.qz.gov.cn/files/', auth: { type: 'bearer', token: 't' } },
  },
});
const read = (uri: string) => readMaterialUri(uri, settings);

describe('material URIs', () => {
  it.each([
    ['store://intake/drawings/a.pdf', { kind: 'store', storeId: 'intake', path: 'drawings/a.pdf' }],
    ['store://city/2026/%E5%9B%BE.pdf', { kind: 'store', storeId: 'city', path: '2026/%E5%9B%BE.pdf' }],
    ['https://clk.qz.gov.cn/files/2026/a.pdf', { kind: 'store', storeId: 'city', path: '2026/a.pdf' }],
    ['http://127.0.0.1:9100/sim/materials/x/y.png?v=2', { kind: 'store', storeId: 'intake', path: 'x/y.png?v=2' }],
    ['lookup://0f8fad5b-d9cb-469f-a165-70867728950e/marriage', { kind: 'lookup', queryId: '0f8fad5b-d9cb-469f-a165-70867728950e', documentKind: 'marriage' }],
  ])('when %s is named, then it is read as its store file or look-up', (uri, source) => {
    expect(read(uri)).toEqual({ ok: true, source });
  });

  it.each([
    ['file:///etc/passwd', /only store:\/\//],
    ['data:text/plain;base64,aGk=', /only store:\/\//],
    ['share://id/330802199001011234', /only store:\/\//],
    ['ftp://127.0.0.1/x', /only store:\/\//],
    ['http://127.0.0.1:6379/', /not under the base URL/],
    ['http://169.254.169.254/latest/meta-data/', /not under the base URL/],
    ['http://2130706433:9100/sim/materials/a.pdf', /not under the base URL/],
    ['http://0x7f000001:9100/sim/materials/a.pdf', /not under the base URL/],
    ['http://[::ffff:127.0.0.1]:9100/sim/materials/a.pdf', /not under the base URL/],
    ['http://[::1]:9100/sim/materials/a.pdf', /not under the base URL/],
    ['https://a@clk.qz.gov.cn/files/a.pdf', /user name/],
    ['https://clk.qz.gov.cn:443@evil.example/files/a.pdf', /user name/],
    ['https://clk.qz.gov.cn.evil.example/files/a.pdf', /not under the base URL/],
    ['https://clk.qz.gov.cn/files/../admin', /not under the base URL|path/],
    ['https://clk.qz.gov.cn/files/a/%2e%2e/%2e%2e/admin', /not under the base URL/],
    ['https://clk.qz.gov.cn/files/a/%2e%2e/b.pdf', /"\." or "\.\."/],
    ['https://clk.qz.gov.cn/files/a/../b.pdf', /"\." or "\.\."/],
    ['https://clk.qz.gov.cn/filesX/a.pdf', /not under the base URL/],
    ['https://clk.qz.gov.cn/files\\..\\a', /backslash/],
    ['https://clk.qz.gov.cn/files/a.pdf#x', /fragment/],
    ['store://s/x', /no material store "s"/],
    ['store://intake/../x', /"\." or "\.\."/],
    ['store://intake/a/%2e%2e/%2E%2E/x', /"\." or "\.\."/],
    ['store://intake/a%2f..%2fx', /encoded slash/],
    ['store://intake/a%00b', /control character/],
    ['store://intake//etc/passwd', /empty path segment/],
    ['store://intake/a?b', /characters/],
    ['store://../x', /no material store/],
    ['lookup://not-a-uuid/marriage', /lookup:\/\/<queryId>\/<kind>/],
  ])('when %s is named, then it is refused', (uri, reason) => {
    const reading = read(uri);
    expect(reading.ok).toBe(false);
    expect(reading.ok ? '' : reading.reason).toMatch(reason);
  });

  it('when a store file is fetched, then its URL lies under the base URL, and only such URLs count as the store', () => {
    const url = storeUrl(settings.stores.intake!.baseUrl, 'drawings/a.pdf');
    expect(url.toString()).toBe('http://127.0.0.1:9100/sim/materials/drawings/a.pdf');
    expect(withinStore(settings.stores.intake!.baseUrl, url)).toBe(true);
    expect(withinStore(settings.stores.intake!.baseUrl, new URL('http://127.0.0.1:9100/sim/other/a.pdf'))).toBe(false);
    expect(withinStore(settings.stores.intake!.baseUrl, new URL('http://127.0.0.1:9101/sim/materials/a.pdf'))).toBe(false);
    expect(withinStore(settings.stores.intake!.baseUrl, new URL('https://127.0.0.1:9100/sim/materials/a.pdf'))).toBe(false);
  });
});
