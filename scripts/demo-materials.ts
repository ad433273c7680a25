/**
 * The demo's materials (材料零提交): one 不动产登记 case whose applicant handed in nothing on paper.
 * Its survey drawing (竣工测绘图, 8 MB) sits in the intake platform's material store (the
 * simulator's, /sim/materials/), its ID card and property certificate beside it. The case goes to
 * the city registry, which takes the documents inline (base64 in its GB18030 XML), and to the
 * province, which takes the drawing as an MTOM attachment; the screen shows what the case view says
 * of each material and of each hand-over, and what each simulated system checked on arrival.
 */
import type { CaseView } from '../src/cases/model';
import { handoverDetail } from '../src/materials/handover';
import { generatedSha256, sampleMaterial } from '../sim/materials';
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
  let view: CaseView | undefined;
  const deadline = Date.now() + 60_000;
  for (;;) {
    view = (await (await fetch(`${url}/api/v1/cases/${caseId}`, { headers })).json()) as CaseView;
    if (view.deliveries.every((d) => d.status !== 'queued' && d.status !== 'delivering') || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  process.stdout.write('  the case view\'s materials (never the URI, never the bytes):\n');
  for (const m of view.materials ?? []) {
    process.stdout.write(`    ${m.kind.padEnd(14)} ${m.name.padEnd(8, '　')} ${String(m.size ?? '?').padStart(8)} bytes  sha256 ${m.sha256 ? `${m.sha256.slice(0, 12)}…` : '(not given)'}  ${m.fetched ? 'fetched once' : 'not fetched (by reference)'}\n`);
  }
  process.stdout.write('  where each went, and how (each delivery\'s handover):\n');
  for (const d of view.deliveries) {
    process.stdout.write(`    ${d.systemId.padEnd(30)} ${d.status.padEnd(10)} ${d.handover ? handoverDetail(d.handover) : d.lastError ? `(${d.lastError})` : '(nothing handed over yet)'}\n`);
  }
  process.stdout.write('  what each system checked on arrival (its simulator):\n');
  for (const d of view.deliveries) {
    const received = sims.requests(d.systemId).filter((r) => r.idempotencyKey === `${caseId}:${d.systemId}` && r.materials);
    for (const m of received.at(-1)?.materials ?? []) {
      process.stdout.write(`    ${d.systemId.padEnd(30)} ${m.kind.padEnd(14)} ${String(m.size).padStart(8)} bytes via ${m.via}, sha256 ${m.sha256.slice(0, 12)}… matches what it said\n`);
    }
  }
}
