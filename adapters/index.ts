/** Protocol → adapter, spelled out so that adding a protocol is one visible case. */
import type { SystemConfig } from '../src/config/schema';
import type { Adapter, AdapterOptions } from './adapter';
import { createRestAdapter } from './rest/rest.adapter';
import { createSoapAdapter } from './soap/soap.adapter';
import { createXmlAdapter } from './xml/xml.adapter';

export function createAdapter(system: SystemConfig, options: AdapterOptions): Adapter {
  switch (system.protocol) {
    case 'rest':
      return createRestAdapter(system, options);
    case 'soap':
      return createSoapAdapter(system, options);
    case 'xml':
      return createXmlAdapter(system, options);
  }
}
