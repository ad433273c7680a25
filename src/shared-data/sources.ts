/**
 * A system made ready to answer look-ups: its compiled `lookup` expressions and an adapter of its
 * own. The adapter is the same code as for deliveries (protocol, charset, auth) but a separate
 * instance with the look-up's timeout and sockets, so a backlog of deliveries never holds up a
 * clerk at the window. Built once per config version, like delivery endpoints.
 */
import { createAdapter } from '../../adapters';
import type { Adapter } from '../../adapters/adapter';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import type { LookupConfig, SystemConfig } from '../config/schema';
import { PerVersion } from '../config/per-version';
import { adapterOptions } from '../delivery/endpoints';
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

export class LookupSources {
  private readonly versions: PerVersion<LookupSource | undefined>;

  constructor(config: Pick<GatewayConfig, 'dir' | 'gateway'>) {
    const options = adapterOptions(config);
    const budget = expressionBudget(config.gateway);
    const compile = (source: string) => compileExpression(source, budget);
    this.versions = new PerVersion(
      (system) => {
        const lookup = system.lookup;
        if (!lookup) return undefined;
        return {
          system,
          lookup,
          adapter: createAdapter({ ...system, timeoutMs: lookup.timeoutMs, concurrency: lookup.concurrency }, options),
          request: compile(lookup.request),
          found: compile(lookup.response.found),
          data: compile(lookup.response.data),
          ...(lookup.response.notFound ? { notFound: compile(lookup.response.notFound) } : {}),
          ...(lookup.response.error ? { error: compile(lookup.response.error) } : {}),
        };
      },
      (source) => source?.adapter.close?.(),
    );
  }

  /** The system's look-up side; undefined when it answers no look-ups. */
  get(system: SystemConfig): LookupSource | undefined {
    return system.lookup ? this.versions.get(system) : undefined;
  }

  close(): Promise<void> {
    return this.versions.close();
  }
}
