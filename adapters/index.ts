/** Protocol → adapter factory, spelled out so that adding a protocol is one visible line. */
import type { SystemConfig } from '../src/config/schema';
import type { AdapterFactory } from './adapter';
import { createRestAdapter } from './rest/rest.adapter';
import { createSoapAdapter } from './soap/soap.adapter';
import { createXmlAdapter } from './xml/xml.adapter';

const factories: Partial<Record<SystemConfig['protocol'], AdapterFactory>> = {
  rest: createRestAdapter,
  soap: createSoapAdapter,
  xml: createXmlAdapter,
};

export function adapterFactoryFor(protocol: SystemConfig['protocol']): AdapterFactory | undefined {
  return factories[protocol];
}
