/**
 * The GB/T 39046-2020 code tables: the codes the gateway writes are the standard's (A.5 申报来源,
 * A.6 办件类型), and docs/time-limits.md lists exactly the mappings the code makes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ITEM_TYPES } from '../../src/timelimits/config';
import { CHANNEL_CODE_LIST, CHANNEL_CODES, gbtDateTime, ID_TYPE_CODES, idTypeCode, OTHER_ID_TYPE } from '../../src/timelimits/gbt39046';

/** The standard's tables, as its text gives them. */
const A5 = { '1': '窗口', '2': '电脑端', '3': '移动端', '4': '快递', '9': '其他' };
const A6 = { '1': '即办件', '2': '承诺件', '9': '其他' };

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'time-limits.md'), 'utf8');
/** The rows of the markdown table whose header row starts with `header`. */
function tableRows(header: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header}`));
  expect(start).toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

describe('GB/T 39046 codes', () => {
  it('maps every channel to a code of table A.5, and the documented table says which', () => {
    for (const code of Object.values(CHANNEL_CODES)) expect(Object.keys(A5)).toContain(code);
    expect([...CHANNEL_CODE_LIST].every((c) => c in A5)).toBe(true);
    const documented = tableRows('`channel`').map(([channel, code]) => [channel!.replace(/`/g, ''), code!.split(' ')[0]!, code!.split(' ')[1]!]);
    expect(documented.map(([channel, code]) => [channel, code])).toEqual(Object.entries(CHANNEL_CODES));
    for (const [, code, label] of documented) expect(label).toBe(A5[code as keyof typeof A5]);
  });

  it('writes the 办件类型 of table A.6', () => {
    expect(Object.entries(ITEM_TYPES)).toEqual(Object.entries(A6).filter(([code]) => code !== '9'));
  });

  it('documents every ID type code the code maps to, and nothing else', () => {
    const documented = new Map<string, string>();
    for (const [names, code] of tableRows('`applicant.idType`')) {
      const c = code!.split(' ')[0]!;
      if (names === 'anything else') {
        expect(c).toBe(OTHER_ID_TYPE);
        continue;
      }
      for (const name of names!.replace(/\s*\(.*\)$/, '').split(', ')) documented.set(name.replace(/`/g, ''), c);
    }
    expect(Object.fromEntries(documented)).toEqual(ID_TYPE_CODES);
    for (const code of new Set(Object.values(ID_TYPE_CODES))) expect(code).toMatch(/^\d{3}$/); // n3
    expect([idTypeCode('id_card'), idTypeCode('居民身份证'), idTypeCode('驾驶证')]).toEqual(['111', '111', OTHER_ID_TYPE]);
  });

  it('writes date-times as YYYYMMDDhhmmss in Asia/Shanghai', () => {
    expect(gbtDateTime('2026-12-31T16:30:05Z')).toBe('20270101003005');
    expect(gbtDateTime('2026-12-07T09:30:00+08:00')).toBe('20261207093000');
    expect([gbtDateTime(undefined), gbtDateTime('not a time')]).toEqual(['', '']);
  });
});
