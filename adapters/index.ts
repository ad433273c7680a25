/** Protocol → adapter factory, spelled out so that adding a protocol is one visible line. */
import type { SystemConfig } from '../src/config/schema';
import type { AdapterFactory } from './adapter';
import { createRestAdapter } from './rest/rest.adapter';

const factories: Partial<Record<SystemConfig['protocol'], AdapterFactory>> = {
  rest: createRestAdapter,
};

export function adapterFactoryFor(protocol: SystemConfig['protocol']): AdapterFactory | undefined {
  return factories[protocol];
}
