/** The seal room as the running gateway serves it: gateway.yaml's `seal:` and $OW_DATA_DIR/seal. */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { sealHeader, signedMessage, type Seal } from '../../src/seal/seal';
import { INTAKE_TOKEN, OPS_TOKEN, redisUrl, restSystem, uniquePrefix, writeConfig } from '../support/harness';
import { tempDir } from './helpers';

describe('the gateway serves the seal room', () => {
  const dataDir = tempDir('gateway');
  let gateway: RunningGateway;
  // The one thing not real: the gateway's clock, moved on past a key's retirement.
  let clock = Date.now();

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
      now: () => new Date(clock),
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

  it('a retired key verifies only seals issued before its retirement, and a seal valid longer than configured is refused', async () => {
    const payload = { spouseName: '李四' };
    const verify = async (seal: Seal) =>
      (await (await fetch(`${gateway.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seal, payload }) })).json()) as { valid: boolean; reason?: string };
    const beijing = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
    const signedBy = (keyId: string, unsigned: Omit<Seal, 'signature'>): Seal => ({ ...unsigned, signature: gateway.seals.keys.get(keyId)!.material.signer!(signedMessage(unsigned)).toString('base64') });

    const { signature: _s, ...issued } = gateway.seals.seal({ document: payload, purpose: '办理测试', caseId: 'QZ-2', systemId: 'city-housing-reform' });
    const retiring = issued.keyId;
    clock += 1000;
    const successor = gateway.seals.keys.rotate();
    const { keys } = (await (await fetch(`${gateway.url}/api/v1/seal/keys`)).json()) as { keys: Array<{ keyId: string; status: string; retiredAt?: string }> };
    const retiredAt = keys.find((k) => k.keyId === retiring)?.retiredAt;
    expect(keys.find((k) => k.keyId === retiring)).toMatchObject({ status: 'retired', retiredAt: expect.any(String) });
    expect(Date.parse(retiredAt!)).toBe(clock);

    // Twenty minutes on. What the key sealed before its retirement still holds.
    clock += 20 * 60_000;
    expect(await verify(signedBy(retiring, issued))).toMatchObject({ valid: true });
    // Its private half, kept on disk, signs a seal dated ten minutes ago, after its retirement: refused.
    const late = signedBy(retiring, { ...issued, issuedAt: beijing(clock - 10 * 60_000), expiresAt: beijing(clock + 50 * 60_000) });
    expect(await verify(late)).toMatchObject({ valid: false, reason: expect.stringMatching(/^retired_key/) });

    // The active key, a seal valid for a year where the configuration says an hour: refused.
    const long = signedBy(successor.keyId, { ...issued, keyId: successor.keyId, issuedAt: beijing(clock), expiresAt: beijing(clock + 365 * 86_400_000) });
    expect(await verify(long)).toMatchObject({ valid: false, reason: expect.stringMatching(/^validity_too_long/) });
    // The same key within the hour holds, so the refusals above are about the dates alone.
    expect(await verify(signedBy(successor.keyId, { ...long, expiresAt: beijing(clock + 3_600_000) }))).toMatchObject({ valid: true });
  });
});
