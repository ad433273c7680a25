/** `npm run seal -- verify|rotate|keys`, run in-process on a real keys folder. */
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/seal/cli';
import { openSealRoom } from '../../src/seal/index';
import { ISSUED, marriageRecord, tempDir } from './helpers';

function cli(args: string[], env: Record<string, string>, now = () => ISSUED): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env, now });
  return { code, out, err };
}

describe('seal CLI', () => {
  const dataDir = tempDir('cli');
  const configDir = tempDir('cli-config');
  fs.writeFileSync(path.join(configDir, 'gateway.yaml'), 'seal: { origin: 衢州市一窗受理云平台, algorithm: SM2-SM3, validity: 30d }\n');
  const env = { OW_DATA_DIR: dataDir, OW_CONFIG_DIR: configDir };

  it('rotate makes the first key, then a new active one retiring the old', () => {
    const first = cli(['rotate'], env);
    expect(first.code).toBe(0);
    const firstId = JSON.parse(first.out).active.keyId as string;
    expect(fs.statSync(path.join(dataDir, 'seal', `${firstId}.key.pem`)).mode & 0o777).toBe(0o600);
    const second = cli(['rotate'], env, () => new Date(ISSUED.getTime() + 1000));
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({ active: { alg: 'SM2-SM3' }, retired: [firstId] });
    const keys = JSON.parse(cli(['keys'], env).out).keys as Array<{ status: string }>;
    expect(keys.map((k) => k.status)).toEqual(['retired', 'active']);
  });

  it('verify exits 0 for a valid seal, 1 for a tampered or expired one, 2 for bad input', () => {
    // A seal made by a gateway on the same data folder.
    const sealer = openSealRoom({ config: { origin: '衢州市一窗受理云平台', algorithm: 'SM2-SM3', validity: '30d', maxFieldDigests: 256 }, dataDir, env: {} });
    const seal = sealer.seal({ document: marriageRecord(), purpose: 'p', caseId: 'QZ-1', systemId: 's', now: ISSUED });
    const file = (name: string, body: unknown) => {
      const at = path.join(dataDir, name);
      fs.writeFileSync(at, typeof body === 'string' ? body : JSON.stringify(body));
      return at;
    };
    const ok = cli(['verify', file('ok.json', { seal, payload: marriageRecord() })], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ valid: true, changed: [] });
    const tampered = cli(['verify', file('bad.json', { seal, payload: { ...marriageRecord(), spouseName: '李五' } })], env);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.out).changed).toEqual(['/spouseName']);
    const late = cli(['verify', file('ok.json', { seal, payload: marriageRecord() }), '--now', '2027-02-01T00:00:00+08:00'], env);
    expect(late.code).toBe(1);
    expect(JSON.parse(late.out).expired).toBe(true);
    // A dry run's seal (a preview, unsigned) is never valid offline either.
    const preview = sealer.preview({ document: marriageRecord(), purpose: 'p', caseId: 'QZ-1', systemId: 's', now: ISSUED });
    const shown = cli(['verify', file('preview.json', { seal: preview, payload: marriageRecord() })], env);
    expect(shown.code).toBe(1);
    expect(JSON.parse(shown.out)).toMatchObject({ valid: false, reason: expect.stringMatching(/^preview: a dry run's seal is never valid/) });
    // Nor is a seal valid for longer than gateway.yaml's seal.validity (30d), whatever key signed it.
    const year = openSealRoom({ config: { origin: '衢州市一窗受理云平台', algorithm: 'SM2-SM3', validity: '365d', maxFieldDigests: 256 }, dataDir, env: {} });
    const long = cli(['verify', file('long.json', { seal: year.seal({ document: marriageRecord(), purpose: 'p', caseId: 'QZ-1', systemId: 's', now: ISSUED }), payload: marriageRecord() })], env);
    expect(long.code).toBe(1);
    expect(JSON.parse(long.out).reason).toMatch(/^validity_too_long/);
    expect(cli(['verify', file('junk.json', '{')], env)).toMatchObject({ code: 2, err: expect.stringMatching(/not JSON/) });
    expect(cli(['verify', file('noseal.json', { payload: {} })], env)).toMatchObject({ code: 2, err: expect.stringMatching(/seal/) });
    expect(cli(['verify', path.join(dataDir, 'missing.json')], env)).toMatchObject({ code: 2, err: expect.stringMatching(/no such file/) });
    expect(cli(['frobnicate'], env).code).toBe(2);
  });

  it('refuses to rotate to an algorithm other than the configured one, in one clear line, and makes no key (a gateway would undo it within 5 s)', () => {
    const before = fs.readdirSync(path.join(dataDir, 'seal')).sort();
    const active = () => (JSON.parse(cli(['keys'], env).out).keys as Array<{ keyId: string; status: string }>).find((k) => k.status === 'active')?.keyId;
    const was = active();
    const refused = cli(['rotate', '--alg', 'Ed25519'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toBe('');
    expect(refused.err).toMatch(/Ed25519.*configured seal algorithm is SM2-SM3.*set seal\.algorithm to Ed25519 first/);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    expect(fs.readdirSync(path.join(dataDir, 'seal')).sort()).toEqual(before);
    expect(active()).toBe(was);
    // The configured algorithm named explicitly is a rotation as any other.
    expect(cli(['rotate', '--alg', 'SM2-SM3'], env, () => new Date(ISSUED.getTime() + 2000)).code).toBe(0);
  });

  it('refuses to rotate keys the operator provides, and says so in one line', () => {
    const provided = tempDir('cli-provided');
    const result = cli(['rotate'], { ...env, OW_SEAL_KEYS_DIR: provided });
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/provided by the operator/);
    expect(result.err.trim().split('\n')).toHaveLength(1);
  });
});
