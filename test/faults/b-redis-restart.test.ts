/** Fault (b): Redis is stopped (SIGTERM, append-only file flushed) mid-load and started again a second later. */
import { FaultRig, sleep } from './support';

const CASES = 500;

describe('fault (b): when Redis is restarted while cases come in and go out', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('then intake answers 503 meanwhile, and every case accepted before, during and after ends in exactly one final state', async () => {
    rig = await FaultRig.start({ name: 'b-redis', title: '(b) Redis restarted mid-load (append-only file on)', simDefaults: { latencyMs: 50 } });
    const r = rig;
    let accepted = 0;
    const submitting = r.submit(r.cases(CASES), { onAccepted: (n) => (accepted = n) });

    await r.until('150 cases accepted and deliveries under way', () => accepted >= 150 && r.simAccepted() >= 50);
    await r.redis.stop();
    r.note(`redis stopped (SIGTERM) at ${accepted} cases accepted, ${r.simAccepted()} deliveries taken by the systems`);
    await sleep(1000);
    await r.redis.start();
    r.note(`redis started again on the same port and append-only file (${accepted} cases accepted so far)`);

    const { summary, report } = await r.finish(submitting, CASES);
    // The outage was felt by the intake platform, which sent those cases again.
    expect(summary.unavailable + summary.connectionErrors).toBeGreaterThan(0);
    expect(report.total.dead).toBe(0);
  });
});
