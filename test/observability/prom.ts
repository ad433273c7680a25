/** Reads /metrics with a real Prometheus text-format parser, and looks samples up by labels. */
import type { Registry } from 'prom-client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

export async function scrape(url: string): Promise<Family[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parsePrometheusTextFormat(await res.text()) as Family[];
}

/** The sum of the samples of `name` whose labels include `labels` (a histogram: its count). */
export function sample(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
}

/** Every label value of every sample, for the "no case id, no ID number" check. */
export function labelValues(families: Family[]): string[] {
  return families.flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
}

/**
 * A histogram's observation count, from prom-client's registry API: parse-prometheus-text-format
 * 1.1.1 folds the series of a labelled histogram into one and drops its labels, so it cannot say.
 */
export async function histogramCount(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
  return values
    .filter((v) => v.metricName === `${name}_count` && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
