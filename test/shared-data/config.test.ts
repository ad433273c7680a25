/** config/shared-data.yaml and a system's `lookup` block are validated like all configuration. */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/loader';
import { restSystem, writeConfig } from '../support/harness';

const lookup = { kinds: ['marriage'], endpoint: 'http://127.0.0.1:9/query', request: '{"sfzh": idNumber}', response: { found: 'code = "0"', data: 'data' } };

function issuesOf(dir: string): Array<{ file: string; path: string; message: string }> {
  try {
    loadConfig(dir, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('the configuration loaded');
}

describe('shared-data configuration', () => {
  it('loads a look-up-only system and shared-data.yaml', () => {
    const dir = writeConfig(
      [restSystem('city-housing-reform', 'http://127.0.0.1:9/cases'), { id: 'nat-civil-affairs', name: '民政部婚姻登记', level: 'national', protocol: 'rest', endpoint: 'http://127.0.0.1:9/', lookup }],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] },
    );
    fs.writeFileSync(path.join(dir, 'shared-data.yaml'), YAML.stringify({ documents: { marriage: { name: '婚姻登记信息', sources: ['nat-civil-affairs'] } }, purposes: [{ itemCode: '330800-FG-*', documents: ['marriage'] }] }));
    const config = loadConfig(dir, {});
    expect(config.sharedData.documents.marriage).toEqual({ name: '婚姻登记信息', sources: ['nat-civil-affairs'], cacheTtl: '0s' });
    expect(config.systems.get('nat-civil-affairs')?.lookup).toMatchObject({ timeoutMs: 2000, concurrency: 16 });
  });

  it('lists every problem with its file and key path', () => {
    const dir = writeConfig(
      [
        restSystem('city-housing-reform', 'http://127.0.0.1:9/cases', { lookup: { ...lookup, endpoint: undefined, response: { found: 'code = ', data: 'data' } } }),
        { id: 'nat-civil-affairs', name: '民政部', level: 'national', protocol: 'rest', endpoint: 'http://127.0.0.1:9/', lookup },
        { id: 'prov-nothing', name: '无', level: 'provincial', protocol: 'rest', endpoint: 'http://127.0.0.1:9/' },
      ],
      { routes: [{ itemCode: '*', targets: ['city-housing-reform', 'nat-civil-affairs'] }] },
    );
    fs.writeFileSync(
      path.join(dir, 'shared-data.yaml'),
      YAML.stringify({ documents: { marriage: { name: '婚姻', sources: ['nat-civil-affairs', 'nowhere', 'city-housing-reform'], cacheTtl: '10 minutes' }, household: { name: '户籍', sources: ['nat-civil-affairs'] } }, purposes: [{ itemCode: '*', documents: ['passport'] }] }),
    );
    const found = issuesOf(dir).map((i) => `${i.file} ${i.path}: ${i.message}`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^systems\/city-housing-reform\.yaml lookup\.response\.found: invalid JSONata/),
        expect.stringMatching(/^systems\/city-housing-reform\.yaml lookup\.endpoint: required when protocol is rest/),
        expect.stringMatching(/^systems\/prov-nothing\.yaml request: required \(only a system with a lookup section/),
        expect.stringMatching(/^routes\.yaml routes\[0\]\.targets\[1\]: system "nat-civil-affairs" only answers look-ups/),
        expect.stringMatching(/^shared-data\.yaml documents\.marriage\.cacheTtl: /),
      ]),
    );
  });

  it('checks sources against the systems once the durations are right', () => {
    const dir = writeConfig([{ id: 'nat-civil-affairs', name: '民政部', level: 'national', protocol: 'rest', endpoint: 'http://127.0.0.1:9/', lookup }, restSystem('city-housing-reform', 'http://127.0.0.1:9/cases')], {
      routes: [{ itemCode: '*', targets: ['city-housing-reform'] }],
    });
    fs.writeFileSync(
      path.join(dir, 'shared-data.yaml'),
      YAML.stringify({ documents: { household: { name: '户籍', sources: ['nat-civil-affairs', 'nowhere', 'city-housing-reform'] } }, purposes: [{ itemCode: '*', documents: ['household', 'passport'] }] }),
    );
    expect(issuesOf(dir).map((i) => `${i.file} ${i.path}: ${i.message}`)).toEqual([
      'shared-data.yaml documents.household.sources[0]: system "nat-civil-affairs" does not list "household" in its lookup.kinds',
      'shared-data.yaml documents.household.sources[1]: unknown system "nowhere"',
      'shared-data.yaml documents.household.sources[2]: system "city-housing-reform" does not list "household" in its lookup.kinds',
      'shared-data.yaml purposes[0].documents[1]: unknown document kind "passport"',
    ]);
  });

  it('refuses a look-up endpoint outside egress', () => {
    const dir = writeConfig([restSystem('city-housing-reform', 'http://127.0.0.1:9100/cases', { lookup: { ...lookup, endpoint: 'http://10.1.2.3/query' } })], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] }, { egress: { allow: ['127.0.0.1:9100'] } });
    expect(issuesOf(dir)).toEqual([expect.objectContaining({ file: 'systems/city-housing-reform.yaml', path: 'lookup.endpoint', message: expect.stringContaining('endpoint refused') })]);
  });
});
