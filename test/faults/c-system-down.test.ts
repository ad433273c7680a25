/** Fault (c): one system drops every connection for three seconds, then answers again. */
import { FaultRig, sleep } from './support';

const CASES = 500;
const DOWN = 'nat-delta';

describe('fault (c): when one system is down for a while and comes back', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then its deliveries wait and go out once it is back, and the other systems are not held up', async () => {
    rig = await FaultRig.start({ name: 'c-down', title: `(c) ${DOWN} down (connections cut) for 3 s, then back` });
    const r = rig;
    let accepted = 0;
    const submitting = r.submit(r.cases(CASES), { onAccepted: (n) => (accepted = n) });

    await r.until('150 cases accepted', () => accepted >= 150);
    r.sims.setFaults(DOWN, { down: true });
    r.note(`${DOWN} down at ${accepted} cases accepted`);
    await sleep(3000);
    r.sims.setFaults(DOWN, { down: false });
    r.note(`${DOWN} back at ${accepted} cases accepted`);

    const { report } = await r.finish(submitting, CASES);
    const down = report.rows.find((row) => row.systemId === DOWN)!;
    expect(down.simFailed).toBeGreaterThan(0);
    expect(report.total.dead).toBe(0);
  });
});
