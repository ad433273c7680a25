/**
 * The ops web console in a real browser: Debian's Chromium driven by playwright-core, against a real
 * gateway (real Redis, real legacy HTTP servers, one of them unreachable so that a dead letter appears).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import {
  admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from './browser';
import { freePort } from '../../src/platform/redis';

jest.setTimeout(90_000);

// Functions passed to page.evaluate run in the browser; the test program has no DOM typings, so they
// reach the browser's globals through `globalThis as any`.

const withBrowser = browserTest('console');


const OPERATOR = '值班员 王五';
const STEADY_RESULT_TOKEN = 'steady-result-token';
// A display name with markup in it: the console must show it as text, never as HTML.
const TRICKY_NAME = '衢州市房改办 <b>核查</b> & "测试" <img src=x onerror=alert(1)>';

/** A port on 127.0.0.1 that nothing listens on: deliveries there fail with "connection refused". */

const text = (page: Page, selector: string) => page.locator(selector).first().innerText();

async function waitForText(page: Page, selector: string, expected: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => Array.from((globalThis as any).document.querySelectorAll(sel) as ArrayLike<{ textContent: string | null }>).some((el) => (el.textContent ?? '').includes(want)),
    [selector, expected] as const,
    { timeout },
  );
}

describe('the ops web console (GET /console)', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  const deliveredCase = sampleCase({ itemCode: 'STEADY-1' });
  const deadCase = sampleCase({ itemCode: 'FRAGILE-1' });
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];
  const failedResponses: string[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => {
      const bizNo = (req.json as { bizNo: string }).bizNo;
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${bizNo}` } });
    });
    const deadPort = await freePort();
    const dir = writeConfig(
      [
        restSystem('city-steady', `${legacy.url}/steady`, {
          name: TRICKY_NAME,
          result: { mode: 'push', map: '{"caseId": ywh, "outcome": jg = "1" ? "approved" : "rejected", "message": yj}', inboundToken: STEADY_RESULT_TOKEN },
        }),
        restSystem('prov-fragile', `http://127.0.0.1:${deadPort}/cases`, {
          name: '浙江省测试系统（不可达）',
          level: 'provincial',
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
          circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 },
          health: { probe: 'head', intervalMs: 1000 },
        }),
        restSystem('nat-population', `${legacy.url}/population`, { name: '国家人口基础信息库', level: 'national' }),
      ],
      {
        routes: [
          { itemCode: 'STEADY-*', targets: ['city-steady'] },
          { itemCode: 'FRAGILE-*', targets: ['prov-fragile'] },
          { itemCode: '*', targets: ['nat-population'] },
        ],
      },
    );
    gateway = await startTestGateway(dir);

    expect((await submit(gateway, deliveredCase)).status).toBe(202);
    expect((await submit(gateway, deadCase)).status).toBe(202);
    await eventually(async () => {
      expect((await caseView(gateway, deliveredCase.caseId as string)).body.deliveries[0].status).toBe('delivered');
      expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].status).toBe('dead');
      expect((await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'prov-fragile').probe).toMatchObject({ ok: false });
    });
    // A result for a case the gateway never saw: kept as unmatched for ops.
    expect((await pushResult(gateway, 'city-steady', { ywh: 'QZ-NO-SUCH-CASE', jg: '1', yj: '同意' }, STEADY_RESULT_TOKEN)).status).toBe(404);

    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      page.on('request', (req) => {
        if (!req.url().startsWith(`${gateway.url}/`) && !req.url().startsWith('data:')) offOrigin.push(req.url());
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('response', (res) => {
        if (res.status() >= 400) failedResponses.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
      });
      page.on('console', (msg) => {
        // Failed requests are logged as "Failed to load resource"; they are checked one by one instead.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  it('serves the page and its assets without a token, with a strict content security policy', async () => {
    const pageRes = await fetch(`${gateway.url}/console`);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(pageRes.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(pageRes.headers.get('x-frame-options')).toBe('DENY');
    const html = await pageRes.text();
    expect(html).toContain('运维控制台');
    expect(html).not.toMatch(/https?:\/\//); // nothing fetched from elsewhere

    // The app (its words in it: one bundle, scripts/bundle-console.ts) and its style sheet.
    for (const [file, type] of [
      ['console.js', 'text/javascript; charset=utf-8'],
      ['console.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await fetch(`${gateway.url}/console/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      // The XML namespaces the view library names (SVG, MathML, XHTML) are names, not fetches.
      expect((await res.text()).replace(/http:\/\/www\.w3\.org\/(2000\/svg|1998\/Math\/MathML|1999\/xhtml)/g, '')).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    }
    const missing = await fetch(`${gateway.url}/console/secrets.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('not_found');
    // The data stays behind the ops token.
    expect((await fetch(`${gateway.url}/api/v1/admin/systems`)).status).toBe(401);
  });

  withBrowser('asks for the ops token, refuses a wrong one, then shows every system (names as text, never HTML)', async () => {
    await page.goto(`${gateway.url}/console`);
    await page.locator('#login-token').waitFor();
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.fill('#login-token', 'not-the-token');
    await page.fill('#login-name', OPERATOR);
    await page.click('#login-form button[type=submit]');
    await waitForText(page, '#login-error', '令牌无效');
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.fill('#login-token', 'test-ops-admin-token');
    await page.press('#login-token', 'Enter');
    await page.locator('#systems-table tbody tr[data-system="city-steady"]').waitFor();
    expect(await text(page, '#who-name')).toBe(OPERATOR);
    expect(await text(page, '#who-role')).toBe('管理员');

    const ids = await page.locator('#systems-table tbody tr').evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute('data-system')));
    // Problem systems first (the unreachable one, failing, with a dead letter), then by level.
    expect(ids).toEqual(['prov-fragile', 'nat-population', 'city-steady']);
    const fragile = await page.locator('tr[data-system="prov-fragile"]').innerText();
    expect(fragile).toContain('故障自');
    // The gateway's words in Chinese: "could not be reached (ECONNREFUSED)".
    expect(fragile).toContain('prov-fragile 无法连接（ECONNREFUSED）');
    // Its health probe finds it unreachable, with the time of the first failed probe.
    expect(fragile).toContain('不可达，自');
    // The failing counter is a link to the systems it counts; a second click shows them all again.
    await page.click('button[data-problem="failing"]');
    expect(await page.locator('#systems-table tbody tr:not([hidden])').evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute('data-system')))).toEqual(['prov-fragile']);
    await page.click('button[data-problem="failing"]');
    expect(await page.locator('#systems-table tbody tr:not([hidden])').count()).toBe(3);
    const steady = page.locator('tr[data-system="city-steady"]');
    expect(await steady.locator('.name').textContent()).toBe(TRICKY_NAME);
    expect(await page.locator('#systems-table b, #systems-table img').count()).toBe(0);
    expect(await steady.innerText()).toContain('运行中');
    expect(await steady.innerText()).toContain('正常');

    // The token lives in this tab's sessionStorage only: never in the URL or localStorage.
    const storage = await page.evaluate(() => ({ local: (globalThis as any).localStorage.length, session: (globalThis as any).sessionStorage.getItem('ow.console.token') }));
    expect(storage).toEqual({ local: 0, session: 'test-ops-admin-token' });
    expect(page.url()).toBe(`${gateway.url}/console`);
  });

  withBrowser('pauses a system with a reason (the API agrees, audited under the operator) and picks up changes by auto-refresh', async () => {
    await page.click('button[data-action="pause"][data-target="city-steady"]');
    await page.locator('#ask').waitFor();
    expect(await text(page, '#ask-title')).toContain('city-steady');
    await page.fill('#ask-reason', '系统升级');
    await page.click('#ask-ok');
    await waitForText(page, 'tr[data-system="city-steady"]', '已暂停');
    expect(await page.locator('#ask').isHidden()).toBe(true);

    const listed = (await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-steady');
    expect(listed.paused).toBe(true);
    const audit = (await admin(gateway, 'GET', '/audit')).body.items;
    expect(audit[0]).toMatchObject({ action: 'system.pause', target: 'city-steady', reason: '系统升级', who: expect.stringContaining(OPERATOR) });

    // Resumed elsewhere (through the API): the table shows it within one 5 s refresh.
    await admin(gateway, 'POST', '/systems/city-steady/resume', { reason: '升级完成' });
    await waitForText(page, 'tr[data-system="city-steady"]', '运行中', 8000);
    expect(await page.locator('button[data-action="pause"][data-target="city-steady"]').count()).toBe(1);
  });

  withBrowser('lists the dead letter, insists on a reason to discard, and replays it', async () => {
    const letterId = `prov-fragile.${deadCase.caseId as string}`;
    await page.click('#tab-dead');
    const row = page.locator(`tr[data-dead-letter="${letterId}"]`);
    await row.waitFor();
    expect(await row.innerText()).toContain('无法连接');
    expect(await row.locator('td').nth(2).innerText()).toBe('2');

    // Filtering by another system leaves nothing.
    await page.selectOption('#dead-system', 'city-steady');
    await page.click('#dead-form button[type=submit]');
    await page.locator('#dead-empty').waitFor();
    await page.selectOption('#dead-system', '');
    await page.fill('#dead-error', 'could not be reached');
    await page.click('#dead-form button[type=submit]');
    await row.waitFor();

    // Discard without a reason is refused in the dialog; cancel leaves everything as it was.
    await page.click(`button[data-action="discard"][data-target="${letterId}"]`);
    await page.click('#ask-ok');
    await waitForText(page, '#ask-error', '请填写原因');
    await page.click('#ask-cancel');
    expect(await page.locator('#ask').isHidden()).toBe(true);

    await page.click(`button[data-action="replay"][data-target="${letterId}"]`);
    await page.fill('#ask-reason', '网络已恢复');
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-dead-letters.png') });
    await page.click('#ask-ok');
    await waitForText(page, '#messages', '已重放');

    const history = (await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].history;
    expect(history.filter((h: { event: string }) => h.event === 'replayed')).toHaveLength(1);
    expect(history.find((h: { event: string }) => h.event === 'replayed').detail).toContain('网络已恢复');
    // Still unreachable: it dies again after fresh attempts (the count starts again at the replay,
    // as the store counts them since the delivery decision seam; the history keeps all four).
    await eventually(async () => expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0]).toMatchObject({ status: 'dead', attempts: 2 }));
    const attempts = (await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].history.filter((h: { event: string }) => h.event === 'attempt');
    expect(attempts).toHaveLength(4);
  });

  withBrowser('looks a case up: each delivery with its status, receipt, last error and history', async () => {
    await page.click('#tab-case');
    await page.fill('#case-id', 'QZ-DOES-NOT-EXIST');
    await page.press('#case-id', 'Enter');
    await waitForText(page, '#case-result', '没有找到办件');

    await page.fill('#case-id', deliveredCase.caseId as string);
    await page.click('#case-form button[type=submit]');
    const card = page.locator('article[data-delivery="city-steady"]');
    await card.waitFor();
    const shown = await card.innerText();
    expect(shown).toContain('已送达');
    expect(shown).toContain(`SL-${deliveredCase.caseId as string}`);
    expect(shown).toContain('受理');
    expect(await text(page, '#case-result .case-head')).toContain('办理中');
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-case.png'), fullPage: true });

    await page.fill('#case-id', deadCase.caseId as string);
    await page.click('#case-form button[type=submit]');
    await waitForText(page, 'article[data-delivery="prov-fragile"]', '投递失败');
    const dead = await text(page, 'article[data-delivery="prov-fragile"]');
    expect(dead).toContain('无法连接');
    expect(await page.locator('article[data-delivery="prov-fragile"] .timeline li[data-event="replayed"]').innerText()).toContain('重放');
  });

  withBrowser('shows the audit trail and the unmatched results', async () => {
    await page.click('#tab-audit');
    await waitForText(page, '#audit-table', '重放死信');
    const audit = await text(page, '#audit-table');
    expect(audit).toContain('暂停系统');
    expect(audit).toContain('网络已恢复');
    expect(audit).toContain(OPERATOR);

    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-audit.png') });
    await page.click('#tab-unmatched');
    await waitForText(page, '#unmatched-table', 'QZ-NO-SUCH-CASE');
    await page.click('#unmatched-table summary');
    await page.screenshot({ path: path.join(os.tmpdir(), 'ow-console-unmatched.png') });
    expect(await text(page, '#unmatched-count')).toBe('1');
  });

  withBrowser('moves between tabs with the keyboard', async () => {
    await page.focus('#tab-unmatched');
    await page.keyboard.press('Home');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('tab-systems');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('tab-dead');
    expect(await page.locator('#panel-dead').isVisible()).toBe(true);
    await page.keyboard.press('ArrowLeft');
    expect(await page.locator('#panel-systems').isVisible()).toBe(true);
    await page.locator('tr[data-system="city-steady"]').waitFor();
    const shot = path.join(os.tmpdir(), 'ow-console-systems.png');
    await page.screenshot({ path: shot });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
  });

  withBrowser('asks for the token again when the API answers 401', async () => {
    await page.evaluate(() => (globalThis as any).sessionStorage.setItem('ow.console.token', 'a-revoked-token'));
    await page.click('#systems-refresh');
    await page.locator('#login').waitFor();
    await waitForText(page, '#login-error', '令牌无效');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('ow.console.token'))).toBeNull();
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  withBrowser('fetched nothing from anywhere but the gateway, failed only where meant to, and raised no script error', async () => {
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
    // The wrong token is refused at whoami (sign-in), the revoked one at a refresh.
    expect([...new Set(failedResponses)].sort()).toEqual(['401 GET /api/v1/admin/systems', '401 GET /api/v1/admin/whoami', '404 GET /api/v1/cases/QZ-DOES-NOT-EXIST']);
  });
});
