/**
 * The ops console at 3 a.m., in a real browser (Debian's Chromium via playwright-core) against a real
 * gateway (real Redis, real legacy HTTP servers): the problem system on top with since when it
 * fails, a system paused and the case it holds explained, a dead letter corrected (refused first,
 * then accepted with its diff) and replayed, a bulk replay counted before it is confirmed, an
 * unmatched result discarded with a reason, audit paging, the language switch, toasts that do not
 * pile up, and the page at 800 px. Takes the screenshots docs/ shows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import {
  OPERATOR_TOKEN, admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from './browser';
import { freePort } from '../../src/platform/redis';

jest.setTimeout(120_000);

const withBrowser = browserTest('console ops');

// The screenshots docs/operations.md shows are written to docs/ with OW_SCREENSHOTS=docs (else to the temp folder,
// so that a test run leaves the work tree as it was).
const DOCS = process.env.OW_SCREENSHOTS === 'docs' ? path.resolve(__dirname, '../../docs') : os.tmpdir();
const RESULT_TOKEN = 'ops-result-token';


async function waitForText(page: Page, selector: string, expected: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => Array.from((globalThis as any).document.querySelectorAll(sel) as ArrayLike<{ textContent: string | null }>).some((el) => (el.textContent ?? '').includes(want)),
    [selector, expected] as const,
    { timeout },
  );
}

/** Whether the page itself is wider than the window (a table may scroll inside its own box). */
/** Toasts closed, for a screenshot that shows the page itself. */
const closeToasts = (page: Page) => page.evaluate(() => (globalThis as any).document.querySelectorAll('#messages .message').forEach((m: any) => m.remove()));

const pageOverflows = (page: Page) => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth > (globalThis as any).document.documentElement.clientWidth);

describe('the ops console at 3 a.m.', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  const deadCase = sampleCase({ itemCode: 'FRAGILE-1' });
  const flakyCase = sampleCase({ itemCode: 'FLAKY-1' });
  const heldCase = sampleCase({ itemCode: 'NIGHT-1' });
  const letterId = `prov-fragile.${deadCase.caseId as string}`;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => {
      if (req.url.startsWith('/flaky')) {
        // The system's own words, in its own language: kept as they are on the console.
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('系统维护中，请稍后再试');
        return;
      }
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } });
    });
    const dir = writeConfig(
      [
        restSystem('city-steady', `${legacy.url}/steady`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj}', inboundToken: RESULT_TOKEN } }),
        restSystem('city-night', `${legacy.url}/night`, { name: '夜间批处理系统' }),
        restSystem('city-flaky', `${legacy.url}/flaky`, { name: '时好时坏的系统', retry: { attempts: 5, backoff: { type: 'fixed', delayMs: 600_000 } }, circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 } }),
        restSystem('prov-fragile', `http://127.0.0.1:${await freePort()}/cases`, {
          name: '浙江省测试系统（不可达）',
          level: 'provincial',
          retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } },
          circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 },
        }),
      ],
      {
        routes: [
          { itemCode: 'FRAGILE-*', targets: ['prov-fragile'] },
          { itemCode: 'FLAKY-*', targets: ['city-flaky'] },
          { itemCode: 'NIGHT-*', targets: ['city-night'] },
          { itemCode: '*', targets: ['city-steady'] },
        ],
      },
    );
    gateway = await startTestGateway(dir);
    expect((await submit(gateway, deadCase)).status).toBe(202);
    expect((await submit(gateway, flakyCase)).status).toBe(202);
    await eventually(async () => {
      expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].status).toBe('dead');
      expect((await caseView(gateway, flakyCase.caseId as string)).body.deliveries[0].waitingFor).toBe('retry');
    });
    expect((await pushResult(gateway, 'city-steady', { ywh: 'QZ-NO-SUCH-CASE-1', yj: '同意' }, RESULT_TOKEN)).status).toBe(404);

    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('request', (req) => {
        if (!req.url().startsWith(`${gateway.url}/`) && !req.url().startsWith('data:')) pageErrors.push(`off origin: ${req.url()}`);
      });
      await page.goto(`${gateway.url}/console`);
      await page.fill('#login-token', 'test-ops-admin-token');
      await page.fill('#login-name', '值班员 王五');
      await page.click('#login-form button[type=submit]');
      await page.locator('#systems-table tbody tr[data-system="city-steady"]').waitFor();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  it('gives an admin the stored case of a dead letter to correct, and nobody else', async () => {
    const answer = await admin(gateway, 'GET', `/dead-letters/${letterId}/case`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: letterId, caseId: deadCase.caseId, systemId: 'prov-fragile', case: { caseId: deadCase.caseId, applicant: { idNumber: '330802199001011234' } } });
    const asOperator = await fetch(`${gateway.url}/api/v1/admin/dead-letters/${letterId}/case`, { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(asOperator.status).toBe(403);
    expect((await admin(gateway, 'GET', `/dead-letters/city-steady.QZ-NOPE/case`)).body.error.code).toBe('not_found');
  });

  withBrowser('puts the problem systems on top, each with since when it fails, its last error in Chinese and its dead letters', async () => {
    await waitForText(page, 'tr[data-system="city-flaky"]', '故障自');
    const ids = await page.locator('#systems-table tbody tr').evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute('data-system')));
    expect(ids.slice(0, 2).sort()).toEqual(['city-flaky', 'prov-fragile']);
    expect(ids.slice(2).sort()).toEqual(['city-night', 'city-steady']);

    const fragile = page.locator('tr[data-system="prov-fragile"]');
    expect(await fragile.locator('[data-field="failing-since"]').innerText()).toMatch(/^故障自 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    expect(await fragile.locator('[data-field="last-error"]').innerText()).toContain('prov-fragile 无法连接（ECONNREFUSED）');
    expect(await fragile.locator('[data-field="last-success"]').innerText()).toContain('从未');
    // The dead letters have their own column, under their own name, linking to them.
    expect(await page.locator('#systems-table thead th').allInnerTexts()).toContain('死信');
    expect(await fragile.locator('button[data-dead-for="prov-fragile"]').innerText()).toBe('1');

    // A legacy system's own words stay as they are, marked as the system's; the gateway's are in Chinese.
    const flaky = page.locator('tr[data-system="city-flaky"] [data-field="last-error"]');
    expect(await flaky.innerText()).toContain('city-flaky 返回 HTTP 503（服务不可用）');
    expect(await flaky.locator('q.own').innerText()).toBe('系统维护中，请稍后再试');
    expect(await page.locator('tr[data-system="city-flaky"] [data-field="oldest-waiting"]').innerText()).toMatch(/^最早一件已等待 \d+ 秒/);

    // Each header counter links to the systems it counts.
    await page.click('button[data-problem="dead_letters"]');
    expect(await page.locator('#systems-table tbody tr:not([hidden])').evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute('data-system')))).toEqual(['prov-fragile']);
    await page.click('button[data-problem="dead_letters"]');
    expect(await page.locator('#systems-table tbody tr:not([hidden])').count()).toBe(4);
    fs.mkdirSync(DOCS, { recursive: true });
    await closeToasts(page);
    await page.screenshot({ path: path.join(DOCS, 'console-board.png') });
  });

  withBrowser('pauses a system; the case it holds says why it waits (and until when, where there is a when)', async () => {
    await page.click('button[data-action="pause"][data-target="city-night"]');
    await page.fill('#ask-reason', '夜间批处理');
    await page.click('#ask-ok');
    await page.locator('tr[data-system="city-night"].paused').waitFor();
    // Paused: no probe time, past or future.
    expect(await page.locator('tr[data-system="city-night"] [data-field="next-probe"]').count()).toBe(0);
    await waitForText(page, 'button[data-problem="paused"]', '1');

    expect((await submit(gateway, heldCase)).status).toBe(202);
    await page.click('#tab-case');
    await page.fill('#case-id', heldCase.caseId as string);
    await page.click('#case-form button[type=submit]');
    const waiting = page.locator('article[data-delivery="city-night"] .waiting[data-waiting="paused"]');
    await waiting.waitFor();
    expect(await waiting.innerText()).toContain('系统已暂停：恢复该系统后才会发送，没有预定时间。');

    // A case in retry backoff: why, and when the next attempt is, in words.
    await page.fill('#case-id', flakyCase.caseId as string);
    await page.click('#case-form button[type=submit]');
    const retry = page.locator('article[data-delivery="city-flaky"] .waiting[data-waiting="retry"]');
    await retry.waitFor();
    expect(await retry.innerText()).toMatch(/等待重试（退避）：下次尝试于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}（\d+ 分后）/);
    // Its timeline: each history entry in order, with time, event and detail.
    const steps = page.locator('article[data-delivery="city-flaky"] .timeline li');
    expect(await steps.evaluateAll((lis: any[]) => lis.map((li) => li.getAttribute('data-event')))).toEqual(['accepted', 'attempt', 'retry_scheduled']);
    expect(await steps.nth(2).innerText()).toContain('city-flaky 返回 HTTP 503（服务不可用）');
    await closeToasts(page);
    await page.screenshot({ path: path.join(DOCS, 'console-case.png'), fullPage: true });

    await admin(gateway, 'POST', '/systems/city-night/resume', {});
    await eventually(async () => expect((await caseView(gateway, heldCase.caseId as string)).body.deliveries[0].status).toBe('delivered'));
  });

  withBrowser('corrects a dead letter: a case the API refuses changes nothing; a valid one shows its diff and is replayed', async () => {
    await page.click('#tab-dead');
    // One page of dead letters: nothing before it, nothing after.
    await waitForText(page, '#dead-pager', '第 1 页，本页 1 条');
    expect(await page.locator('#dead-pager button[data-page="next"]').isDisabled()).toBe(true);
    await page.click(`button[data-action="correct"][data-target="${letterId}"]`);
    await page.locator('#correct').waitFor();
    const original = JSON.parse(await page.inputValue('#correct-case'));
    expect(original.caseId).toBe(deadCase.caseId);

    // Not a valid case: the gateway says why, in the dialog, and nothing is stored.
    await page.fill('#correct-case', JSON.stringify({ ...original, channel: 'carrier-pigeon' }, null, 2));
    expect(await page.locator('#correct-diff li[data-path="channel"]').innerText()).toContain('"carrier-pigeon"');
    await page.click('#correct-ok');
    await waitForText(page, '#correct-error', '网关拒绝了这次更正');
    expect(await page.locator('#correct-error').innerText()).toContain('channel');
    expect((await admin(gateway, 'GET', `/dead-letters/${letterId}/case`)).body.case.channel).toBe(original.channel);

    // A valid correction: the diff shows the change, the replay takes the corrected case.
    await page.fill('#correct-case', JSON.stringify({ ...original, applicant: { ...original.applicant, address: '衢州市衢江区' } }, null, 2));
    expect(await page.locator('#correct-diff li').allInnerTexts()).toEqual(['applicant.address："衢州市柯城区" → "衢州市衢江区"']);
    await page.fill('#correct-reason', '地址有误');
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-correct.png') });
    await page.click('#correct-ok');
    await waitForText(page, '#messages', '已更正并重放');
    expect(await page.locator('#correct').isHidden()).toBe(true);
    expect((await admin(gateway, 'GET', '/audit?action=dead_letter.correct')).body.items[0]).toMatchObject({ target: letterId, detail: 'changed applicant.address', reason: '地址有误' });
    const history = (await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].history.map((h: { event: string }) => h.event);
    expect(history).toEqual(expect.arrayContaining(['case_corrected', 'replayed']));
    // Still unreachable: it dies again, and is a dead letter once more.
    await eventually(async () => expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].status).toBe('dead'));
  });

  withBrowser('bulk replay needs a scope and shows the count before anything is replayed; toasts do not pile up', async () => {
    await page.click('#tab-dead');
    await page.selectOption('#dead-system', '');
    await page.fill('#dead-error', '');
    for (let i = 0; i < 4; i++) await page.click('#dead-replay-many');
    await waitForText(page, '#messages', '请先选择范围');
    // The same message four times is one toast; an error stays until closed.
    expect(await page.locator('#messages .message.error').count()).toBe(1);
    await page.click('#messages .message.error .close');
    expect(await page.locator('#messages .message.error').count()).toBe(0);

    await page.selectOption('#dead-system', 'prov-fragile');
    const before = (await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].history.length;
    await page.click('#dead-replay-many');
    await page.locator('#ask').waitFor();
    expect(await page.locator('#ask-title').innerText()).toBe('批量重放 1 条死信');
    expect(await page.locator('#ask-text').innerText()).toContain('系统 = prov-fragile');
    await page.click('#ask-cancel');
    // Counted, not replayed.
    expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].history.length).toBe(before);

    await page.check('#dead-all');
    await page.selectOption('#dead-system', '');
    await page.click('#dead-replay-many');
    await page.locator('#ask').waitFor();
    expect(await page.locator('#ask-text').innerText()).toContain('全部系统');
    await page.click('#ask-ok');
    await waitForText(page, '#messages', '已批量重放');
    expect((await admin(gateway, 'GET', '/audit?action=dead_letter.replay')).body.items[0]).toMatchObject({ target: letterId });
  });

  withBrowser('discards an unmatched result, with a reason', async () => {
    await page.click('#tab-unmatched');
    const row = page.locator('#unmatched-table tbody tr[data-unmatched]');
    await row.first().waitFor();
    const id = await row.first().getAttribute('data-unmatched');
    await page.click(`button[data-action="discard-unmatched"][data-target="${id}"]`);
    await page.click('#ask-ok');
    await waitForText(page, '#ask-error', '请填写原因');
    await page.fill('#ask-reason', '测试推送，无对应办件');
    await page.click('#ask-ok');
    await page.locator('#unmatched-empty').waitFor({ state: 'visible' });
    expect((await admin(gateway, 'GET', '/unmatched-results')).body.items).toEqual([]);
    expect((await admin(gateway, 'GET', '/audit?action=unmatched.discard')).body.items[0]).toMatchObject({ target: id, reason: '测试推送，无对应办件' });
  });

  withBrowser('pages through the audit trail', async () => {
    // 60 more entries: more than a page of 50.
    for (let i = 0; i < 30; i++) {
      await admin(gateway, 'POST', '/systems/city-steady/pause', { reason: `演练 ${i}` });
      await admin(gateway, 'POST', '/systems/city-steady/resume', { reason: `演练结束 ${i}` });
    }
    await page.click('#tab-audit');
    await waitForText(page, '#audit-pager', '第 1 页');
    expect(await page.locator('#audit-table tbody tr').count()).toBe(50);
    const firstPage = await page.locator('#audit-table tbody tr').first().innerText();
    await page.click('#audit-pager button[data-page="next"]');
    await waitForText(page, '#audit-pager', '第 2 页');
    expect(await page.locator('#audit-table tbody tr').first().innerText()).not.toBe(firstPage);
    // Translated action names ("system.configure" and the rest never shown raw).
    expect(await page.locator('#audit-table tbody tr[data-action="system.pause"] td').nth(2).first().innerText()).toBe('暂停系统');
    await page.click('#audit-pager button[data-page="prev"]');
    await waitForText(page, '#audit-pager', '第 1 页');
    expect(await page.locator('#audit-table tbody tr').first().innerText()).toBe(firstPage);
  });

  withBrowser('switches to English and back, remembered, telling other parts of the page by an ow:lang event', async () => {
    await page.click('#tab-systems');
    await page.evaluate(() => {
      const g = globalThis as any;
      g.langEvents = 0;
      g.document.addEventListener('ow:lang', () => g.langEvents++);
    });
    await page.click('#lang-toggle');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('en');
    expect(await page.evaluate(() => (globalThis as any).langEvents)).toBe(1);
    expect(await page.locator('#tab-systems').innerText()).toBe('Systems');
    expect(await page.locator('#lang-toggle').innerText()).toBe('中文');
    // In English the gateway's message is shown as the gateway wrote it.
    await waitForText(page, 'tr[data-system="prov-fragile"] [data-field="last-error"]', 'prov-fragile could not be reached (ECONNREFUSED)');
    expect(await page.locator('tr[data-system="prov-fragile"] [data-field="failing-since"]').innerText()).toMatch(/^failing since /);
    // The system's own words are marked as such in English as well.
    expect(await page.locator('tr[data-system="city-flaky"] [data-field="last-error"] q.own').innerText()).toBe('系统维护中，请稍后再试');
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('ow.console.lang'))).toBe('en');

    await page.reload();
    await page.locator('#systems-table tbody tr[data-system="city-steady"]').waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('en');
    expect(await page.locator('#who-role').innerText()).toBe('admin');
    expect(await page.locator('button[data-action="pause"][data-target="city-steady"]').innerText()).toBe('Pause');

    await page.click('#lang-toggle');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.lang)).toBe('zh-CN');
    expect(await page.locator('#tab-systems').innerText()).toBe('业务系统');
    // The token stays in the tab; only the language choice is in localStorage.
    expect(await page.evaluate(() => Object.keys((globalThis as any).localStorage))).toEqual(['ow.console.lang']);
  });

  withBrowser('fits 800 px without the page scrolling sideways (tables scroll in their box), and a wall screen', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    for (const tab of ['systems', 'dead', 'case', 'audit', 'unmatched', 'lookups']) {
      await page.click(`#tab-${tab}`);
      await page.locator(`#panel-${tab}`).waitFor();
      if (tab === 'case') {
        await page.fill('#case-id', flakyCase.caseId as string);
        await page.click('#case-form button[type=submit]');
        await page.locator('article[data-delivery="city-flaky"]').waitFor();
      }
      expect([tab, await pageOverflows(page)]).toEqual([tab, false]);
    }
    await page.click('#tab-systems');
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-800.png'), fullPage: true });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.click('#wall-toggle');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.classList.contains('wall'))).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.documentElement).fontSize)).toBe('18px');
    expect(await pageOverflows(page)).toBe(false);
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-wall.png') });
    await page.click('#wall-toggle');
  });

  withBrowser('raised no script error and fetched nothing from elsewhere', () => {
    expect(pageErrors).toEqual([]);
  });
});
