/**
 * The demo's window look-up: the clerk reads 张三's ID card for a 房改核查 case, the
 * intake platform submits the case and asks the gateway for four documents for it, and the demo
 * prints each one's status, time and watermark, then checks a seal with the seal room's verifier.
 */
import type { Seal, Sealer } from '../src/seal';
import { SAMPLE_PEOPLE, samplePersonCase } from '../sim/samples';

interface Shown {
  kind: string;
  name: string;
  status: string;
  source: string;
  ms: number;
  watermark?: string;
  seal?: Seal;
  data?: unknown;
  error?: string;
}

export async function windowLookup(options: { url: string; intakeToken: string; sealer: Sealer; write?: (text: string) => void }): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const person = SAMPLE_PEOPLE[0]!;
  const query = { caseId: `QZ-WINDOW-${Date.now()}`, purpose: '330800-FG-001', idNumber: person.idNumber, name: person.name, documents: ['identity', 'household', 'marriage', 'realestate'] };
  write(`\nWindow look-up (数据跑路): the clerk reads ${person.name}'s ID card for 出具房改核查证明 (${query.purpose})\n`);
  // A look-up is for a case the gateway holds, its item the purpose: the case goes in first.
  const kase = samplePersonCase({ caseId: query.caseId, itemCode: query.purpose, submittedAt: new Date().toISOString() });
  const submitted = await fetch(`${options.url}/api/v1/cases`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.intakeToken}` }, body: JSON.stringify(kase) });
  await submitted.arrayBuffer();
  write(`  POST /api/v1/cases  ${query.caseId}: HTTP ${submitted.status}\n`);
  write(`  POST /api/v1/shared-data/query  documents: ${query.documents.join(', ')}\n`);
  const started = Date.now();
  const res = await fetch(`${options.url}/api/v1/shared-data/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.intakeToken}`, 'X-OW-Operator': encodeURIComponent('柯城区窗口 01') },
    body: JSON.stringify(query),
  });
  const answer = (await res.json()) as { documents?: Shown[]; error?: { message: string } };
  if (!res.ok || !answer.documents) {
    write(`  the gateway answered HTTP ${res.status}: ${answer.error?.message ?? ''}\n`);
    return;
  }
  write(`  answered in ${Date.now() - started} ms\n`);
  for (const doc of answer.documents) {
    write(`  ${doc.name.padEnd(8, '　')} ${doc.status.padEnd(9)} ${String(doc.ms).padStart(5)} ms  from ${doc.source}${doc.error ? `: ${doc.error}` : ''}\n`);
  }
  const sealed = answer.documents.find((d) => d.seal && d.watermark);
  if (!sealed?.seal) return;
  write(`  watermark: ${sealed.watermark}\n`);
  const verified = options.sealer.verify({ seal: sealed.seal, payload: sealed.data });
  write(`  seal of ${sealed.name} (${sealed.seal.alg}, key ${sealed.seal.keyId}): ${verified.valid ? 'verified' : `NOT valid: ${verified.reason ?? ''}`}\n`);
}
