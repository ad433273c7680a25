/**
 * A canonical case with every field filled in, on which configuration expressions are test-run
 * (start-up and admin PUT) before they may touch a real case. Invented data, never a real person.
 */
import type { Case } from '../cases/model';

export const SAMPLE_CASE: Case = {
  caseId: 'QZ-20260101-SAMPLE',
  itemCode: '330800-FG-001',
  itemName: '出具房改核查证明',
  channel: 'window',
  submittedAt: '2026-01-05T09:30:00+08:00',
  applicant: { kind: 'person', name: '样例', idType: 'ID_CARD', idNumber: '330802190001010000', phone: '13000000000', address: '衢州市柯城区样例路 1 号' },
  materials: [{ name: '身份证', kind: 'ID_CARD', uri: 'store://intake/sample/id-card.pdf', sha256: '0'.repeat(64), size: 1024, mime: 'application/pdf' }],
  form: {},
};
