/**
 * The seal room in one import: open it once per process, then
 * `sealer.seal({...})` → a seal, `sealHeader(seal)` → the X-OW-Seal value, `sealer.verify({...})`.
 */
import path from 'node:path';
import type { Logger } from '../platform/logger';
import type { SealConfig } from './config';
import { Keyring } from './keys';
import { Sealer } from './seal';

export { SEAL_DEFAULTS, sealSchema, type SealAlgorithm, type SealConfig } from './config';
export { Keyring, KeyringError, type SealKeyInfo } from './keys';
export { deliverySeal, parseSealHeader, sealHeader, sealObjectSchema, Sealer, watermark, type Seal, type SealedMaterial, type SealRequest, type Verification, type VerifyRequest } from './seal';
export { sealRoutes } from './routes';
export { VerifyThread } from './verify-thread';

export interface SealRoomOptions {
  config: SealConfig;
  /** Resolves a relative `seal.keysDir` (default: the working directory). */
  configDir?: string;
  /** Where generated keys live, under `seal/` (default $OW_DATA_DIR, else ./data). */
  dataDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  now?: () => Date;
}

/** Where the keys are, and whether the gateway owns them (generates and rotates) or only reads them. */
export function keysLocation(options: Pick<SealRoomOptions, 'config' | 'configDir' | 'dataDir' | 'env'>): { dir: string; provided: boolean } {
  const env = options.env ?? process.env;
  if (env.OW_SEAL_KEYS_DIR) return { dir: path.resolve(env.OW_SEAL_KEYS_DIR), provided: true };
  if (options.config.keysDir) return { dir: path.resolve(options.configDir ?? '.', options.config.keysDir), provided: true };
  return { dir: path.resolve(options.dataDir ?? env.OW_DATA_DIR ?? './data', 'seal'), provided: false };
}

/** Opens the keyring (generating a first key if the gateway owns it and has none) and the sealer. */
export function openSealRoom(options: SealRoomOptions): Sealer {
  const { dir, provided } = keysLocation(options);
  const keyring = new Keyring({ dir, algorithm: options.config.algorithm, writable: !provided, generate: !provided, log: options.log, now: options.now });
  return new Sealer(keyring, options.config, options.now);
}
