/**
 * The backlog gauges the mixed-load test does not reach: a callback outbox the intake platform
 * refuses (ow_callback_backlog, then 0 once it answers), a result still being polled for
 * (ow_poll_backlog, then the polled result in ow_results_total{source="poll"}), and a system outside
 * its maintenance window (ow_window_open 0, its case waiting).
 */
import { DateTime } from 'luxon';
import { legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, eventually, writeConfig, type LegacyServer } from '../support/harness';
import type { RunningGateway } from '../../src/gateway';
import { sample, scrape } from './prom';

type Families = Awaited<ReturnType<typeof scrape>>;
/** Whether a scrape has a sample of `name` for the system at all (sample() reads a missing one as 0). */
const has = (m: Families, name: string): boolean => m.some((f) => f.name === name && f.metrics.some((x) => x.labels?.systemId === 'g-closed'));
const exporting = (m: Families): boolean => has(m, 'ow_queue_jobs');

let legacy: LegacyServer, intake: LegacyServer, gateway: RunningGateway;
let decided = false;
let intakeAnswers = 503;

beforeAll(async () => {
  legacy = await legacyServer((req, _n, res) => {
    if (req.url.startsWith('/results/')) return replyJson(res, 200, decided ? { code: '0', data: { status: 'DONE', jg: '1' } } : { code: '0', data: { status: 'PENDING' } });
    replyJson(res, 200, { code: '0', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } });
  });
  intake = await legacyServer((_req, _n, res) => replyJson(res, intakeAnswers, {}));
  // Closed all day yesterday, today and tomorrow in its own time zone: whatever the clock says.
  const today = DateTime.now().setZone('Asia/Shanghai');
  const closed = [-1, 0, 1].map((d) => ({ date: today.plus({ days: d }).toISODate()!, open: false }));
  const dir = writeConfig(
    [
      restSystem('g-poll', `${legacy.url}/cases`, {
        result: { mode: 'poll', map: '{"outcome": data.jg = "1" ? "approved" : "rejected"}', poll: { endpoint: `${legacy.url}/results/{receiptNo}`, intervalMs: 100, until: 'data.status = "DONE"', maxAgeMs: 600_000 } },
      }),
      restSystem('g-closed', `${legacy.url}/cases`, { window: { timezone: 'Asia/Shanghai', days: [1, 2, 3, 4, 5, 6, 7], hours: ['00:00-24:00'], exceptions: closed } }),
    ],
    { routes: [{ itemCode: 'POLL-*', targets: ['g-poll'] }, { itemCode: 'CLOSED-*', targets: ['g-closed'] }], unrouted: 'reject' },
    { intake: { callbackUrl: `${intake.url}/callbacks`, callbackSecret: 'cb-secret' } },
  );
  gateway = await startTestGateway(dir, { options: { backlogCacheMs: 0 } });
});

afterAll(async () => {
  await gateway?.stop();
  await legacy?.close();
  await intake?.close();
});

test('callback backlog, poll backlog and a closed window follow what happens; the polled result is counted', async () => {
  expect((await submit(gateway, sampleCase({ itemCode: 'POLL-001' }))).status).toBe(202);
  expect((await submit(gateway, sampleCase({ itemCode: 'CLOSED-001' }))).status).toBe(202);

  // Delivered, its result pending, and the intake platform refusing the callback.
  const held = await eventually(async () => {
    const m = await scrape(gateway.url);
    expect(sample(m, 'ow_delivery_attempts_total', { systemId: 'g-poll', outcome: 'delivered' })).toBe(1);
    expect(sample(m, 'ow_poll_backlog')).toBe(1);
    expect(sample(m, 'ow_callback_backlog')).toBe(1);
    expect(sample(m, 'ow_callbacks_total', { systemId: 'g-poll', outcome: 'refused' })).toBeGreaterThanOrEqual(1);
    return m;
  }, 15_000);
  expect(sample(held, 'ow_window_open', { systemId: 'g-closed' })).toBe(0);
  expect(sample(held, 'ow_window_open', { systemId: 'g-poll' })).toBe(1);
  expect(sample(held, 'ow_delivery_attempts_total', { systemId: 'g-closed' })).toBe(0);
  expect(sample(held, 'ow_queue_jobs', { systemId: 'g-closed' })).toBe(1);

  // The system decides: the next poll records it, and nothing is polled for any more.
  decided = true;
  await eventually(async () => {
    const m = await scrape(gateway.url);
    expect(sample(m, 'ow_results_total', { systemId: 'g-poll', source: 'poll', outcome: 'recorded' })).toBe(1);
    expect(sample(m, 'ow_poll_backlog')).toBe(0);
  }, 15_000);

  // The intake platform answers again: the outbox drains, both events delivered once each.
  intakeAnswers = 200;
  await eventually(async () => {
    const m = await scrape(gateway.url);
    expect(sample(m, 'ow_callback_backlog')).toBe(0);
    expect(sample(m, 'ow_callbacks_total', { systemId: 'g-poll', event: 'delivery.delivered', outcome: 'delivered' })).toBe(1);
    expect(sample(m, 'ow_callbacks_total', { systemId: 'g-poll', event: 'delivery.completed', outcome: 'delivered' })).toBe(1);
  }, 15_000);
  // The closed system's case still waits for its window.
  expect(sample(await scrape(gateway.url), 'ow_window_open', { systemId: 'g-closed' })).toBe(0);
}, 60_000);

test('with two api processes on one Redis, one at a time exports the backlog, and the other takes over when it stops', async () => {
  const dir = writeConfig([restSystem('g-closed', `${legacy.url}/cases`)], { routes: [{ itemCode: '*', targets: ['g-closed'] }], unrouted: 'reject' });
  const keyPrefix = `ow-lease-${process.pid}-${Date.now()}`;
  const options = { backlogCacheMs: 0, backlogLeaseMs: 1000 };
  const first = await startTestGateway(dir, { keyPrefix, options });
  const second = await startTestGateway(dir, { keyPrefix, options });
  const stopped = new Set<RunningGateway>();
  try {
    await first.queues.queue('g-closed').pause();
    const exporters = async () => [exporting(await scrape(first.url)), exporting(await scrape(second.url))];
    const [a, b] = await exporters();
    expect(Number(a) + Number(b)).toBe(1);
    // The one not exporting says nothing per system and 0 for the totals: sums over both stay right.
    const quiet = a ? second : first;
    const loud = a ? first : second;
    expect(has(await scrape(quiet.url), 'ow_system_paused')).toBe(false);
    expect(sample(await scrape(loud.url), 'ow_system_paused', { systemId: 'g-closed' })).toBe(1);
    expect(sample(await scrape(quiet.url), 'ow_callback_backlog')).toBe(0);

    await loud.stop();
    stopped.add(loud);
    await eventually(async () => expect(exporting(await scrape(quiet.url))).toBe(true), 10_000);
    expect(sample(await scrape(quiet.url), 'ow_system_paused', { systemId: 'g-closed' })).toBe(1);
  } finally {
    for (const g of [first, second]) if (!stopped.has(g)) await g.stop();
  }
}, 60_000);
