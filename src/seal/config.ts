/**
 * The `seal:` section of gateway.yaml. Kept beside the seal room so the config
 * schema only has to name it; every key is optional.
 */
import { z } from 'zod';

export const SEAL_ALGORITHMS = ['SM2-SM3', 'Ed25519'] as const;
export type SealAlgorithm = (typeof SEAL_ALGORITHMS)[number];

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30d", "12h", "90m", "3600s" → milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})\s*([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export const sealDuration = z
  .string()
  .refine((text) => (parseDuration(text) ?? 0) > 0, 'a duration such as 30d, 12h or 90m');

export const sealSchema = z.strictObject({
  /** Who vouches for what is sealed: the seal's `origin`, and the watermark's 此件由…提供. */
  origin: z.string().min(1).max(200).default('衢州市一窗受理云平台'),
  /** The algorithm of the key that signs new seals; keys of the other one still verify. */
  algorithm: z.enum(SEAL_ALGORITHMS).default('SM2-SM3'),
  /** How long a seal stays valid after it is issued. */
  validity: sealDuration.default('30d'),
  /**
   * A folder of keys provided by the operator (a mounted secret): then nothing is generated and
   * rotation is the operator's. Unset: keys live, and are generated, under $OW_DATA_DIR/seal.
   * `OW_SEAL_KEYS_DIR` wins over this.
   */
  keysDir: z.string().min(1).optional(),
  /**
   * A JSON payload with more leaves than this is sealed without `fieldDigests` (the digest still
   * covers every byte): the seal travels in an HTTP header, and legacy servers refuse long ones.
   */
  maxFieldDigests: z.number().int().min(0).max(100_000).default(256),
});

export type SealConfig = z.infer<typeof sealSchema>;

export const SEAL_DEFAULTS: SealConfig = sealSchema.parse({});
