import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig } from './loader';
import { restSystem, writeConfig } from '../../test/support/harness';

function issuesOf(dir: string, env: Record<string, string> = {}) {
  try {
    loadConfig(dir, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('config loader', () => {
  it('when a configuration is valid, then systems get the defaults they left out and ${ENV} is expanded', () => {
    const dir = writeConfig(
      [
        restSystem('city-a', 'http://127.0.0.1:9/a', { timeoutMs: undefined, retry: undefined, auth: { type: 'bearer', token: '${A_TOKEN}' } }),
        restSystem('city-b', 'http://127.0.0.1:9/b', { concurrency: 2 }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-a', 'city-b'] }] },
      { defaults: { timeoutMs: 1234, retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 5 } } } },
    );
    const config = loadConfig(dir, { A_TOKEN: 'secret-a' });
    const a = config.systems.get('city-a')!;
    expect(a.timeoutMs).toBe(1234);
    expect(a.retry).toEqual({ attempts: 2, backoff: { type: 'fixed', delayMs: 5, maxDelayMs: 600000 } });
    expect(a.auth).toEqual({ type: 'bearer', token: 'secret-a' });
    expect(a.charset).toBe('utf-8');
    expect(config.systems.get('city-b')!.concurrency).toBe(2);
    expect(config.gateway.server).toEqual({ port: 8080, bodyLimit: '1mb', trustProxy: [] });
    expect(config.routes.unrouted).toBe('reject');
  });

  it('when an empty gateway.yaml is given, then it is valid', () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/a')], { routes: [] });
    fs.writeFileSync(path.join(dir, 'gateway.yaml'), '');
    expect(loadConfig(dir, {}).gateway.defaults.concurrency).toBe(4);
  });

  it('when environment variables are set, then they win over gateway.yaml', () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/a')], { routes: [] }, { server: { port: 1 } });
    const config = loadConfig(dir, { PORT: '9999', REDIS_URL: 'redis://127.0.0.1:1', OW_CALLBACK_URL: 'http://127.0.0.1:2/cb', OW_CALLBACK_SECRET: 's' });
    expect(config.gateway.server.port).toBe(9999);
    expect(config.gateway.redis.url).toBe('redis://127.0.0.1:1');
    expect(config.gateway.intake).toEqual({ callbackUrl: 'http://127.0.0.1:2/cb', callbackSecret: 's' });
  });

  it('when a configuration is broken in many places, then every error is listed with its file and key path', () => {
    const dir = writeConfig(
      [
        restSystem('city-a', 'http://127.0.0.1:9/a', { colour: 'blue', auth: { type: 'bearer', token: '${NOT_SET_TOKEN}' } }),
        restSystem('city-b', 'not a url', { request: { body: '{"a": ' } }),
        restSystem('city-d', 'http://127.0.0.1:9/d', { protocol: 'soap' }),
        restSystem('city-f', 'http://127.0.0.1:9/f', { retry: { attempts: 0, backoff: { type: 'linear', delayMs: 1 } } }),
      ],
      { routes: [{ itemCode: '*', targets: ['city-a', 'nat-missing'] }], unrouted: 'nowhere' },
      { server: { port: 'eighty' }, intake: { callbackUrl: 'http://127.0.0.1:1/cb' } },
    );
    fs.writeFileSync(path.join(dir, 'systems', 'city-e.yaml'), 'id: city-e\nname: [unclosed\n');
    fs.writeFileSync(path.join(dir, 'systems', 'city-c.yaml'), YAML.stringify(restSystem('city-other', 'http://127.0.0.1:9/c')));
    const found = issuesOf(dir).map((i) => `${i.file} ${i.path}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'gateway.yaml server.port',
        'systems/city-a.yaml auth.token',
        'systems/city-a.yaml ',
        'systems/city-b.yaml endpoint',
        'systems/city-c.yaml id',
        'systems/city-d.yaml soap',
        'systems/city-f.yaml retry.attempts',
        'systems/city-f.yaml retry.backoff.type',
        'routes.yaml routes[0].targets[1]',
        'routes.yaml unrouted',
      ]),
    );
    expect(found.some((f) => f.startsWith('systems/city-e.yaml line'))).toBe(true);
    expect(found).not.toContain('routes.yaml routes[0].targets[0]');
    expect(found.filter((f) => f === 'systems/city-a.yaml auth.token')).toHaveLength(1);
    const all = issuesOf(dir);
    expect(all.find((i) => i.path === 'auth.token')!.message).toBe('environment variable NOT_SET_TOKEN is not set');
    expect(all.find((i) => i.file === 'systems/city-a.yaml' && i.path === '')!.message).toContain('colour');
  });

  it('when a REST or XML system asks for WS-Security, then auth.type is refused (it would send no credential at all)', () => {
    const dir = writeConfig(
      [
        restSystem('city-a', 'http://127.0.0.1:9/a', { auth: { type: 'wsse', username: 'gw', password: 'a-password-long-enough' } }),
        { ...restSystem('city-x', 'http://127.0.0.1:9/x'), protocol: 'xml', xml: { root: 'Case' }, auth: { type: 'wsse', username: 'gw', password: 'a-password-long-enough' } },
      ],
      { routes: [] },
    );
    const issues = issuesOf(dir).filter((i) => i.path === 'auth.type');
    expect(issues.map((i) => i.file).sort()).toEqual(['systems/city-a.yaml', 'systems/city-x.yaml']);
    expect(issues[0]!.message).toContain('wsse is a SOAP header');
  });

  it('when a callback URL is set without a secret, then that is an error', () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/a')], { routes: [] }, { intake: { callbackUrl: 'http://127.0.0.1:1/cb' } });
    expect(issuesOf(dir)).toEqual([expect.objectContaining({ file: 'gateway.yaml', path: 'intake.callbackSecret' })]);
  });

  it('when a JSONata expression does not compile, then the error names the expression', () => {
    const dir = writeConfig([restSystem('city-b', 'http://127.0.0.1:9/b', { response: { success: 'code = ' } })], { routes: [] });
    const issues = issuesOf(dir);
    expect(issues).toEqual([expect.objectContaining({ file: 'systems/city-b.yaml', path: 'response.success', message: expect.stringContaining('invalid JSONata') })]);
  });

  it('when a WSDL file lies outside the configuration folder, then soap.wsdl is refused before anything reads it', () => {
    const soap = (id: string, wsdl: string) => ({ ...restSystem(id, 'http://127.0.0.1:9/s'), protocol: 'soap', soap: { wsdl, service: 'S', port: 'P', operation: 'o', version: '1.1' } });
    const dir = writeConfig([soap('prov-up', '../secret.wsdl'), soap('prov-abs', '/etc/passwd'), soap('prov-in', './wsdl/in.wsdl')], { routes: [] });
    expect(issuesOf(dir)).toEqual([
      { file: 'systems/prov-abs.yaml', path: 'soap.wsdl', message: 'must be a file inside the configuration folder (or an http(s) URL)' },
      { file: 'systems/prov-up.yaml', path: 'soap.wsdl', message: 'must be a file inside the configuration folder (or an http(s) URL)' },
    ]);
  });

  it('when the folder is missing, then one clear error', () => {
    expect(issuesOf('/nonexistent/ow-config')).toEqual([expect.objectContaining({ message: expect.stringContaining('not found') })]);
  });
});

describe('config loader: materials', () => {
  it('when material stores are configured, then their defaults are filled in and a system takes materials by reference unless it says otherwise', () => {
    const dir = writeConfig(
      [restSystem('city-a', 'http://127.0.0.1:9/a'), restSystem('city-b', 'http://127.0.0.1:9/b', { materials: { mode: 'inline', kinds: ['DRAWING'], maxBytes: '5mb' } })],
      { routes: [] },
      { materials: { stores: { intake: { baseUrl: 'http://127.0.0.1:9100/sim/materials', auth: { type: 'bearer', token: '${STORE_TOKEN}' } } } } },
    );
    const config = loadConfig(dir, { STORE_TOKEN: 'store-secret' });
    expect(config.gateway.materials).toEqual({
      stores: { intake: { baseUrl: 'http://127.0.0.1:9100/sim/materials', auth: { type: 'bearer', token: 'store-secret' }, maxBytes: '512mb', timeoutMs: 600000 } },
      cacheBytes: '2gb',
    });
    expect(config.systems.get('city-a')!.materials).toBeUndefined();
    expect(config.systems.get('city-b')!.materials).toEqual({ mode: 'inline', kinds: ['DRAWING'], maxBytes: '5mb', field: '/materials' });
  });

  it('when a store or a system policy is wrong, then each problem is listed with its path', () => {
    const dir = writeConfig(
      [
        restSystem('city-a', 'http://127.0.0.1:9/a', { materials: { mode: 'embed', field: 'materials' } }),
        { ...restSystem('city-x', 'http://127.0.0.1:9/x'), protocol: 'xml', xml: { root: 'R' }, materials: { mode: 'attach' } },
      ],
      { routes: [] },
      {
        egress: { allow: ['127.0.0.1:9'] },
        materials: { stores: { Bad_Id: { baseUrl: 'http://127.0.0.1:9/m' }, far: { baseUrl: 'http://10.1.1.1/m' }, userinfo: { baseUrl: 'http://u:p@127.0.0.1:9/m' }, files: { baseUrl: 'file:///etc' } }, cacheBytes: 'lots' },
      },
    );
    const issues = issuesOf(dir).map((i) => `${i.file} ${i.path}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'gateway.yaml materials.stores.Bad_Id',
        'gateway.yaml materials.stores.files.baseUrl',
        'gateway.yaml materials.cacheBytes',
        'systems/city-a.yaml materials.mode',
        'systems/city-a.yaml materials.field',
        'systems/city-x.yaml materials.mode',
      ]),
    );
  });

  it('when stores are valid but point where egress does not allow or carry a user name, then that is refused', () => {
    const dir = writeConfig([restSystem('city-a', 'http://127.0.0.1:9/a')], { routes: [] }, { egress: { allow: ['127.0.0.1:9'] }, materials: { stores: { far: { baseUrl: 'http://10.1.1.1/m' }, userinfo: { baseUrl: 'http://u:p@127.0.0.1:9/m' } } } });
    expect(issuesOf(dir)).toEqual([
      { file: 'gateway.yaml', path: 'materials.stores.far.baseUrl', message: 'store refused: 10.1.1.1:80 is not allowed by egress.allow in gateway.yaml' },
      { file: 'gateway.yaml', path: 'materials.stores.userinfo.baseUrl', message: 'no user name or password in the URL: use auth instead' },
    ]);
  });
});
