/**
 * The console's 报表 Reports tab in a real browser (Debian's Chromium driven by playwright-core)
 * against a gateway with an item catalogue (a 承诺件, a 即办件, and an item without a time limit):
 * after a few cases submitted and some decided (two 即办件 late, one left open past its limit, the
 * gateway's clock moved on 3 hours for them), a viewer opens the tab and sees, for the last 30
 * days, a table whose every figure is the API's (rates as percentages of the completed cases), a
 * chart with one bar per row for the promised limit (and one for the legal) whose label carries the
 * row's rate, and a CSV link (a Blob URL, fetched with the token) whose text is the API's CSV; the
 * grouping changes the rows.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, pushResult, sampleCase, startTestGateway, submit, VIEWER_TOKEN } from '../support/harness';
import { clockWorld, RESULT_TOKEN, TestClock, type ClockWorld } from '../timelimits/support';
import { browserTest, CHROMIUM, CHROMIUM_ARGS, signIn } from './browser';

jest.setTimeout(90_000);

const withBrowser = browserTest('console reports');

const FG = '330800-FG-101'; // 承诺件: promised 5, legal 20 working days
const JB = '330800-JB-001'; // 即办件: promised in 2 hours
const XX = '330000-XX-001'; // no time limit
const RUN = Date.now().toString(36);

const APPROVED = { jg: '1', yj: '准予' };
/** name → item, channel, the result pushed at once, and the one pushed 3 hours later (neither: the case stays open). */
const CASES: Record<string, { item: string; channel: string; result?: Record<string, string>; late?: Record<string, string> }> = {
  F1: { item: FG, channel: 'window', result: APPROVED },
  F2: { item: FG, channel: 'web', result: APPROVED },
  F3: { item: FG, channel: 'web', result: { jg: '2', yj: '补充材料' } }, // waits for the applicant: not completed
  J1: { item: JB, channel: 'mobile', result: APPROVED },
  J2: { item: JB, channel: 'mobile', late: APPROVED }, // past its 2 hours
  J3: { item: JB, channel: 'window', late: APPROVED },
  J4: { item: JB, channel: 'mobile' }, // open past its 2 hours: overdue
  X1: { item: XX, channel: 'self-service', result: { jg: '0', yj: '不予许可' } },
};

interface Row {
  key: string;
  cases: number;
  completed: number;
  onTimePromised: number;
  onTimeLegal: number;
  medianWorkingDays: number | null;
  p90WorkingDays: number | null;
  overdueOpen: number;
  stoppedNeedMore: number;
  stoppedSpecial: number;
  channels: Record<string, number>;
  promisedCut: number | null;
}

/** As the table should show a share: one decimal and '%', '—' with nothing to share (worked out here, not by the console's code). */
const pct = (part: number, whole: number): string => (whole > 0 ? `${((part * 100) / whole).toFixed(1)}%` : '—');
const orDash = (n: number | null): string => (n === null ? '—' : String(n));
/** An on-time rate: none for a row whose completed cases had no time limit (no handling days either). */
const rate = (r: Row, onTime: number): string => (r.medianWorkingDays === null ? '—' : pct(onTime, r.completed));

/** The cells of a row as the table should show them, by data-figure. */
function expectedCells(r: Row): Record<string, string> {
  return {
    cases: String(r.cases),
    completed: String(r.completed),
    onTimePromised: rate(r, r.onTimePromised),
    onTimeLegal: rate(r, r.onTimeLegal),
    medianWorkingDays: orDash(r.medianWorkingDays),
    p90WorkingDays: orDash(r.p90WorkingDays),
    overdueOpen: String(r.overdueOpen),
    stoppedNeedMore: String(r.stoppedNeedMore),
    stoppedSpecial: String(r.stoppedSpecial),
    channel1: String(r.channels['1'] ?? 0),
    channel2: String(r.channels['2'] ?? 0),
    channel3: String(r.channels['3'] ?? 0),
    channel9: String(r.channels['9'] ?? 0),
    promisedCut: r.promisedCut === null ? '—' : pct(r.promisedCut, 1),
  };
}

const shanghaiDay = (at: Date): string => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

describe('the console reports tab (报表)', () => {
  let world: ClockWorld;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  const ids: Record<string, string> = {};
  // The gateway's clock: today, then 3 hours on for the late results (the browser's own clock is today's).
  const clock = new TestClock(new Date());

  const api = async (query: string, accept = 'application/json') => {
    const res = await fetch(`${gateway.url}/api/v1/reports/timeliness?${query}`, { headers: { Authorization: `Bearer ${VIEWER_TOKEN}`, Accept: accept } });
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    world = await clockWorld();
    gateway = await startTestGateway(world.dir, { now: clock.now, options: { timeLimitTickMs: 3_600_000 } });
    for (const [name, { item, channel }] of Object.entries(CASES)) {
      const c = sampleCase({ itemCode: item, channel, caseId: `QZ-REP-${RUN}-${name}` });
      ids[name] = c.caseId as string;
      expect((await submit(gateway, c)).status).toBe(202);
    }
    await eventually(async () => {
      for (const id of Object.values(ids)) expect((await caseView(gateway, id)).body.deliveries[0].status).toBe('delivered');
    }, 30_000);
    const push = async (name: string, result: Record<string, string>) => expect((await pushResult(gateway, 'city-housing-reform', { ywh: ids[name], ...result }, RESULT_TOKEN)).status).toBe(200);
    for (const [name, { result }] of Object.entries(CASES)) if (result) await push(name, result);
    clock.set(new Date(clock.now().getTime() + 3 * 3_600_000).toISOString());
    for (const [name, { late }] of Object.entries(CASES)) if (late) await push(name, late);
    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await world?.close();
  });

  async function openSignedIn(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      // A CSP refusal (an inline style, say) is reported on the console.
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) pageErrors.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(`${gateway.url}/`) && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) pageErrors.push(`off origin: ${req.url()}`);
    });
    await page.goto(`${gateway.url}/console`);
    await signIn(page, VIEWER_TOKEN, '只读 赵六');
    await page.locator('#who-role').filter({ hasText: '只读' }).waitFor();
    return page;
  }

  /** The table's cells by row key and data-figure. */
  async function tableCells(page: Page): Promise<Record<string, Record<string, string>>> {
    return page.locator('#reports-table tbody tr').evaluateAll((trs) =>
      Object.fromEntries(
        trs.map((tr) => [tr.getAttribute('data-key'), Object.fromEntries([...tr.querySelectorAll('td[data-figure]')].map((td) => [td.getAttribute('data-figure'), (td.textContent ?? '').trim()]))]),
      ),
    );
  }

  /** Per row of the chart (by key): the rate and label of its promised bar and of its legal bar. */
  async function chartBars(page: Page): Promise<Array<{ key: string | null; promised: string[]; legal: string[] }>> {
    return page.locator('#reports-chart g.chart-row').evaluateAll((rows) =>
      rows.map((row) => {
        const bars = (kind: string) => [...row.querySelectorAll(`g.bar.${kind}`)].map((g) => `${g.getAttribute('data-rate')}|${g.querySelector('title')?.textContent ?? ''}`);
        return { key: row.getAttribute('data-key'), promised: bars('promised'), legal: bars('legal') };
      }),
    );
  }

  withBrowser('shows the last 30 days by item: the API’s figures in the table, one bar per row with its rate, and the API’s CSV', async () => {
    const page = await openSignedIn();
    const asked = page.waitForRequest((req) => req.url().includes('/api/v1/reports/timeliness?') && !req.url().includes('format=csv'));
    await page.click('#tab-reports');
    const query = new URL((await asked).url()).searchParams;
    const today = new Date();
    expect({ from: query.get('from'), to: query.get('to'), groupBy: query.get('groupBy') }).toEqual({ from: shanghaiDay(new Date(today.getTime() - 30 * 86_400_000)), to: shanghaiDay(today), groupBy: 'item' });
    await page.locator(`#reports-table tr[data-key="${FG}"]`).waitFor();

    const answer = JSON.parse(await api(query.toString())) as { rows: Row[] };
    expect(answer.rows.map((r) => r.key).sort()).toEqual([FG, JB, XX].sort());
    // The fixture shows in the answer (so the table below is compared with figures that say something).
    const fg = answer.rows.find((r) => r.key === FG)!;
    expect({ cases: fg.cases, completed: fg.completed, stoppedNeedMore: fg.stoppedNeedMore, channels: fg.channels, promisedCut: fg.promisedCut }).toEqual({ cases: 3, completed: 2, stoppedNeedMore: 1, channels: { 1: 1, 2: 2, 3: 0, 9: 0 }, promisedCut: 0.75 });
    expect(await tableCells(page)).toEqual(Object.fromEntries(answer.rows.map((r) => [r.key, expectedCells(r)])));
    expect((await tableCells(page))[FG]!.onTimePromised).toBe('100.0%');
    const jb = answer.rows.find((r) => r.key === JB)!;
    expect({ cases: jb.cases, completed: jb.completed, onTimePromised: jb.onTimePromised, overdueOpen: jb.overdueOpen }).toEqual({ cases: 4, completed: 3, onTimePromised: 1, overdueOpen: 1 });
    expect((await tableCells(page))[JB]).toMatchObject({ onTimePromised: '33.3%', overdueOpen: '1' });
    // A 即办件 has no legal limit: none of its cases is within one. An item without limits has no rate at all.
    expect((await tableCells(page))[JB]!.onTimeLegal).toBe('0.0%');
    expect((await tableCells(page))[XX]).toMatchObject({ completed: '1', onTimePromised: '—', onTimeLegal: '—' });

    // The chart: one promised bar and one legal bar per row, the rate in its label.
    const bars = await chartBars(page);
    expect(bars.map((b) => b.key)).toEqual(answer.rows.map((r) => r.key));
    for (const r of answer.rows) {
      const row = bars.find((b) => b.key === r.key)!;
      expect(row.promised).toHaveLength(1);
      expect(row.legal).toHaveLength(1);
      const [promisedRate, promisedTitle] = row.promised[0]!.split('|');
      const [legalRate, legalTitle] = row.legal[0]!.split('|');
      expect(promisedRate).toBe(rate(r, r.onTimePromised));
      expect(promisedTitle).toContain(r.key);
      expect(promisedTitle).toContain(rate(r, r.onTimePromised));
      expect(promisedTitle).toContain('承诺时限');
      expect(legalRate).toBe(rate(r, r.onTimeLegal));
      expect(legalTitle).toContain('法定时限');
    }
    // A full bar is the whole track; an empty one (no rate) has no width.
    const widths = await page.locator('#reports-chart g.chart-row').evaluateAll((rows) =>
      Object.fromEntries(rows.map((row) => [row.getAttribute('data-key'), [...row.querySelectorAll('g.bar.promised rect')].map((r) => Number(r.getAttribute('width')))])),
    );
    expect(widths[FG]![1]).toBe(widths[FG]![0]);
    expect(widths[XX]![1]).toBe(0);

    // The CSV link: a Blob URL (the token cannot ride a plain link) whose text is the API's CSV.
    const link = page.locator('#reports-csv');
    await link.waitFor({ state: 'visible' });
    expect(await link.getAttribute('href')).toMatch(/^blob:/);
    expect(await link.getAttribute('download')).toMatch(/\.csv$/);
    // Downloaded (the page's own CSP lets it fetch nothing but its origin, so the file is read from disk).
    const download = page.waitForEvent('download');
    await link.click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^timeliness-item-.*\.csv$/);
    const csv = fs.readFileSync((await file.path())!, 'utf8');
    expect(csv).toBe(await api(`${query.toString()}&format=csv`));
    expect(csv.split('\r\n')[0]).toContain('onTimePromised');
    expect(csv).toContain(FG);
    await page.context().close();
  });

  withBrowser('groups by channel when asked, the table and the chart following', async () => {
    const page = await openSignedIn();
    await page.click('#tab-reports');
    await page.locator(`#reports-table tr[data-key="${FG}"]`).waitFor();
    const asked = page.waitForRequest((req) => req.url().includes('groupBy=channel') && !req.url().includes('format=csv'));
    await page.selectOption('#reports-group', 'channel');
    await page.click('#reports-form button[type=submit]');
    const query = new URL((await asked).url()).searchParams;
    await page.locator('#reports-table tr[data-key="mobile"]').waitFor();

    const answer = JSON.parse(await api(query.toString())) as { rows: Row[] };
    expect(answer.rows.map((r) => r.key).sort()).toEqual(['mobile', 'self-service', 'web', 'window']);
    expect(await tableCells(page)).toEqual(Object.fromEntries(answer.rows.map((r) => [r.key, expectedCells(r)])));
    // web: F2 approved, F3 waiting for 补正 → 1 of 1 completed on time.
    expect((await tableCells(page))['mobile']).toMatchObject({ cases: '3', completed: '2', onTimePromised: '50.0%', overdueOpen: '1', channel3: '3' });
    expect((await tableCells(page))['web']).toMatchObject({ cases: '2', completed: '1', onTimePromised: '100.0%', stoppedNeedMore: '1', channel2: '2' });
    expect((await chartBars(page)).map((b) => [b.key, b.promised.length])).toEqual(answer.rows.map((r) => [r.key, 1]));

    // In English, the words follow; the figures do not change.
    await page.click('#lang-toggle');
    await page.locator('#panel-reports h2').filter({ hasText: 'Timeliness report' }).waitFor();
    expect(await page.locator('#reports-chart g.bar.promised title').first().textContent()).toContain('on time against the promised limit');
    expect(await tableCells(page)).toEqual(Object.fromEntries(answer.rows.map((r) => [r.key, expectedCells(r)])));
    await page.context().close();
  });

  withBrowser('raised no script error, broke no content-security rule and fetched nothing from elsewhere', () => {
    expect(pageErrors).toEqual([]);
  });
});
