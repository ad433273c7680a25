/**
 * Shared-data look-ups and seal operations in /metrics: after a few queries against the shipped
 * look-up sources (simulated over real REST, SOAP and XML), the counters equal what the test made
 * happen, per source system, kind and status; every found document's seal is counted, and so is
 * every verification, valid or not. No label holds a case id or an ID number.
 */
import type { World } from '../../sim/shared-data-world';
import { LI_SI, query, submittedCase, world, ZHANG_SAN } from '../shared-data/support';
import { labelValues, sample, scrape, type Family } from './prom';

let w: World;
let caseNo = 0;
const caseIds: string[] = [];
/** A submitted case of this item: look-ups are made for a case the gateway holds. */
const caseOf = (itemCode: string) => {
  const id = `QZ-SDM-${Date.now()}-${++caseNo}`;
  caseIds.push(id);
  return submittedCase(w, itemCode, id);
};
const FG = '330800-FG-001';

beforeAll(async () => {
  w = await world();
});
afterAll(async () => {
  await w?.stop();
});

/** How many source answers have a duration observed so far. */
const lookupDurations = async () => {
  const durations = (await w.gateway!.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'ow_shared_data_lookup_seconds');
  const values = (durations?.values ?? []) as Array<{ value: number; metricName?: string }>;
  return values.filter((v) => v.metricName === 'ow_shared_data_lookup_seconds_count').reduce((sum, v) => sum + v.value, 0);
};
const lookups = (m: Family[], systemId: string, kind: string, status: string) => sample(m, 'ow_shared_data_lookups_total', { systemId, kind, status });

test('look-ups are counted per source, kind and status; seals per operation and outcome', async () => {
  // A gateway that has answered once has its WSDLs loaded and its sockets open: a cold first look-up on
  // a busy machine can outlast a source's 2.5 s. Another person, so the cache holds nothing of 张三's.
  await query(w, { caseId: await caseOf(FG), purpose: FG, ...LI_SI, documents: ['identity', 'household'] });
  const before = await scrape(w.url);
  const durationsBefore = await lookupDurations();

  // 1. Found everywhere: identity is asked of two sources (both find it), household of one.
  const first = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['identity', 'household'] });
  expect(first.body.documents.map((d: { status: string }) => d.status)).toEqual(['found', 'found']);
  // 2. The same again: both kinds keep 10 minutes, so the cache answers and no source is asked.
  const second = await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['identity', 'household'] });
  expect(second.body.documents.map((d: { cached?: boolean }) => d.cached)).toEqual([true, true]);
  // 3. No marriage record for 李四.
  const third = await query(w, { caseId: await caseOf(FG), purpose: FG, ...LI_SI, documents: ['marriage'] });
  expect(third.body.documents[0].status).toBe('not_found');
  // 4. The real-estate registry down, the civil-affairs registry slower than the deadline.
  await w.setFaults('city-real-estate-registration', { down: true });
  await w.setFaults('city-civil-affairs', { latencyMs: 2000 });
  const fourth = await query(w, { caseId: await caseOf('330800-FG-702'), purpose: '330800-FG-702', ...LI_SI, documents: ['realestate', 'marriage'], deadlineMs: 800 });
  expect(fourth.body.documents.map((d: { status: string }) => d.status)).toEqual(['error', 'timeout']);
  await w.setFaults('city-real-estate-registration', { down: false });
  await w.setFaults('city-civil-affairs', { latencyMs: 0 });
  // 5. Refused: the purpose may not use marriage; nothing is asked.
  expect((await query(w, { caseId: await caseOf('330800-RS-001'), purpose: '330800-RS-001', ...ZHANG_SAN, documents: ['identity', 'marriage'] })).status).toBe(403);
  // 5b. Not a query: a kind nobody configured.
  expect((await query(w, { caseId: await caseOf(FG), purpose: FG, ...ZHANG_SAN, documents: ['horoscope'] })).status).toBe(400);

  // 6. One found document's seal verified as sent, then with a field changed.
  const doc = first.body.documents[1] as { seal: unknown; data: Record<string, unknown> };
  const verify = (payload: unknown) => fetch(`${w.url}/api/v1/seal/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seal: doc.seal, payload }) });
  expect(((await (await verify(doc.data)).json()) as { valid: boolean }).valid).toBe(true);
  expect(((await (await verify({ ...doc.data, headOfHousehold: '王二' })).json()) as { valid: boolean }).valid).toBe(false);

  const m = await scrape(w.url);
  // What this test made happen: the warm-up before `before` is not counted.
  const d = (name: string, labels?: Record<string, string>) => sample(m, name, labels) - sample(before, name, labels);
  const dl = (systemId: string, kind: string, status: string) => lookups(m, systemId, kind, status) - lookups(before, systemId, kind, status);
  expect(d('ow_shared_data_queries_total', { outcome: 'answered' })).toBe(4);
  expect(d('ow_shared_data_queries_total', { outcome: 'refused' })).toBe(1);
  expect(d('ow_shared_data_queries_total', { outcome: 'invalid' })).toBe(1);
  expect(d('ow_shared_data_queries_total', { outcome: 'failed' })).toBe(0);
  expect(dl('prov-public-security', 'identity', 'found')).toBe(1);
  expect(dl('nat-population', 'identity', 'found')).toBe(1);
  expect(dl('prov-public-security', 'household', 'found')).toBe(1);
  // The cache hit is the winner's: identity's first finder, whichever of the two it was.
  expect(d('ow_shared_data_lookups_total', { kind: 'identity', status: 'cached' })).toBe(1);
  expect(dl('prov-public-security', 'household', 'cached')).toBe(1);
  expect(dl('city-civil-affairs', 'marriage', 'not_found')).toBe(1);
  expect(dl('city-real-estate-registration', 'realestate', 'error')).toBe(1);
  expect(dl('city-civil-affairs', 'marriage', 'timeout')).toBe(1);
  // Nothing else was counted: 3 found + 2 cached + 1 not found + 1 error + 1 timeout; the refused query asked no one.
  expect(d('ow_shared_data_lookups_total')).toBe(8);
  expect(d('ow_shared_data_lookups_total', { kind: 'social-insurance' })).toBe(0);
  expect(labelValues(m)).not.toContain('horoscope');
  // A duration for every source answer, none for a cache hit.
  const durations = (await w.gateway!.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'ow_shared_data_lookup_seconds')!;
  const counts = (durations.values as Array<{ value: number; metricName?: string; labels: Record<string, string | number> }>).filter((v) => v.metricName === 'ow_shared_data_lookup_seconds_count');
  expect((await lookupDurations()) - durationsBefore).toBe(6);
  expect(counts.find((v) => v.labels.systemId === 'city-civil-affairs' && v.labels.status === 'timeout')?.value).toBe(1);

  // Seals: one per document found, from a source or the cache (sealed for the asking case), and the two verifications.
  expect(d('ow_seal_operations_total', { operation: 'sign', outcome: 'ok' })).toBe(4);
  expect(d('ow_seal_operations_total', { operation: 'sign', outcome: 'ok', alg: 'SM2-SM3' })).toBe(4);
  expect(d('ow_seal_operations_total', { operation: 'verify', outcome: 'ok' })).toBe(1);
  expect(d('ow_seal_operations_total', { operation: 'verify', outcome: 'invalid' })).toBe(1);

  for (const value of labelValues(m)) {
    for (const id of caseIds) expect(value).not.toContain(id);
    expect(value).not.toContain(ZHANG_SAN.idNumber);
    expect(value).not.toContain(LI_SI.idNumber);
    expect(value).not.toMatch(/\d{11,}/);
  }
}, 30_000);
