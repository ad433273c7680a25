/** Seals made and checked by the gateway: both algorithms, tampering, expiry, rotation, key files. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { digestHex } from '../../src/seal/algorithms';
import { jcs, leaves } from '../../src/seal/canonical';
import { Keyring } from '../../src/seal/keys';
import { SEAL_DEFAULTS } from '../../src/seal/config';
import { parseSealHeader, Sealer, sealHeader, sealObjectSchema, watermark } from '../../src/seal/seal';
import { ISSUED, marriageRecord, openSealer, tempDir } from './helpers';

const DAY = 86_400_000;

describe('digests and canonical JSON', () => {
  it('SM3("abc") is the GB/T 32905 test vector', () => {
    expect(digestHex('SM3', Buffer.from('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('SHA-256("abc") is the FIPS 180 test vector', () => {
    expect(digestHex('SHA-256', Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('JCS sorts keys by UTF-16 code units and writes numbers as ECMAScript does (RFC 8785 §3.2)', () => {
    expect(jcs({ b: [1e21, 0.1, -0, 1e-7], a: '€', '\u00e9': true, A: null })).toBe('{"A":null,"a":"€","b":[1e+21,0.1,0,1e-7],"é":true}');
  });

  it('names every leaf by JSON Pointer, escaping ~ and /', () => {
    expect([...(leaves({ 'a/b': { 'c~d': 1 }, list: [true, []], o: {} }) ?? new Map()).keys()].sort()).toEqual(['/a~1b/c~0d', '/list/0', '/list/1', '/o']);
    expect([...(leaves('plain') ?? new Map()).keys()]).toEqual(['']);
  });
});

describe.each(['SM2-SM3', 'Ed25519'] as const)('%s seals', (alg) => {
  const sealer = openSealer(alg);
  const document = marriageRecord();
  const seal = sealer.seal({ document, purpose: '办理出具房改核查证明（330800-FG-001）', caseId: 'QZ-20261201-000001', systemId: 'nat-civil-affairs', now: ISSUED });

  it('has the contract shape, Beijing-time stamps and a digest per leaf', () => {
    expect(sealObjectSchema.safeParse(seal).success).toBe(true);
    expect(seal).toMatchObject({ v: 1, alg, origin: '衢州市一窗受理云平台', issuedAt: '2026-12-01T09:30:00+08:00', expiresAt: '2026-12-31T09:30:00+08:00', digestAlg: alg === 'SM2-SM3' ? 'SM3' : 'SHA-256' });
    expect(Object.keys(seal.fieldDigests ?? {}).sort()).toEqual(['/applicant/idNumber', '/applicant/name', '/children/0/born', '/children/0/name', '/empty', '/flags/notes', '/flags/remarried', '/registeredAt', '/registry', '/spouseName']);
    // Salted: the digest of the seal's salt followed by the value's canonical JSON.
    expect(Buffer.from(seal.salt!, 'base64')).toHaveLength(16);
    expect(seal.fieldDigests?.['/spouseName']).toBe(digestHex(seal.digestAlg, Buffer.concat([Buffer.from(seal.salt!, 'base64'), Buffer.from('"李四"')])));
  });

  it('salts field digests afresh for every seal, so a digest of a phone or ID number cannot be looked up without the document', () => {
    const again = sealer.seal({ document, purpose: seal.purpose, caseId: seal.caseId, systemId: seal.systemId, now: ISSUED });
    expect(again.salt).not.toBe(seal.salt);
    expect(again.digest).toBe(seal.digest);
    expect(again.fieldDigests?.['/applicant/idNumber']).not.toBe(seal.fieldDigests?.['/applicant/idNumber']);
    // Neither is the plain digest of the value, which a table of every ID number would find.
    for (const s of [seal, again]) expect(s.fieldDigests?.['/applicant/idNumber']).not.toBe(digestHex(s.digestAlg, Buffer.from('"330802199001011234"')));
    // The verifier salts what it is given the same way, and still names the changed field.
    const tampered = { ...marriageRecord(), spouseName: '李五' };
    expect(sealer.verify({ seal: again, payload: tampered, now: ISSUED }).changed).toEqual(['/spouseName']);
  });

  it('never gives two seals the same salt, across the refills of the pool salts are cut from', () => {
    const salts = Array.from({ length: 700 }, () => sealer.seal({ payloadBytes: Buffer.from('x'), purpose: seal.purpose, caseId: seal.caseId, systemId: seal.systemId, now: ISSUED }).salt!);
    expect(new Set(salts).size).toBe(salts.length);
    for (const salt of salts) expect(Buffer.from(salt, 'base64').equals(Buffer.alloc(16))).toBe(false);
  });

  it('signs in the contract encoding', () => {
    const signature = Buffer.from(seal.signature, 'base64');
    if (alg === 'Ed25519') {
      expect(signature).toHaveLength(64);
    } else {
      // DER SEQUENCE { INTEGER r, INTEGER s }
      expect(signature[0]).toBe(0x30);
      expect(signature[1]).toBe(signature.length - 2);
      expect(signature[2]).toBe(0x02);
      const rLength = signature[3];
      expect(signature[4 + rLength]).toBe(0x02);
      expect(4 + rLength + 2 + signature[5 + rLength]).toBe(signature.length);
    }
  });

  it('verifies the document it sealed', () => {
    expect(sealer.verify({ seal, payload: marriageRecord(), now: new Date(ISSUED.getTime() + DAY) })).toEqual({
      valid: true,
      keyId: seal.keyId,
      alg,
      origin: seal.origin,
      purpose: seal.purpose,
      expiresAt: seal.expiresAt,
      expired: false,
      changed: [],
    });
  });

  it('detects a one-character tamper and names the field', () => {
    const tampered = marriageRecord();
    (tampered.applicant as Record<string, string>).idNumber = '330802199001011235';
    const result = sealer.verify({ seal, payload: tampered, now: ISSUED });
    expect(result).toMatchObject({ valid: false, changed: ['/applicant/idNumber'] });
    expect(result.reason).toMatch(/^payload_changed/);
  });

  it('names added and removed fields too', () => {
    const { spouseName: _gone, ...rest } = marriageRecord();
    const result = sealer.verify({ seal, payload: { ...rest, spouse: '王五' }, now: ISSUED });
    expect(result.changed).toEqual(['/spouse', '/spouseName']);
  });

  it('refuses a seal whose own fields were altered (the purpose, here)', () => {
    const result = sealer.verify({ seal: { ...seal, purpose: '办理其他事项' }, payload: marriageRecord(), now: ISSUED });
    expect(result).toMatchObject({ valid: false, changed: [] });
    expect(result.reason).toMatch(/^bad_signature/);
  });

  it('reports an expired seal as expired', () => {
    const result = sealer.verify({ seal, payload: marriageRecord(), now: new Date(ISSUED.getTime() + 31 * DAY) });
    expect(result).toMatchObject({ valid: false, expired: true, changed: [] });
    expect(result.reason).toMatch(/^expired/);
    expect(sealer.verify({ seal, payload: marriageRecord(), now: new Date(ISSUED.getTime() + 29 * DAY) }).expired).toBe(false);
  });

  it('seals exact bytes (a delivery body) and locates a change in them', () => {
    const body = Buffer.from('{"bizNo":"QZ-1","sqrxm":"张三", "sfzh":"330802199001011234"}');
    const bodySeal = sealer.seal({ payloadBytes: body, purpose: 'p', caseId: 'QZ-1', systemId: 'city-housing-reform', now: ISSUED });
    expect(bodySeal.digest).toBe(digestHex(bodySeal.digestAlg, body));
    expect(sealer.verify({ seal: bodySeal, payloadBase64: body.toString('base64'), now: ISSUED }).valid).toBe(true);
    const changed = Buffer.from(body.toString().replace('张三', '张四'));
    expect(sealer.verify({ seal: bodySeal, payloadBase64: changed.toString('base64'), now: ISSUED }).changed).toEqual(['/sqrxm']);
    // Same fields, other bytes: not valid, and no field is blamed.
    const reformatted = sealer.verify({ seal: bodySeal, payloadBase64: Buffer.from(JSON.stringify(JSON.parse(body.toString()))).toString('base64'), now: ISSUED });
    expect(reformatted).toMatchObject({ valid: false, changed: [] });
  });

  it('seals non-JSON bytes (a GBK XML body) without field digests', () => {
    const xml = Buffer.from([0x3c, 0x61, 0x3e, 0xd5, 0xc5, 0xc8, 0xfd, 0x3c, 0x2f, 0x61, 0x3e]); // <a>张三</a> in GBK
    const xmlSeal = sealer.seal({ payloadBytes: xml, purpose: 'p', caseId: 'QZ-1', systemId: 'prov-x', now: ISSUED });
    expect(xmlSeal.fieldDigests).toBeUndefined();
    expect(sealer.verify({ seal: xmlSeal, payloadBase64: xml.toString('base64'), now: ISSUED }).valid).toBe(true);
    xml[4] ^= 1;
    expect(sealer.verify({ seal: xmlSeal, payloadBase64: xml.toString('base64'), now: ISSUED })).toMatchObject({ valid: false, changed: [''] });
  });

  it('travels as X-OW-Seal: base64url of its JSON', () => {
    const header = sealHeader(seal);
    expect(header).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseSealHeader(header)).toEqual(seal);
    expect(parseSealHeader('not a seal!')).toBeUndefined();
  });
});

describe('keys', () => {
  it('generates keys with private files 0600 and public info beside', () => {
    const dir = tempDir('files');
    const sealer = openSealer('SM2-SM3', dir);
    const [key] = sealer.keys.list();
    expect(fs.statSync(path.join(dir, `${key.keyId}.key.pem`)).mode & 0o777).toBe(0o600);
    const info = JSON.parse(fs.readFileSync(path.join(dir, `${key.keyId}.pub.json`), 'utf8'));
    expect(info).toMatchObject({ keyId: key.keyId, alg: 'SM2-SM3', status: 'active', publicKeyPem: key.publicKeyPem, publicKeyHex: key.publicKeyHex });
    expect(JSON.stringify(info)).not.toMatch(/PRIVATE/);
  });

  it('publishes SM2 keys as SubjectPublicKeyInfo with the SM2 curve OID, and as 04‖x‖y', () => {
    const [key] = openSealer('SM2-SM3').keys.list();
    expect(key.publicKeyHex).toMatch(/^04[0-9a-f]{128}$/);
    const spki = crypto.createPublicKey(key.publicKeyPem).export({ format: 'der', type: 'spki' });
    expect(spki.toString('hex')).toContain('06082a811ccf5501822d'); // OID 1.2.156.10197.1.301
    expect(spki.subarray(-65).toString('hex')).toBe(key.publicKeyHex);
  });

  it('rotates: a new active key, the old one retired and still verifying its seals, in every process', () => {
    const dir = tempDir('rotate');
    let now = ISSUED;
    const sealer = openSealer('SM2-SM3', dir, () => now);
    const document = marriageRecord();
    const old = sealer.seal({ document, purpose: 'p', caseId: 'QZ-1', systemId: 's' });
    now = new Date(ISSUED.getTime() + 1000);
    const made = sealer.keys.rotate();
    const fresh = sealer.seal({ document, purpose: 'p', caseId: 'QZ-1', systemId: 's' });
    expect(made.keyId).not.toBe(old.keyId);
    expect(fresh.keyId).toBe(made.keyId);
    expect(sealer.keys.list().map((k) => [k.keyId, k.status])).toEqual([
      [old.keyId, 'retired'],
      [made.keyId, 'active'],
    ]);
    expect(sealer.verify({ seal: old, payload: document, now }).valid).toBe(true);
    expect(sealer.verify({ seal: fresh, payload: document, now }).valid).toBe(true);
    // Another process (the CLI, another gateway) reading the same folder agrees.
    const other = new Keyring({ dir, algorithm: 'SM2-SM3', writable: false, generate: false });
    expect(other.active().keyId).toBe(made.keyId);
    expect(JSON.parse(fs.readFileSync(path.join(dir, `${old.keyId}.pub.json`), 'utf8'))).toMatchObject({ status: 'retired', retiredAt: fresh.issuedAt });
  });

  it('still verifies with a retired key whose private half was destroyed', () => {
    const dir = tempDir('destroyed');
    const sealer = openSealer('Ed25519', dir);
    const seal = sealer.seal({ document: { a: 1 }, purpose: 'p', caseId: 'c', systemId: 's', now: ISSUED });
    sealer.keys.rotate();
    fs.rmSync(path.join(dir, `${seal.keyId}.key.pem`));
    const reader = new Keyring({ dir, algorithm: 'Ed25519', writable: false, generate: false });
    expect(new Sealer(reader, { ...SEAL_DEFAULTS, algorithm: 'Ed25519' }).verify({ seal, payload: { a: 1 }, now: ISSUED }).valid).toBe(true);
  });

  it('loads a key the operator provides as PKCS#8 PEM (here one made by OpenSSL), and never writes there', () => {
    const dir = tempDir('provided');
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' });
    fs.writeFileSync(path.join(dir, 'ops-2026-a.key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const keyring = new Keyring({ dir, algorithm: 'SM2-SM3', writable: false, generate: false });
    expect(keyring.active().keyId).toBe('ops-2026-a');
    expect(keyring.active().publicKeyPem).toBe(crypto.createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }));
    expect(() => keyring.rotate()).toThrow(/provided by the operator/);
    expect(fs.readdirSync(dir)).toEqual(['ops-2026-a.key.pem']);
  });

  it('refuses a key on another curve, naming the file and never its content', () => {
    const dir = tempDir('p256');
    const pem = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    fs.writeFileSync(path.join(dir, 'wrong.key.pem'), pem, { mode: 0o600 });
    let message = '';
    try {
      new Keyring({ dir, algorithm: 'SM2-SM3', writable: false, generate: false });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/wrong: neither an SM2/);
    expect(message).not.toContain(pem.split('\n')[1]);
  });

  it('answers unknown_key for a key it does not know, bad_signature for a key id it knows with another key behind it', () => {
    const ours = openSealer('SM2-SM3');
    const theirs = openSealer('SM2-SM3');
    const seal = theirs.seal({ document: { a: 1 }, purpose: 'p', caseId: 'c', systemId: 's', now: ISSUED });
    expect(ours.verify({ seal: { ...seal, keyId: 'nobody' }, payload: { a: 1 }, now: ISSUED }).reason).toMatch(/^unknown_key/);
    // Both folders named their first key ow-<month>-a: the id matches, the key does not.
    expect(ours.keys.list()[0].keyId).toBe(seal.keyId);
    expect(ours.verify({ seal, payload: { a: 1 }, now: ISSUED })).toMatchObject({ valid: false, reason: expect.stringMatching(/^bad_signature/) });
  });
});

describe('watermark', () => {
  it('reads as 国办函〔2016〕108号 asks, in the wording docs/security.md gives', () => {
    expect(watermark({ origin: '衢州市一窗受理云平台', purpose: '出具房改核查证明', expiresAt: '2026-12-31T09:30:00+08:00' })).toBe(
      '此件由衢州市一窗受理云平台提供，仅供办理出具房改核查证明使用，有效期至2026年12月31日',
    );
  });
});

describe('limits', () => {
  it('seals a document with too many leaves without field digests, and still verifies it', () => {
    const sealer = openSealer('Ed25519', undefined, undefined, { maxFieldDigests: 3 });
    const document = { a: 1, b: 2, c: 3, d: 4 };
    const seal = sealer.seal({ document, purpose: 'p', caseId: 'c', systemId: 's', now: ISSUED });
    expect(seal.fieldDigests).toBeUndefined();
    expect(sealer.verify({ seal, payload: document, now: ISSUED }).valid).toBe(true);
    expect(sealer.verify({ seal, payload: { ...document, d: 5 }, now: ISSUED })).toMatchObject({ valid: false, changed: [''] });
  });

  it('handles a deeply nested document without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}"leaf"${']'.repeat(100_000)}`;
    const sealer = openSealer('Ed25519');
    const seal = sealer.seal({ payloadBytes: Buffer.from(deep), purpose: 'p', caseId: 'c', systemId: 's', now: ISSUED });
    expect(seal.fieldDigests).toBeUndefined(); // its one pointer is longer than a seal names
  });

  it('refuses to issue a seal its own verifier would call malformed', () => {
    expect(() => openSealer('Ed25519').seal({ document: {}, purpose: 'x'.repeat(501), caseId: 'c', systemId: 's' })).toThrow(/purpose/);
    expect(() => openSealer('Ed25519').seal({ document: {}, purpose: 'p', caseId: 'c'.repeat(201), systemId: 's' })).toThrow(/caseId/);
    expect(() => openSealer('Ed25519').seal({ document: {}, purpose: 'p', caseId: 'c', systemId: 's', materials: [{ kind: 'k'.repeat(65), sha256: 'a'.repeat(64), sm3: 'b'.repeat(64) }] })).toThrow(/materials/);
  });

  it('issues seals, previews and seals with materials that the full seal schema accepts, as a verifier reads them', () => {
    for (const alg of ['SM2-SM3', 'Ed25519'] as const) {
      const sealer = openSealer(alg);
      const request = { document: marriageRecord(), purpose: '办理出具房改核查证明（330800-FG-001）', caseId: 'QZ-1', systemId: 'city-a', materials: [{ kind: 'ID_CARD', sha256: 'a'.repeat(64), sm3: 'b'.repeat(64) }] };
      for (const seal of [sealer.seal(request), sealer.preview(request), sealer.seal({ ...request, payloadBytes: Buffer.from('<xml/>'), document: undefined })]) {
        expect(sealObjectSchema.strict().safeParse(JSON.parse(JSON.stringify(seal))).error).toBeUndefined();
      }
    }
  });
});
