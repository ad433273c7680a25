/** Fault (e): 20 % random HTTP 500s on three systems, for the whole run. */
import { FaultRig } from './support';

const CASES = 500;
const FLAKY = ['prov-beta', 'nat-delta', 'city-epsilon'];

describe('fault (e): when three systems answer 20 % of requests with HTTP 500', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then every accepted delivery is retried to exactly one final state and none is lost', async () => {
    rig = await FaultRig.start({ name: 'e-500s', title: `(e) 20 % random HTTP 500s on ${FLAKY.join(', ')}` });
    for (const id of FLAKY) rig.sims.setFaults(id, { failureRate: 0.2 });
    rig.note(`failureRate 0.2 on ${FLAKY.join(', ')}`);

    const { report } = await rig.finish(rig.submit(rig.cases(CASES)), CASES);
    for (const row of report.rows.filter((x) => FLAKY.includes(x.systemId))) expect(row.simFailed).toBeGreaterThan(0);
    expect(report.total.dead).toBe(0);
  });
});
