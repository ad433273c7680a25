/** The seal room as the running gateway serves it: gateway.yaml's `seal:` and $OW_DATA_DIR/seal. */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { sealHeader } from '../../src/seal/seal';
import { INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, uniquePrefix, writeConfig } from '../support/harness';
import { tempDir } from './helpers';

describe('the gateway serves the seal room', () => {
  const dataDir = tempDir('gateway');
  let gateway: RunningGateway;

  beforeAll(async () => {
    const configDir = writeConfig([restSystem('city-housing-reform', 'http://127.0.0.1:9/cases')], { routes: [{ itemCode: '*', targets: ['city-housing-reform'] }] }, { seal: { origin: '衢州市测试平台', algorithm: 'Ed25519', validity: '1h' } });
    gateway = await startGateway({
      config: loadConfig(configDir, {}),
      redisUrl: redisUrl(),
      tokens: { intake: [INTAKE_TOKEN], ops: [OPS_TOKEN] },
      log: pino({ level: 'silent' }),
      port: 0,
      host: '127.0.0.1',
      keyPrefix: uniquePrefix(),
      role: 'api',
      dataDir,
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('generated its key under <data dir>/seal, in the configured algorithm, and lists it', async () => {
    const files = fs.readdirSync(path.join(dataDir, 'seal')).sort();
    expect(files).toEqual([expect.stringMatching(/\.key\.pem$/), expect.stringMatching(/\.pub\.json$/)]);
    const res = await fetch(`${gateway.url}/api/v1/seal/keys`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<{ alg: string; status: string; publicKeyHex?: string }> };
    expect(keys).toEqual([expect.objectContaining({ alg: 'Ed25519', status: 'active' })]);
    expect(keys[0].publicKeyHex).toBeUndefined();
  });

  it('verifies what its sealer made, with the configured origin and validity', async () => {
    const seal = gateway.seals.seal({ document: { spouseName: '李四' }, purpose: '办理测试', caseId: 'QZ-1', systemId: 'city-housing-reform' });
    expect(seal.origin).toBe('衢州市测试平台');
    expect(Date.parse(seal.expiresAt) - Date.parse(seal.issuedAt)).toBe(3_600_000);
    expect(sealHeader(seal).length).toBeLessThan(2000);
    const res = await fetch(`${gateway.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seal, payload: { spouseName: '李四' } }) });
    expect(await res.json()).toMatchObject({ valid: true, alg: 'Ed25519', origin: '衢州市测试平台' });
  });

  it('answers a malformed verify request 400 in the contract shape, and other paths as before', async () => {
    const res = await fetch(`${gateway.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seal": {}}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect((await fetch(`${gateway.url}/api/v1/seal/nothing`)).status).toBe(404);
  });
});
