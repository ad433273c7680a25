/**
 * A configured system made ready to deliver to: its compiled mappings and its adapter. Built once
 * per config version (keyed by the config object, which a reload replaces) and never per delivery.
 */
import { adapterFactoryFor } from '../../adapters';
import type { Adapter } from '../../adapters/adapter';
import type { SystemConfig } from '../config/schema';
import { SystemMappings } from './mapping';

export interface Endpoint {
  system: SystemConfig;
  mappings: SystemMappings;
  adapter: Adapter;
}

/** How long a replaced config version's adapter stays open for the deliveries still using it. */
const RETIRE_AFTER_MS = 60_000;

export class Endpoints {
  private readonly cache = new WeakMap<SystemConfig, Endpoint>();
  private readonly open = new Set<Endpoint>();
  private readonly latest = new Map<string, Endpoint>();

  constructor(private readonly configDir: string) {}

  get(system: SystemConfig): Endpoint {
    const cached = this.cache.get(system);
    if (cached) return cached;
    const factory = adapterFactoryFor(system.protocol);
    if (!factory) throw new Error(`no adapter for protocol "${system.protocol}" (system ${system.id})`);
    const endpoint: Endpoint = { system, mappings: new SystemMappings(system), adapter: factory(system, { configDir: this.configDir }) };
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
