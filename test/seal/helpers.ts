/** Shared bits of the seal tests: a throw-away keys folder and a sample document. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SEAL_DEFAULTS, type SealAlgorithm, type SealConfig } from '../../src/seal/config';
import { Keyring } from '../../src/seal/keys';
import { Sealer } from '../../src/seal/seal';

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ow-seal-${label}-`));
}

export function openSealer(algorithm: SealAlgorithm, dir = tempDir(algorithm), now?: () => Date, config: Partial<SealConfig> = {}): Sealer {
  const keyring = new Keyring({ dir, algorithm, writable: true, generate: true, now });
  return new Sealer(keyring, { ...SEAL_DEFAULTS, algorithm, ...config }, now);
}

/** A shared-data document as a shared-data look-up would return it. */
export function marriageRecord(): Record<string, unknown> {
  return {
    spouseName: '李四',
    registeredAt: '2015-06-01',
    registry: '衢州市柯城区民政局婚姻登记处',
    applicant: { name: '张三', idNumber: '330802199001011234' },
    children: [{ name: '张小三', born: 2018 }],
    flags: { remarried: false, notes: null },
    empty: {},
  };
}

export const ISSUED = new Date('2026-12-01T01:30:00Z'); // 09:30 in Beijing
