/**
 * Fault (f): a poison case — its applicant name carries "SIM-RETRY", so both systems it is routed to
 * refuse it as "busy, try again later" every time — goes first, and 500 ordinary cases follow.
 */
import { FaultRig, RETRY } from './support';

const CASES = 500;

describe('fault (f): when one case is refused as retryable every time', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then it ends dead after its attempts, and the cases behind it all settle', async () => {
    rig = await FaultRig.start({ name: 'f-poison', title: '(f) a poison case (always "busy, retry later") ahead of 500 ordinary ones' });
    const poison = rig.poisonCase('330800-FB-001');
    rig.note(`poison case ${String(poison.caseId)} ahead of ${CASES} others`);
    const { report } = await rig.finish(rig.submit([poison, ...rig.cases(CASES)]), CASES + 1);
    const poisoned = report.deliveries.filter((d) => d.caseId === poison.caseId);
    expect(poisoned.map((d) => [d.systemId, d.status, d.attempts])).toEqual([
      ['prov-beta', 'dead', RETRY.attempts],
      ['nat-delta', 'dead', RETRY.attempts],
    ]);
    const others = report.deliveries.filter((d) => d.caseId !== poison.caseId);
    expect(others.filter((d) => d.status === 'dead')).toEqual([]);
    expect(report.total.dead).toBe(2);
  });
});
