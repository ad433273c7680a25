/**
 * What is built once per configuration version of a system (its compiled mappings, an adapter with
 * its sockets): kept by the config object, which a new version replaces, and never per delivery.
 * A replaced version's value stays open a while for the work still using it, then is closed.
 */
import type { SystemConfig } from './schema';

/** How long a replaced version's value stays open for deliveries or look-ups still using it. */
const RETIRE_AFTER_MS = 60_000;

export class PerVersion<T> {
  private readonly cache = new WeakMap<SystemConfig, T>();
  private readonly latest = new Map<string, T>();
  private readonly open = new Set<T>();

  constructor(
    private readonly make: (system: SystemConfig) => T,
    private readonly release: (value: T) => Promise<void> | void,
  ) {}

  get(system: SystemConfig): T {
    const cached = this.cache.get(system);
    if (cached !== undefined) return cached;
    const value = this.make(system);
    this.cache.set(system, value);
    this.open.add(value);
    const replaced = this.latest.get(system.id);
    this.latest.set(system.id, value);
    if (replaced !== undefined) {
      setTimeout(() => {
        this.open.delete(replaced);
        void this.release(replaced);
      }, RETIRE_AFTER_MS).unref();
    }
    return value;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((value) => this.release(value)));
    this.open.clear();
  }
}
