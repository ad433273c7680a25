/**
 * The two seal algorithms (SM2-SM3 and Ed25519), behind one interface.
 *
 * SM2-SM3 is signed with sm-crypto-v2, not node:crypto: OpenSSL 3 (Node 20) signs SM2 keys either
 * as plain ECDSA-with-SM3 or with an empty user ID, neither of which a GB/T 32918.2 verifier
 * accepts. Node is still used to read and write SM2 keys as PEM (SubjectPublicKeyInfo / PKCS#8
 * with the SM2 curve OID), and for SM3 digests where its OpenSSL has them, which it does correctly.
 * Ed25519 is node:crypto throughout.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { Field } from '@noble/curves/abstract/modular';
import { DER } from '@noble/curves/abstract/weierstrass';
import { sm2, sm3 } from 'sm-crypto-v2';
import type { SealAlgorithm } from './config';
import { SM2_N, sm2Nonces } from './nonces';

/** GM/T 0009: the user ID every party assumes when none was agreed. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

export type DigestAlgorithm = 'SM3' | 'SHA-256';

export const DIGEST_OF: Record<SealAlgorithm, DigestAlgorithm> = { 'SM2-SM3': 'SM3', Ed25519: 'SHA-256' };

// OpenSSL's SM3 (GB/T 32905) where Node has it, more than twice as fast as the library's: what
// OpenSSL gets wrong is SM2 signing, not the hash. The library's where Node was built without it.
const NATIVE_SM3 = crypto.getHashes().includes('sm3');

/** SM3 of the bytes, lower-case hex. */
export function sm3Hex(bytes: Uint8Array): string {
  return NATIVE_SM3 ? crypto.createHash('sm3').update(bytes).digest('hex') : sm3(bytes);
}

/** An SM3 digest fed piece by piece (a material streamed through): OpenSSL's, else the library's over the pieces kept. */
export function sm3Hasher(): { update(chunk: Uint8Array): void; digest(): string } {
  if (NATIVE_SM3) {
    const hash = crypto.createHash('sm3');
    return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest('hex') };
  }
  const chunks: Uint8Array[] = [];
  return { update: (chunk) => void chunks.push(chunk), digest: () => sm3(Buffer.concat(chunks)) };
}

export function digestHex(algorithm: DigestAlgorithm, bytes: Uint8Array): string {
  if (algorithm === 'SM3') return sm3Hex(bytes);
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** A key as the keyring holds it: the public half always, the private half when we may sign. */
export interface KeyMaterial {
  alg: SealAlgorithm;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  /** SM2 only: uncompressed 04‖x‖y, hex. */
  publicKeyHex?: string;
  /** Present on keys this process may sign with. Never logged or answered. */
  signer?: (message: Uint8Array) => Buffer;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

// DER prefixes of an SM2 key: AlgorithmIdentifier {id-ecPublicKey, sm2p256v1 (1.2.156.10197.1.301)}.
const SM2_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');
const SM2_PKCS8_PREFIX = Buffer.from('308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420', 'hex');
const SM2_PKCS8_MIDDLE = Buffer.from('a144034200', 'hex');

export function sm2PublicPem(publicKeyHex: string): string {
  const der = Buffer.concat([SM2_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]);
  // Round-trip through OpenSSL so that a point off the curve is refused here, not at verify time.
  return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
}

const modN = Field(SM2_N);

/**
 * Signs e = SM3(Z ‖ M), GB/T 32918.2 §6.1 steps A3–A7. Everything that depends only on the key is
 * worked out once per key: Z (the key and the user ID) and (1 + d)⁻¹, which sm-crypto-v2's
 * doSignature inverts again for every signature (the largest cost of a seal once k·G comes from
 * the nonce pool). The points are the library's (`getPoint`, made ahead by the nonce thread), the
 * arithmetic mod n and the DER encoding @noble/curves' (the library's own base); the interop test
 * has the independent sm-crypto verify what this signs.
 */
function sm2Signer(privateKeyHex: string, publicKeyHex: string): (message: Uint8Array) => Buffer {
  const z = sm2.getZ(publicKeyHex, SM2_DEFAULT_USER_ID);
  const d = BigInt(`0x${privateKeyHex}`);
  const inverse = modN.inv(modN.add(d, 1n));
  return (message) => {
    const e = BigInt(`0x${sm3Hex(Buffer.concat([z, message]))}`);
    for (;;) {
      const { k, x1 } = sm2Nonces.take() ?? sm2.getPoint();
      const r = modN.add(e, x1);
      if (r === 0n || r + k === SM2_N) continue;
      const s = modN.mul(inverse, modN.sub(k, modN.mul(r, d)));
      if (s !== 0n) return Buffer.from(DER.hexFromSig({ r, s }), 'hex');
    }
  };
}

function sm2Material(publicKeyHex: string, privateKeyHex?: string): KeyMaterial {
  const publicKeyPem = sm2PublicPem(publicKeyHex);
  // Precomputed tables make each verification several times faster; built once per key, on its
  // first verification, so that a folder of retired keys costs nothing at start-up.
  let point: ReturnType<typeof sm2.precomputePublicKey> | undefined;
  return {
    alg: 'SM2-SM3',
    publicKeyPem,
    publicKeyHex,
    signer: privateKeyHex ? sm2Signer(privateKeyHex, publicKeyHex) : undefined,
    verify(message, signature) {
      try {
        point ??= sm2.precomputePublicKey(publicKeyHex);
        return sm2.doVerifySignature(message, Buffer.from(signature).toString('hex'), point, { der: true, hash: true, userId: SM2_DEFAULT_USER_ID });
      } catch {
        return false; // malformed DER or a point the library refuses: not a valid signature either way
      }
    },
  };
}

function ed25519Material(publicKey: KeyObject, privateKey?: KeyObject): KeyMaterial {
  return {
    alg: 'Ed25519',
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    signer: privateKey ? (message) => crypto.sign(null, message, privateKey) : undefined,
    verify(message, signature) {
      if (signature.length !== 64) return false;
      return crypto.verify(null, message, publicKey, signature);
    },
  };
}

/** The SM2 private scalar, hex, of a PKCS#8 KeyObject; undefined when the key is not on the SM2 curve. */
function sm2PrivateHex(privateKey: KeyObject): string | undefined {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  // OpenSSL re-encodes every PKCS#8 it reads the same way, so the layout is fixed for SM2.
  if (der.length < SM2_PKCS8_PREFIX.length + 32 + SM2_PKCS8_MIDDLE.length) return undefined;
  if (!der.subarray(0, SM2_PKCS8_PREFIX.length).equals(SM2_PKCS8_PREFIX)) return undefined;
  return der.subarray(SM2_PKCS8_PREFIX.length, SM2_PKCS8_PREFIX.length + 32).toString('hex');
}

function sm2PublicHexOfSpki(publicKey: KeyObject): string | undefined {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  if (der.length !== SM2_SPKI_PREFIX.length + 65 || !der.subarray(0, SM2_SPKI_PREFIX.length).equals(SM2_SPKI_PREFIX)) return undefined;
  return der.subarray(SM2_SPKI_PREFIX.length).toString('hex');
}

export class KeyFormatError extends Error {
  override name = 'KeyFormatError';
}

/** Reads a PKCS#8 private key PEM (as written by generateKey, or `openssl genpkey`). */
export function materialFromPrivatePem(pem: string): KeyMaterial {
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey(pem);
  } catch {
    // Never echo the text: it is (or was meant to be) a private key.
    throw new KeyFormatError('not a PKCS#8 private key PEM');
  }
  const publicKey = crypto.createPublicKey(privateKey);
  if (privateKey.asymmetricKeyType === 'ed25519') return ed25519Material(publicKey, privateKey);
  const publicKeyHex = sm2PublicHexOfSpki(publicKey);
  const privateKeyHex = publicKeyHex ? sm2PrivateHex(privateKey) : undefined;
  if (!publicKeyHex || !privateKeyHex) throw new KeyFormatError('neither an SM2 (curve 1.2.156.10197.1.301) nor an Ed25519 key');
  if (sm2.getPublicKeyFromPrivateKey(privateKeyHex) !== publicKeyHex) throw new KeyFormatError('the SM2 public point does not belong to the private key');
  return sm2Material(publicKeyHex, privateKeyHex);
}

/** Reads a SubjectPublicKeyInfo PEM: a key that verifies only (e.g. a retired key whose private half was destroyed). */
export function materialFromPublicPem(pem: string): KeyMaterial {
  let publicKey: KeyObject;
  try {
    publicKey = crypto.createPublicKey(pem);
  } catch {
    throw new KeyFormatError('not a SubjectPublicKeyInfo PEM');
  }
  if (publicKey.asymmetricKeyType === 'ed25519') return ed25519Material(publicKey);
  const publicKeyHex = sm2PublicHexOfSpki(publicKey);
  if (!publicKeyHex) throw new KeyFormatError('neither an SM2 (curve 1.2.156.10197.1.301) nor an Ed25519 key');
  return sm2Material(publicKeyHex);
}

/** A fresh key pair: the material and its PKCS#8 PEM for the key file. */
export function generateKey(alg: SealAlgorithm): { material: KeyMaterial; privateKeyPem: string } {
  if (alg === 'Ed25519') {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    return { material: ed25519Material(publicKey, privateKey), privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
  }
  const pair = sm2.generateKeyPairHex();
  const privateKeyHex = pair.privateKey.padStart(64, '0');
  const der = Buffer.concat([SM2_PKCS8_PREFIX, Buffer.from(privateKeyHex, 'hex'), SM2_PKCS8_MIDDLE, Buffer.from(pair.publicKey, 'hex')]);
  const privateKeyPem = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { material: sm2Material(pair.publicKey, privateKeyHex), privateKeyPem };
}
