/**
 * The console's 查询记录 Look-ups tab in a real browser (Debian's Chromium driven by playwright-core)
 * against a gateway with the shipped look-up sources simulated: after one look-up answered and one
 * refused (403 purpose_not_allowed), a viewer sees both with their statuses, the ID numbers masked
 * (no full ID number anywhere on the page, not even the one typed into the filter), newest first, and
 * the person filter narrows the list.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { World } from '../../sim/shared-data-world';
import { VIEWER_TOKEN } from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS, signIn } from './browser';
import { LI_SI, query, submittedCase, world, ZHANG_SAN } from '../shared-data/support';

jest.setTimeout(90_000);

const withBrowser = browserTest('console look-ups');


const FOUND_CASE = `QZ-LOOKUP-${Date.now()}-1`;
const REFUSED_CASE = `QZ-LOOKUP-${Date.now()}-2`;
const ACTION_BUTTONS = ['暂停 Pause', '恢复 Resume', '重放 Replay', '丢弃 Discard', '重新匹配 Rematch'].map((label) => `#app button[aria-label^="${label}"]`).join(', ');

describe('the console look-ups tab (查询记录)', () => {
  let w: World;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    w = await world({ viewerToken: VIEWER_TOKEN });
    // Look-ups are for cases the gateway holds, their item the purpose.
    await submittedCase(w, '330800-FG-001', FOUND_CASE);
    await submittedCase(w, '330800-RS-001', REFUSED_CASE);
    const found = await query(w, { caseId: FOUND_CASE, purpose: '330800-FG-001', ...ZHANG_SAN, documents: ['marriage'] });
    expect(found.status).toBe(200);
    expect(found.body.documents[0].status).toBe('found');
    // 人力社保 items may not see marriage records: refused, audited, no source asked.
    const refused = await query(w, { caseId: REFUSED_CASE, purpose: '330800-RS-001', ...LI_SI, documents: ['marriage'] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('purpose_not_allowed');
    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  async function openSignedIn(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (req) => {
      if (!req.url().startsWith(`${w.url}/`) && !req.url().startsWith('data:')) pageErrors.push(`off origin: ${req.url()}`);
    });
    await page.goto(`${w.url}/console`);
    await signIn(page, VIEWER_TOKEN, '只读 赵六');
    await page.locator('#who-role').filter({ hasText: '只读' }).waitFor();
    return page;
  }

  /** No full ID number in the page's markup, its text, or any input's value. */
  async function expectNoFullIdNumber(page: Page): Promise<void> {
    const html = await page.content();
    const shown = await page.locator('body').innerText();
    const values = await page.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value).join('\n'));
    for (const person of [ZHANG_SAN, LI_SI]) {
      for (const where of [html, shown, values]) expect(where).not.toContain(person.idNumber);
    }
  }

  withBrowser('lists both look-ups newest first, statuses shown, ID numbers masked; a viewer has nothing to press', async () => {
    const page = await openSignedIn();
    await page.click('#tab-lookups');
    const rows = page.locator('#lookups-table tbody tr');
    await page.locator(`tr[data-case="${FOUND_CASE}"]`).waitFor();
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-case')))).toEqual([REFUSED_CASE, FOUND_CASE]);

    const found = await page.locator(`tr[data-case="${FOUND_CASE}"]`).innerText();
    expect(found).toContain('330*************34');
    expect(found).toContain('330800-FG-001');
    expect(found).toContain('marriage');
    expect(found).toContain('已找到');
    expect(found).toContain('city-civil-affairs');
    expect(found).toContain('窗口 王五'); // the X-OW-Operator of the look-up

    const refused = await page.locator(`tr[data-case="${REFUSED_CASE}"]`).innerText();
    expect(refused).toContain('330*************45');
    expect(refused).toContain('330800-RS-001');
    expect(refused).toContain('拒绝');
    expect(refused).toContain('用途不允许：marriage');

    expect(await page.locator(ACTION_BUTTONS).count()).toBe(0);
    await expectNoFullIdNumber(page);
    await page.context().close();
  });

  withBrowser('the person filter takes the full ID number, sends it as `person`, and shows it only masked', async () => {
    const page = await openSignedIn();
    await page.click('#tab-lookups');
    await page.locator(`tr[data-case="${FOUND_CASE}"]`).waitFor();

    const asked = page.waitForRequest((req) => req.url().includes('/admin/shared-data/lookups?'));
    await page.fill('#lookups-person', LI_SI.idNumber);
    await page.click('#lookups-form button[type=submit]');
    expect(new URL((await asked).url()).searchParams.get('person')).toBe(LI_SI.idNumber);
    await page.locator(`tr[data-case="${FOUND_CASE}"]`).waitFor({ state: 'detached' });
    expect(await page.locator('#lookups-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-case')))).toEqual([REFUSED_CASE]);
    expect(await page.locator('#lookups-person-filter').innerText()).toContain('330*************45');
    await expectNoFullIdNumber(page);

    // The case filter as well: nothing of Li Si's is for the found case.
    await page.fill('#lookups-case', FOUND_CASE);
    await page.click('#lookups-form button[type=submit]');
    await page.locator('#lookups-empty').waitFor({ state: 'visible' });

    // Cleared: both again.
    await page.click('#lookups-clear');
    await page.locator(`tr[data-case="${FOUND_CASE}"]`).waitFor();
    expect(await page.locator('#lookups-table tbody tr').count()).toBe(2);
    await expectNoFullIdNumber(page);
    await page.context().close();
  });

  withBrowser('raised no script error and fetched nothing from elsewhere', () => {
    expect(pageErrors).toEqual([]);
  });
});
