/**
 * Any independent SM2 implementation must verify an SM2 seal. The gateway signs with
 * sm-crypto-v2 (on @noble/curves); sm-crypto (jsbn, a separate code base) checks it, and signs a
 * seal that the gateway must accept.
 */
import { sm2 as independent, sm3 as independentSm3 } from 'sm-crypto';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sm2PublicPem, sm3Hex as gatewaySm3, SM2_DEFAULT_USER_ID } from '../../src/seal/algorithms';
import { jcsBytes } from '../../src/seal/canonical';
import { sm2Nonces } from '../../src/seal/nonces';
import { signedMessage, type Seal } from '../../src/seal/seal';
import { eventually } from '../support/harness';
import { ISSUED, marriageRecord, openSealer, tempDir } from './helpers';

const bytesOf = (buffer: Buffer): number[] => Array.from(buffer);

describe('SM2 seals across independent implementations', () => {
  const dir = tempDir('interop');
  const sealer = openSealer('SM2-SM3', dir);
  const seal = sealer.seal({ document: marriageRecord(), purpose: '办理出具房改核查证明（330800-FG-001）', caseId: 'QZ-1', systemId: 'nat-civil-affairs', now: ISSUED });
  const [key] = sealer.keys.list();

  it('a gateway seal verifies with sm-crypto (default user ID, SM3 with Z_A, DER signature)', () => {
    const signatureHex = Buffer.from(seal.signature, 'base64').toString('hex');
    const message = bytesOf(signedMessage(seal));
    expect(independent.doVerifySignature(message, signatureHex, key.publicKeyHex as string, { der: true, hash: true })).toBe(true);
    expect(independent.doVerifySignature(message, signatureHex, key.publicKeyHex as string, { der: true, hash: true, userId: SM2_DEFAULT_USER_ID })).toBe(true);
  });

  it('seals signed with nonces made ahead on the pool thread verify independently, each nonce used once', async () => {
    sealer.seal({ document: marriageRecord(), purpose: 'warm-up', caseId: 'QZ-0', systemId: 'nat-civil-affairs', now: ISSUED });
    await eventually(async () => expect(sm2Nonces.available).toBeGreaterThanOrEqual(200));
    const before = sm2Nonces.available;
    const rs = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const s = sealer.seal({ document: { ...marriageRecord(), n: i }, purpose: '办理出具房改核查证明（330800-FG-001）', caseId: `QZ-${i}`, systemId: 'nat-civil-affairs', now: ISSUED });
      const signatureHex = Buffer.from(s.signature, 'base64').toString('hex');
      expect(independent.doVerifySignature(bytesOf(signedMessage(s)), signatureHex, key.publicKeyHex as string, { der: true, hash: true })).toBe(true);
      rs.add(signatureHex.slice(0, 72)); // the DER prefix and most of r
    }
    expect(rs.size).toBe(100);
    expect(sm2Nonces.available).toBeLessThan(before); // the pool's points were what signed
  });

  it("the gateway's SM3 (OpenSSL's where Node has it) equals the independent one's, empty input and block edges included", () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096]) {
      const bytes = crypto.randomBytes(length);
      expect(gatewaySm3(bytes)).toBe(sm3Hex(bytes));
    }
    // GB/T 32905 appendix A, example 1: SM3("abc").
    expect(gatewaySm3(Buffer.from('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it("a gateway seal's field digests are SM3 of its salt followed by the value's canonical JSON, recomputed independently", () => {
    const salt = Buffer.from(seal.salt as string, 'base64');
    expect(salt).toHaveLength(16);
    // JSON.stringify writes these strings as RFC 8785 does: no escapes, no numbers to normalise.
    expect(seal.fieldDigests?.['/spouseName']).toBe(sm3Hex(Buffer.concat([salt, Buffer.from(JSON.stringify('李四'), 'utf8')])));
    expect(seal.fieldDigests?.['/applicant/idNumber']).toBe(sm3Hex(Buffer.concat([salt, Buffer.from(JSON.stringify('330802199001011234'), 'utf8')])));
    // Unsalted, the ID number's digest would be found by trying every birth date and sequence number.
    expect(seal.fieldDigests?.['/applicant/idNumber']).not.toBe(sm3Hex(Buffer.from(JSON.stringify('330802199001011234'), 'utf8')));
  });

  it('the check can fail: another user ID, another message, or a raw r‖s reading refuse it', () => {
    const signatureHex = Buffer.from(seal.signature, 'base64').toString('hex');
    const message = bytesOf(signedMessage(seal));
    expect(independent.doVerifySignature(message, signatureHex, key.publicKeyHex as string, { der: true, hash: true, userId: '' })).toBe(false);
    expect(independent.doVerifySignature(message, signatureHex, key.publicKeyHex as string, { der: true, hash: false })).toBe(false);
    expect(independent.doVerifySignature(bytesOf(signedMessage({ ...seal, caseId: 'QZ-2' })), signatureHex, key.publicKeyHex as string, { der: true, hash: true })).toBe(false);
  });

  it('a seal signed by sm-crypto verifies in the gateway, and a tamper is located', () => {
    const pair = independent.generateKeyPairHex();
    fs.writeFileSync(
      path.join(dir, 'peer-2026-12-a.pub.json'),
      JSON.stringify({ keyId: 'peer-2026-12-a', alg: 'SM2-SM3', status: 'retired', createdAt: '2026-11-01T00:00:00+08:00', retiredAt: '2026-12-02T00:00:00+08:00', publicKeyPem: sm2PublicPem(pair.publicKey) }),
    );
    expect(sealer.keys.refresh()).toEqual([]);
    const document = { spouseName: '李四', registeredAt: '2015-06-01' };
    const salt = crypto.randomBytes(16);
    const unsigned: Omit<Seal, 'signature'> = {
      v: 1,
      alg: 'SM2-SM3',
      keyId: 'peer-2026-12-a',
      origin: '衢州市一窗受理云平台',
      purpose: '办理出具房改核查证明（330800-FG-001）',
      caseId: 'QZ-1',
      systemId: 'nat-civil-affairs',
      issuedAt: '2026-12-01T09:30:00+08:00',
      expiresAt: '2026-12-31T09:30:00+08:00',
      digestAlg: 'SM3',
      digest: sm3Hex(jcsBytes(document)),
      salt: salt.toString('base64'),
      fieldDigests: { '/spouseName': sm3Hex(Buffer.concat([salt, jcsBytes('李四')])), '/registeredAt': sm3Hex(Buffer.concat([salt, jcsBytes('2015-06-01')])) },
    };
    const signatureHex = independent.doSignature(bytesOf(signedMessage(unsigned)), pair.privateKey, { der: true, hash: true });
    const peerSeal: Seal = { ...unsigned, signature: Buffer.from(signatureHex, 'hex').toString('base64') };
    expect(sealer.verify({ seal: peerSeal, payload: document, now: ISSUED })).toMatchObject({ valid: true, keyId: 'peer-2026-12-a', changed: [] });
    expect(sealer.verify({ seal: peerSeal, payload: { ...document, spouseName: '李五' }, now: ISSUED })).toMatchObject({ valid: false, changed: ['/spouseName'] });
    // Signed without Z_A (plain SM3 of the message, as an ECDSA-style signer would): refused.
    const withoutZ = independent.doSignature(bytesOf(signedMessage(unsigned)), pair.privateKey, { der: true, hash: false });
    expect(sealer.verify({ seal: { ...peerSeal, signature: Buffer.from(withoutZ, 'hex').toString('base64') }, payload: document, now: ISSUED }).reason).toMatch(/^bad_signature/);
  });
});

function sm3Hex(bytes: Buffer): string {
  // The independent implementation's SM3, so that the digests are not only the gateway's word.
  return independentSm3(bytesOf(bytes));
}
