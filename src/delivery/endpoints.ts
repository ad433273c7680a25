/**
 * A configured system made ready to deliver to: its compiled mappings and its adapter. Built once
 * per config version (keyed by the config object, which a reload replaces) and never per delivery.
 */
import bytes from 'bytes';
import { createAdapter } from '../../adapters';
import type { Adapter, AdapterOptions } from '../../adapters/adapter';
import type { GatewayConfig } from '../config/loader';
import { expressionBudget } from '../config/loader';
import { PerVersion } from '../config/per-version';
import type { SystemConfig } from '../config/schema';
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

/** What every adapter of this configuration is made with (deliveries, look-ups, dry runs). */
export function adapterOptions(config: Pick<GatewayConfig, 'dir' | 'gateway'>): AdapterOptions {
  return { configDir: config.dir, maxReplyBytes: replyLimit(config.gateway.limits.maxReplyBytes), egress: config.gateway.egress };
}

export class Endpoints {
  private readonly versions: PerVersion<Endpoint>;

  constructor(config: Pick<GatewayConfig, 'dir' | 'gateway'>) {
    const budget = expressionBudget(config.gateway);
    const options = adapterOptions(config);
    this.versions = new PerVersion(
      (system) => ({ system, mappings: new SystemMappings(system, budget), adapter: createAdapter(system, options) }),
      (endpoint) => endpoint.adapter.close?.(),
    );
  }

  get(system: SystemConfig): Endpoint {
    return this.versions.get(system);
  }

  close(): Promise<void> {
    return this.versions.close();
  }
}
