/**
 * The demo's materials (材料零提交): one 不动产登记 case whose applicant handed in nothing on paper.
 * Its survey drawing (竣工测绘图, 8 MB) sits in the intake platform's material store (the
 * simulator's, /sim/materials/), its ID card and property certificate beside it. The case goes to
 * the city registry, which takes the documents inline (base64 in its GB18030 XML), and to the
 * province, which takes the drawing as an MTOM attachment; the screen shows what the case view says
 * of each material and of each hand-over, and what each simulated system checked on arrival.
 * Then a second case gets a look-up document as a material, by resubmission (showLookupMaterial).
 */
import type { CaseView, DeliveryView } from '../src/cases/model';
import { handoverDetail } from '../src/materials/handover';
import { parseSealHeader, type Seal } from '../src/seal';
import { generatedSha256, sampleMaterial } from '../sim/materials';
import { SAMPLE_PEOPLE } from '../sim/samples';
import type { Simulators } from '../sim/server';

const DRAWING_BYTES = 8 * 1024 * 1024;

export async function showMaterials(options: { url: string; intakeToken: string; sims: Simulators; runId: string }): Promise<void> {
  const { url, intakeToken, sims, runId } = options;
  const caseId = `QZ-${runId}-BDC-JGCH`;
  const drawingPath = `demo/${runId}/jgch.pdf`;
  // Generated, never held whole: the store streams it, the gateway streams it on.
  sims.materials.put(drawingPath, { size: DRAWING_BYTES, seed: caseId, mime: 'application/pdf' });
  const idCard = 'id/330802199001011234.pdf';
  const kase = {
    caseId,
    itemCode: '330800-BDC-001',
    itemName: '不动产首次登记（竣工测绘）',
    channel: 'window',
    submittedAt: new Date().toISOString(),
    applicant: { kind: 'person', name: '张三', idType: 'ID_CARD', idNumber: '330802199001011234', phone: '13800000000', address: '衢州市柯城区荷花街道' },
    materials: [
      { name: '竣工测绘图', kind: 'DRAWING', uri: `store://intake/${drawingPath}`, sha256: await generatedSha256(DRAWING_BYTES, caseId), size: DRAWING_BYTES, mime: 'application/pdf' },
      { name: '居民身份证', kind: 'ID_CARD', uri: `store://intake/${idCard}`, sha256: sampleMaterial(idCard).sha256 },
      { name: '房屋所有权证', kind: 'PROPERTY_CERT', uri: 'store://intake/doc/fczs-0001.pdf' },
    ],
    form: { djlx: '100', bdczl: '衢州市柯城区荷花三路12幢' },
  };
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${intakeToken}` };
  const res = await fetch(`${url}/api/v1/cases`, { method: 'POST', headers, body: JSON.stringify(kase) });
  process.stdout.write(`\nMaterials (材料零提交): case ${caseId}, ${kase.itemName}\n`);
  if (res.status !== 202 && res.status !== 200) {
    process.stdout.write(`  not accepted: HTTP ${res.status} ${await res.text()}\n`);
    return;
  }
  // Until every delivery has been answered (a flaky simulated system is retried meanwhile).
  showHandedOver(await caseWhen(url, headers, caseId, (d) => d.status !== 'queued' && d.status !== 'delivering'), sims);
}

/**
 * A look-up document as a material (数据跑路 meets 材料零提交): a 不动产转移登记 case is
 * submitted with the ID card only; both systems ask for more (补正: the simulators decide need_more
 * on the SIM-OUTCOME-NEED-MORE marker in the item name); the clerk fetches 张三's household record
 * for this case; the intake platform resubmits the case, the marker gone, with
 * `lookup://<queryId>/household` among its materials; the registry gets the record inline with the
 * look-up's own seal, which the demo then checks with the gateway's verifier against the very
 * bytes the registry received. The systems' new decisions are not waited for.
 */
export async function showLookupMaterial(options: { url: string; intakeToken: string; sims: Simulators; runId: string }): Promise<void> {
  const { url, intakeToken, sims, runId } = options;
  const person = SAMPLE_PEOPLE[0]!;
  const caseId = `QZ-${runId}-BDC-ZYDJ`;
  const idCard = `id/${person.idNumber}.pdf`;
  const itemName = '不动产转移登记';
  const kase = {
    caseId,
    itemCode: '330800-BDC-002',
    // The marker makes every simulated system answer need_more; the completed case leaves it out.
    itemName: `${itemName} SIM-OUTCOME-NEED-MORE`,
    channel: 'window',
    submittedAt: new Date().toISOString(),
    applicant: { kind: 'person', name: person.name, idType: 'ID_CARD', idNumber: person.idNumber, phone: '13800000000', address: '衢州市柯城区荷花街道' },
    materials: [
      { name: '居民身份证', kind: 'ID_CARD', uri: `store://intake/${idCard}`, sha256: sampleMaterial(idCard).sha256 },
      { name: '房屋所有权证', kind: 'PROPERTY_CERT', uri: 'store://intake/doc/fczs-0002.pdf' },
    ],
    form: { djlx: '200', bdczl: '衢州市柯城区荷花三路12幢2单元301室' },
  };
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${intakeToken}` };
  const write = (text: string) => void process.stdout.write(text);
  write(`\nA look-up document as a material (查询结果作材料): case ${caseId}, ${itemName}\n`);
  const first = await fetch(`${url}/api/v1/cases`, { method: 'POST', headers, body: JSON.stringify(kase) });
  write(`  POST /api/v1/cases  HTTP ${first.status}  (ID card and property certificate only)\n`);
  if (!first.ok) return void write(`  not accepted: ${await first.text()}\n`);

  const asked = await caseWhen(url, headers, caseId, (d) => d.status === 'completed' || d.status === 'rejected' || d.status === 'dead');
  for (const d of asked.deliveries) write(`    ${d.systemId.padEnd(30)} ${d.result?.outcome ?? d.status}${d.result?.message ? `: ${d.result.message}` : ''}\n`);
  if (!asked.deliveries.some((d) => d.result?.outcome === 'need_more')) return void write('  no system asked for more: nothing to complete\n');
  write('  补正 / need_more: the case\'s clock stops until the applicant completes it\n');

  // At the window: 张三's ID card fetches the household record, sealed for this case.
  const found = await fetch(`${url}/api/v1/shared-data/query`, {
    method: 'POST',
    headers: { ...headers, 'X-OW-Operator': encodeURIComponent('柯城区窗口 01') },
    body: JSON.stringify({ caseId, purpose: kase.itemCode, idNumber: person.idNumber, name: person.name, documents: ['household'] }),
  });
  const answer = (await found.json()) as { queryId?: string; documents?: Array<{ name: string; status: string; source: string; seal?: Seal }>; error?: { message: string } };
  const household = answer.documents?.[0];
  write(`  POST /api/v1/shared-data/query  household for ${caseId}: HTTP ${found.status}, queryId ${answer.queryId ?? '-'}\n`);
  if (!answer.queryId || household?.status !== 'found' || !household.seal) return void write(`  nothing to hand over: ${answer.error?.message ?? household?.status ?? ''}\n`);
  write(`    ${household.name} found at ${household.source}, sealed (${household.seal.alg}, key ${household.seal.keyId}, digest ${household.seal.digest.slice(0, 12)}…)\n`);

  // The completed case: the same caseId, the record among its materials, the marker gone.
  const uri = `lookup://${answer.queryId}/household`;
  const completed = { ...kase, itemName, materials: [...kase.materials, { name: household.name, kind: 'HOUSEHOLD', uri }] };
  const again = await fetch(`${url}/api/v1/cases`, { method: 'POST', headers, body: JSON.stringify(completed) });
  const resubmitted = (await again.json()) as { deliveries?: Array<{ systemId: string; status: string }>; error?: { message: string } };
  write(`  POST /api/v1/cases  resubmitted (补正) with ${uri}: HTTP ${again.status}${resubmitted.deliveries ? `, sent again to ${resubmitted.deliveries.filter((d) => d.status === 'queued').map((d) => d.systemId).join(', ')}` : `: ${resubmitted.error?.message ?? ''}`}\n`);
  if (again.status !== 202) return;

  // Until each system has acknowledged the completed case (its decision comes later, not waited for).
  const handedOver = await caseWhen(url, headers, caseId, (d) => d.status !== 'queued' && d.status !== 'delivering');
  showHandedOver(handedOver, sims);

  // The seal travelled with the bytes: checked against exactly what the registry received.
  for (const d of handedOver.deliveries) {
    const received = sims.requests(d.systemId).filter((r) => r.idempotencyKey?.startsWith(`${caseId}:${d.systemId}`) && r.materials?.some((m) => m.kind === 'HOUSEHOLD')).at(-1);
    const entry = received && inlineEntries(received.body).find((e) => e.kind === 'HOUSEHOLD');
    if (!entry || typeof entry.content !== 'string') continue;
    const seal = typeof entry.seal === 'string' ? parseSealHeader(entry.seal) : entry.seal;
    const verified = await fetch(`${url}/api/v1/seal/verify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seal, payloadBase64: entry.content }) });
    const verdict = (await verified.json()) as { valid?: boolean; reason?: string };
    write(`  POST /api/v1/seal/verify  the record as ${d.systemId} received it, with the seal beside it: ${verdict.valid ? 'valid (验章通过): the look-up\'s own record, unchanged' : `NOT valid: ${verdict.reason ?? `HTTP ${verified.status}`}`}\n`);
  }
}

/** The case view once every delivery satisfies `settled` (or after a minute: the demo never hangs). */
async function caseWhen(url: string, headers: Record<string, string>, caseId: string, settled: (d: DeliveryView) => boolean): Promise<CaseView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = (await (await fetch(`${url}/api/v1/cases/${caseId}`, { headers })).json()) as CaseView;
    if (view.deliveries.every(settled) || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The material entries of a simulated system's parsed body (`/fj`; one XML element reads as one object). */
function inlineEntries(body: unknown): Array<Record<string, unknown>> {
  const fj = body && typeof body === 'object' ? (body as Record<string, unknown>).fj : undefined;
  const list = Array.isArray(fj) ? fj : fj && typeof fj === 'object' ? [fj] : [];
  return list as Array<Record<string, unknown>>;
}

/** What the case view says of the materials and of each hand-over, and what each simulated system checked. */
function showHandedOver(view: CaseView, sims: Simulators): void {
  const write = (text: string) => void process.stdout.write(text);
  write('  the case view\'s materials (never the URI, never the bytes):\n');
  for (const m of view.materials ?? []) {
    write(`    ${m.kind.padEnd(14)} ${m.name.padEnd(8, '　')} ${String(m.size ?? '?').padStart(8)} bytes  sha256 ${m.sha256 ? `${m.sha256.slice(0, 12)}…` : '(not given)'}  ${m.fetched ? 'fetched once' : 'not fetched (by reference)'}\n`);
  }
  write('  where each went, and how (each delivery\'s handover):\n');
  for (const d of view.deliveries) {
    write(`    ${d.systemId.padEnd(30)} ${d.status.padEnd(10)} ${d.handover ? handoverDetail(d.handover) : d.lastError ? `(${d.lastError})` : d.status === 'queued' || d.status === 'delivering' ? '(nothing handed over yet)' : '(none of the kinds it takes)'}\n`);
  }
  write('  what each system checked on arrival (its simulator):\n');
  for (const d of view.deliveries) {
// A resubmission after 补正 has a key of its own (`…:2`): the last sending is what the case view shows.
    const received = sims.requests(d.systemId).filter((r) => r.idempotencyKey?.startsWith(`${view.caseId}:${d.systemId}`) && r.materials);
    for (const m of received.at(-1)?.materials ?? []) {
      write(`    ${d.systemId.padEnd(30)} ${m.kind.padEnd(14)} ${String(m.size).padStart(8)} bytes via ${m.via}, sha256 ${m.sha256.slice(0, 12)}… matches what it said${m.sealed ? ', with its seal' : ''}\n`);
    }
  }
}
