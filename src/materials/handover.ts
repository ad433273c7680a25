/**
 * Materials at delivery: which of a case's materials a system takes (its `materials.kinds`), fetched
 * through the cache and turned into what its adapter hands over — nothing for `reference` (the
 * mapping already sees the URIs), base64 for `inline`, parts for `attach`. A material whose bytes are
 * not those the case vouched for is audited here before the delivery is refused.
 */
import fs from 'node:fs';
import type { MaterialHandover } from '../../adapters/adapter';
import type { AuditEntry } from '../api-schemas';
import type { Case, DeliveryView } from '../cases/model';
import type { SystemConfig } from '../config/schema';
import { replyLimit as byteCount } from '../delivery/endpoints';
import { sealHeader, type SealedMaterial } from '../seal';
import { MaterialAlteredError, type FetchedMaterial, type MaterialCache } from './cache';

export interface PreparedMaterials {
  /** What the adapter hands over (absent: by reference). */
  handover?: MaterialHandover;
  /** What the delivery's seal lists. */
  sealed: SealedMaterial[];
  /** What the delivery view records once the system has acknowledged. */
  view: NonNullable<DeliveryView['handover']>;
  /** Lets the cache evict these files again. */
  release(): void;
}

export interface MaterialDeliveriesDeps {
  cache: MaterialCache;
  audit: (entry: Omit<AuditEntry, 'at'>) => Promise<void>;
}

/** The indexes of the case's materials `system` takes. */
export function materialsFor(system: SystemConfig, kase: Case): number[] {
  const kinds = system.materials?.kinds;
  return kase.materials.flatMap((m, i) => (!kinds || kinds.includes(m.kind) ? [i] : []));
}

/** How a delivery's handover reads in its history: mode, then each material's kind, size and digest. */
export function handoverDetail(view: NonNullable<DeliveryView['handover']>): string {
  const items = view.materials.map((m) => `${m.kind}${m.size !== undefined ? ` ${m.size} bytes` : ''}${m.sha256 ? ` sha256 ${m.sha256.slice(0, 12)}…` : ''}`);
  return `${view.mode}: ${items.length} material${items.length === 1 ? '' : 's'}${items.length ? ` (${items.join(', ')})` : ''}`;
}

export class MaterialDeliveries {
  constructor(private readonly deps: MaterialDeliveriesDeps) {}

  /** Undefined when the case has none for this system. */
  async prepare(system: SystemConfig, kase: Case): Promise<PreparedMaterials | undefined> {
    const indexes = materialsFor(system, kase);
    if (indexes.length === 0) return undefined;
    const mode = system.materials?.mode ?? 'reference';
    if (mode === 'reference') {
      const materials = indexes.map((i) => kase.materials[i]!).map((m) => ({ kind: m.kind, ...(m.size !== undefined ? { size: m.size } : {}), ...(m.sha256 ? { sha256: m.sha256.toLowerCase() } : {}) }));
      return { sealed: [], view: { mode, materials }, release: () => undefined };
    }
    let fetched: FetchedMaterial[];
    try {
      fetched = await this.deps.cache.fetch(kase, indexes, system.materials?.maxBytes === undefined ? undefined : byteCount(system.materials.maxBytes));
    } catch (err) {
      if (err instanceof MaterialAlteredError) {
        await this.deps.audit({ who: 'gateway', action: 'material.altered', target: `${system.id}.${kase.caseId}`, detail: err.message });
      }
      throw err;
    }
    const release = this.deps.cache.hold(fetched);
    return {
      handover: {
        mode,
        field: system.materials!.field,
        parts: fetched.map((f) => ({
          kind: f.kind,
          name: f.name,
          mime: f.mime,
          size: f.size,
          sha256: f.sha256,
          open: () => fs.createReadStream(f.file, { highWaterMark: 256 * 1024 }),
          ...(f.seal ? { seal: f.seal, sealHeader: sealHeader(f.seal) } : {}),
        })),
      },
      sealed: fetched.map((f) => ({ kind: f.kind, sha256: f.sha256, sm3: f.sm3 })),
      view: { mode, materials: fetched.map((f) => ({ kind: f.kind, size: f.size, sha256: f.sha256 })) },
      release,
    };
  }
}
