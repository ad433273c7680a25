/**
 * Fault (a): two gateway processes share one Redis; one is killed with SIGKILL while deliveries are
 * in flight (the systems answer slowly, so there always are some), restarted a second later, and
 * killed and restarted once more later in the run. The other keeps going throughout.
 */
import { FaultRig, sleep } from './support';

const CASES = 500;

describe('fault (a): when a gateway process is killed with SIGKILL mid-delivery and restarted', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then the jobs it held are handed out again and every accepted delivery ends in exactly one final state', async () => {
    rig = await FaultRig.start({
      name: 'a-kill9',
      title: '(a) kill -9 of a gateway process mid-delivery (twice), then restart; two gateways on one Redis',
      gateways: 2,
      simDefaults: { latencyMs: 300 },
    });
    const r = rig;
    const victim = r.gateways[0]!;
    let accepted = 0;
    const submitting = r.submit(r.cases(CASES), { onAccepted: (n) => (accepted = n) });

    const killAndRestart = async (when: string) => {
      const pid = victim.pid;
      await victim.kill9();
      r.note(`kill -9 ${victim.name} (pid ${pid}) ${when}: ${accepted} cases accepted, ${r.simAccepted()} deliveries taken by the systems`);
      await sleep(1000);
      await victim.start();
      r.note(`${victim.name} restarted (pid ${victim.pid}, ready ${victim.lastStartMs} ms after spawn)`);
    };
    await r.until('150 cases accepted and deliveries under way', () => accepted >= 150 && r.simAccepted() >= 50);
    await killAndRestart('while cases are still coming in');
    const taken = r.simAccepted();
    await r.until('100 more deliveries taken by the systems', () => r.simAccepted() >= taken + 100, 120_000);
    await killAndRestart('mid-delivery');

    const { report } = await r.finish(submitting, CASES);
    // The kills did cut deliveries off mid-flight, and those were sent again (and dropped by key).
    expect(report.total.interrupted).toBeGreaterThan(0);
    expect(report.total.dead).toBe(0);
  });
});
