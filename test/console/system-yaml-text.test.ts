/**
 * The system page's YAML helpers (src/admin/console/system/yaml-text.ts, bundled for the browser):
 * the gateway's key paths found in the text the editor shows, and the text turned back into the
 * same configuration.
 */
import YAML from 'yaml';
import { expressionRanges, locate, parseYaml, pathSegments, toYaml } from '../../src/admin/console/system/yaml-text';
import { restSystem } from '../support/harness';

const system = restSystem('city-steady', 'http://127.0.0.1:9/steady', {
  request: { body: `{"bizNo": caseId, "sqrxm": applicant.name, "remark": "${'长'.repeat(120)}"}` },
  lookup: { kinds: ['marriage', 'housing'], endpoint: 'http://127.0.0.1:9/q', request: '{"sfzh": idNumber}', response: { found: 'code = "0"', data: 'data' } },
});
const text = toYaml(system);
const doc = parseYaml(text);
const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
const lineWith = (start: string) => text.split('\n').findIndex((l) => l.trimStart().startsWith(start)) + 1;

describe('the system page YAML helpers', () => {
  it('turns the configuration into YAML and back unchanged, a long JSONata expression on one line', () => {
    expect(YAML.parse(text)).toEqual(system);
    expect(text.split('\n').filter((l) => l.includes('bizNo'))).toHaveLength(1);
  });

  it('splits key paths as the gateway writes them', () => {
    expect(pathSegments('retry.backoff.type')).toEqual(['retry', 'backoff', 'type']);
    expect(pathSegments('lookup.kinds[1]')).toEqual(['lookup', 'kinds', 1]);
    expect(pathSegments('(body)')).toEqual([]);
    expect(pathSegments(undefined)).toEqual([]);
  });

  it('finds the line of a key path, of a list item, and the nearest parent of a key that is missing', () => {
    const success = locate(doc, text, 'response.success');
    expect(success.exact).toBe(true);
    expect(lineOf(success.from)).toBe(lineWith('success:'));
    expect(text.slice(success.from, success.to)).toBe('success: code = "0"');

    const backoff = locate(doc, text, 'retry.backoff');
    // A map value is pointed at by its key's line only.
    expect(text.slice(backoff.from, backoff.to)).toBe('backoff:');

    const kind = locate(doc, text, 'lookup.kinds[1]');
    expect(text.slice(kind.from, kind.to)).toBe('housing');

    const missing = locate(doc, text, 'result.poll.until');
    expect(missing.exact).toBe(false);
    expect(lineOf(missing.from)).toBe(lineWith('result:'));

    const whole = locate(doc, text, '(body)');
    expect(whole).toMatchObject({ from: 0, exact: true });
    expect(lineOf(whole.to)).toBe(1);
  });

  it('still locates in text that does not parse, and never past its end', () => {
    const broken = 'id: x\nresponse:\n  success: [\n';
    const at = locate(parseYaml(broken), broken, 'response.success');
    expect(at.from).toBeGreaterThanOrEqual(0);
    expect(at.to).toBeLessThanOrEqual(broken.length);
    expect(at.from).toBeLessThanOrEqual(at.to);
  });

  it('marks every JSONata expression there is, and nothing else', () => {
    const marked = expressionRanges(doc).map(([from, to]) => text.slice(from, to));
    expect(marked).toHaveLength(9); // request.body, four response.*, result.map, lookup.request, lookup.response.found and .data
    expect(marked).toContain('code = "0"');
    expect(marked).toContain(`'{"sfzh": idNumber}'`);
    expect(marked).toContain('data.slbh');
    expect(marked.some((m) => m.includes('127.0.0.1'))).toBe(false);
  });
});
