/**
 * A configured system made ready to deliver to: its compiled mappings and its adapter. Built once
 * per config version (keyed by the config object, which a reload replaces) and never per delivery.
 */
import bytes from 'bytes';
import { createAdapter } from '../../adapters';
import type { Adapter, AdapterOptions } from '../../adapters/adapter';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import type { SystemConfig } from '../config/schema';
import type { ExpressionBudget } from '../platform/expressions';
import { SystemMappings } from './mapping';

export interface Endpoint {
  system: SystemConfig;
  mappings: SystemMappings;
  adapter: Adapter;
}

/** `limits.maxReplyBytes` in bytes ("4mb" or a number). */
export function replyLimit(size: string | number): number {
  return typeof size === 'number' ? size : (bytes.parse(size) ?? 4 * 1024 * 1024);
}

/** How long a replaced config version's adapter stays open for the deliveries still using it. */
const RETIRE_AFTER_MS = 60_000;

export class Endpoints {
  private readonly cache = new WeakMap<SystemConfig, Endpoint>();
  private readonly open = new Set<Endpoint>();
  private readonly latest = new Map<string, Endpoint>();

  private readonly budget: ExpressionBudget;
  private readonly options: AdapterOptions;

  constructor(config: Pick<GatewayConfig, 'dir' | 'gateway'>) {
    this.budget = expressionBudget(config.gateway);
    this.options = { configDir: config.dir, maxReplyBytes: replyLimit(config.gateway.limits.maxReplyBytes) };
  }

  get(system: SystemConfig): Endpoint {
    const cached = this.cache.get(system);
    if (cached) return cached;
    const endpoint: Endpoint = { system, mappings: new SystemMappings(system, this.budget), adapter: createAdapter(system, this.options) };
    this.cache.set(system, endpoint);
    this.open.add(endpoint);
    const replaced = this.latest.get(system.id);
    this.latest.set(system.id, endpoint);
    if (replaced) this.retire(replaced);
    return endpoint;
  }

  private retire(endpoint: Endpoint): void {
    setTimeout(() => {
      this.open.delete(endpoint);
      void endpoint.adapter.close?.();
    }, RETIRE_AFTER_MS).unref();
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((e) => e.adapter.close?.()));
    this.open.clear();
  }
}
