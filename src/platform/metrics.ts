/** Prometheus metrics, one registry per gateway instance so tests can run several side by side. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    cases: new Counter({ name: 'ow_cases_total', help: 'Cases received, by answer', labelNames: ['answer'], registers: [registry] }),
    deliveries: new Counter({
      name: 'ow_delivery_attempts_total',
      help: 'Delivery attempts by system and outcome (delivered, retry, rejected, dead)',
      labelNames: ['systemId', 'outcome'],
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: 'ow_delivery_seconds',
      help: 'Time a legacy system took to answer a delivery',
      labelNames: ['systemId'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
