/**
 * A system made ready to answer look-ups: its compiled `lookup` expressions and an adapter of its
 * own. The adapter is the same code as for deliveries (protocol, charset, auth) but a separate
 * instance with the look-up's timeout and sockets, so a backlog of deliveries never holds up a
 * clerk at the window. Built once per config version, like delivery endpoints.
 */
import { createAdapter } from '../../adapters';
import type { Adapter, AdapterOptions } from '../../adapters/adapter';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import type { LookupConfig, SystemConfig } from '../config/schema';
import { replyLimit } from '../delivery/endpoints';
import { compileExpression, type CompiledExpression } from '../platform/expressions';

export interface LookupSource {
  system: SystemConfig;
  lookup: LookupConfig;
  adapter: Adapter;
  request: CompiledExpression;
  found: CompiledExpression;
  data: CompiledExpression;
  notFound?: CompiledExpression;
  error?: CompiledExpression;
}

/** How long a replaced config version's adapter stays open for the look-ups still using it. */
const RETIRE_AFTER_MS = 60_000;

export class LookupSources {
  private readonly cache = new WeakMap<SystemConfig, LookupSource>();
  private readonly latest = new Map<string, LookupSource>();
  private readonly open = new Set<LookupSource>();
  private readonly options: AdapterOptions;

  constructor(private readonly config: Pick<GatewayConfig, 'dir' | 'gateway'>) {
    this.options = { configDir: config.dir, maxReplyBytes: replyLimit(config.gateway.limits.maxReplyBytes) };
  }

  /** The system's look-up side; undefined when it answers no look-ups. */
  get(system: SystemConfig): LookupSource | undefined {
    const lookup = system.lookup;
    if (!lookup) return undefined;
    const cached = this.cache.get(system);
    if (cached) return cached;
    const budget = expressionBudget(this.config.gateway);
    const compile = (source: string) => compileExpression(source, budget);
    const source: LookupSource = {
      system,
      lookup,
      adapter: createAdapter({ ...system, timeoutMs: lookup.timeoutMs, concurrency: lookup.concurrency }, this.options),
      request: compile(lookup.request),
      found: compile(lookup.response.found),
      data: compile(lookup.response.data),
      ...(lookup.response.notFound ? { notFound: compile(lookup.response.notFound) } : {}),
      ...(lookup.response.error ? { error: compile(lookup.response.error) } : {}),
    };
    this.cache.set(system, source);
    this.open.add(source);
    const replaced = this.latest.get(system.id);
    this.latest.set(system.id, source);
    if (replaced) {
      setTimeout(() => {
        this.open.delete(replaced);
        void replaced.adapter.close?.();
      }, RETIRE_AFTER_MS).unref();
    }
    return source;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((s) => s.adapter.close?.()));
    this.open.clear();
  }
}
