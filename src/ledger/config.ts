/** gateway.yaml `retention`: how long finished cases stay hot, and in the ledger. */
import { z } from 'zod';

/** A span such as 500ms, 30s, 10m, 12h or 7d. */
export const durationSchema = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 10m, 12h or 7d');

export const RETENTION_DEFAULTS = { hot: '7d', ledger: '180d', sweepEvery: '1m' } as const;

export const retentionSchema = z.strictObject({
  /** How long a finished case stays in Redis after it is final (then the ledger answers for it). */
  hot: durationSchema.default(RETENTION_DEFAULTS.hot),
  /** How long the ledger keeps a case and an audit entry: at least 180 days by law (网络安全法 §21). */
  ledger: durationSchema.default(RETENTION_DEFAULTS.ledger),
  /** How often the sweep (a BullMQ job scheduler, shared by every process) moves and purges. */
  sweepEvery: durationSchema.default(RETENTION_DEFAULTS.sweepEvery),
});
export type Retention = z.infer<typeof retentionSchema>;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(span: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(span);
  if (!match) throw new Error(`not a duration: ${span}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
