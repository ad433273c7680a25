/**
 * Fault (d): one system answers later than its timeout for a while. It has taken each case before
 * the gateway gives up waiting, so the retries are redeliveries the system drops by Idempotency-Key.
 */
import { FaultRig, TIMEOUT_MS, sleep } from './support';

const CASES = 500;
const SLOW = 'prov-beta';
const SLOW_MS = TIMEOUT_MS * 2 + 500;

describe('fault (d): when one system is slower than its timeout for a while', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then the timed-out attempts are retried, the system drops the redeliveries by key, and each case is delivered once', async () => {
    rig = await FaultRig.start({ name: 'd-slow', title: `(d) ${SLOW} answers after ${SLOW_MS} ms (timeout ${TIMEOUT_MS} ms) for 4 s, then normally` });
    const r = rig;
    // Its decisions come late, so a timed-out attempt is retried (a redelivery), not overtaken by its result.
    r.sims.setFaults(SLOW, { decisionDelayMs: 15_000 });
    let accepted = 0;
    const submitting = r.submit(r.cases(CASES), { onAccepted: (n) => (accepted = n) });

    await r.until('150 cases accepted', () => accepted >= 150);
    r.sims.setFaults(SLOW, { latencyMs: SLOW_MS });
    r.note(`${SLOW} latency ${SLOW_MS} ms at ${accepted} cases accepted`);
    await sleep(4000);
    r.sims.setFaults(SLOW, { latencyMs: 20 });
    r.note(`${SLOW} latency back to 20 ms at ${accepted} cases accepted`);

    const { report } = await r.finish(submitting, CASES);
    const slow = report.rows.find((row) => row.systemId === SLOW)!;
    expect(slow.timeouts).toBeGreaterThan(0);
    expect(slow.simDuplicates).toBeGreaterThan(0);
    expect(report.total.dead).toBe(0);
  });
});
