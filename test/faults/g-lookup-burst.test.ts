/**
 * Fault scenario (g): 50 concurrent window look-ups with one source slower than the deadline: every
 * answer within its deadline. It runs here, one scenario at a time, because what it measures is the
 * gateway's own event loop: the simulators run in a process of their own (dist/sim/main.js), and no
 * other suite shares the two cores meanwhile.
 */
import type { World } from '../../sim/shared-data-world';
import { query, submittedCase, world, ZHANG_SAN } from '../shared-data/support';

const ALL_FG = ['identity', 'household', 'marriage', 'realestate'];
let w: World;

beforeAll(async () => {
  w = await world({ separateProcess: true });
});
afterAll(async () => {
  await w?.stop();
});

it('50 concurrent queries with one slow source: every answer within its deadline', async () => {
  // A gateway that has answered once has its WSDLs loaded and its sockets open; the burst measures that.
  await query(w, { caseId: await submittedCase(w, '330800-FG-099'), purpose: '330800-FG-099', ...ZHANG_SAN, documents: ALL_FG });
  // Look-ups are for cases the gateway holds: submitted before the burst, which measures only the look-ups.
  const items = Array.from({ length: 50 }, (_, i) => `330800-FG-${100 + i}`);
  const cases = await Promise.all(items.map((item) => submittedCase(w, item)));
  await w.setFaults('city-real-estate-registration', { latencyMs: 5000 });
  const deadlineMs = 2500;
  const answers = await Promise.all(cases.map((caseId, i) => query(w, { caseId, purpose: items[i]!, ...ZHANG_SAN, documents: ALL_FG, deadlineMs })));
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.body.documents.map((d: { status: string }) => d.status)).toEqual(['found', 'found', 'found', 'timeout']);
  }
  // The deadline runs from each request's arrival and is kept by a timer; what the timer cannot help
  // is event-loop lag when 50 answers are sealed at once on a shared 2-core machine (the single slow
  // source of test/shared-data/query.test.ts is held to ±100 ms; here the bound allows the lag).
  const served = answers.map((a) => a.serverMs!);
  expect(Math.max(...served)).toBeLessThanOrEqual(deadlineMs + 500);
  expect(Math.min(...served)).toBeGreaterThanOrEqual(deadlineMs - 100); // the slow source was waited for, up to the deadline
  // Seen from the caller, a burst of 50 also waits for the gateway to read it (about 15 ms of CPU
  // per 4-kind query on this 2-core machine): bounded, and said in BENCHMARKS.md.
  expect(Math.max(...answers.map((a) => a.ms))).toBeLessThanOrEqual(deadlineMs + 1500);
});
