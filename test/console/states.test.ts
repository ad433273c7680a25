/**
 * What the console says about a system's and a delivery's state, in a real browser (Debian's Chromium
 * via playwright-core) against a real gateway: the system page's badge says an open circuit, the
 * highlighted tab follows a deep link, the header stays in view, times are Beijing time with the
 * zone said in English (the ISO instant on hover, never raw UTC), a delivered case shows no stale
 * error, and a result reads as labelled fields, not JSON.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import { admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from './browser';
import { freePort } from '../../src/platform/redis';

jest.setTimeout(120_000);

const withBrowser = browserTest('console states');
const RESULT_TOKEN = 'states-result-token';

describe('the console shows states as they are', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  const recovered = sampleCase({ itemCode: 'ONCE-1' });
  const broken = sampleCase({ itemCode: 'DOWN-1' });
  const held = sampleCase({ itemCode: 'NIGHT-1' });
  // Open one weekday only, three days from today: closed all through the test.
  const openDay = ((new Date(Date.now() + 8 * 3600_000).getUTCDay() + 3) % 7) || 7;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // The first attempt at city-once fails (503), the retry is taken.
    legacy = await legacyServer((req, n, res) => {
      if (n === 1) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('系统维护中');
        return;
      }
      replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } });
    });
    const dir = writeConfig(
      [
        restSystem('city-once', `${legacy.url}/once`, {
          retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } },
          circuitBreaker: { failureThreshold: 100, cooldownMs: 1000 },
          result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj, "decidedAt": sj, "documents": wj}', inboundToken: RESULT_TOKEN },
        }),
        restSystem('prov-down', `http://127.0.0.1:${await freePort()}/cases`, {
          name: '省级不可达系统',
          level: 'provincial',
          retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } },
          circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 },
        }),
        restSystem('city-night', `${legacy.url}/night`, { name: '夜间系统', window: { days: [openDay], hours: ['08:00-09:00'] } }),
      ],
      { routes: [{ itemCode: 'NIGHT-*', targets: ['city-night'] }, { itemCode: 'DOWN-*', targets: ['prov-down'] }, { itemCode: '*', targets: ['city-once'] }] },
    );
    gateway = await startTestGateway(dir);
    expect((await submit(gateway, recovered)).status).toBe(202);
    expect((await submit(gateway, broken)).status).toBe(202);
    await eventually(async () => {
      expect((await caseView(gateway, recovered.caseId as string)).body.deliveries[0].status).toBe('delivered');
      expect((await caseView(gateway, broken.caseId as string)).body.deliveries[0].status).toBe('dead');
      const { body } = await admin(gateway, 'GET', '/systems');
      expect(body.find((s: { id: string }) => s.id === 'prov-down').circuit.state).toBe('open');
    });
    // A case for a system outside its window waits; its timeline says until when (in the gateway's words, an ISO instant).
    expect((await submit(gateway, held)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, held.caseId as string)).body.deliveries[0].history.map((e: { event: string }) => e.event)).toContain('waiting'));
    const pushed = await pushResult(gateway, 'city-once', { ywh: recovered.caseId, yj: '材料齐全，准予办理', sj: '2026-11-28T10:15:00+08:00', wj: [{ name: '准予许可决定书', url: 'https://docs.example/d/1' }] }, RESULT_TOKEN);
    expect(pushed.status).toBeLessThan(300);
    await eventually(async () => expect((await caseView(gateway, recovered.caseId as string)).body.deliveries[0].status).toBe('completed'));

    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 420 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(`${gateway.url}/console`);
      await page.fill('#login-token', 'test-ops-admin-token');
      await page.fill('#login-name', '值班员 王五');
      await page.click('#login-form button[type=submit]');
      await page.locator('#systems-table tbody tr[data-system="prov-down"]').waitFor();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  withBrowser('keeps the header in view when the page scrolls after sign-in', async () => {
    const scrolled = await page.evaluate(() => {
      const g = globalThis as any;
      g.scrollTo(0, g.document.documentElement.scrollHeight);
      return g.scrollY;
    });
    expect(scrolled).toBeGreaterThan(0);
    const top = await page.locator('header.top').evaluate((el: any) => el.getBoundingClientRect().top);
    expect(top).toBe(0);
    expect(await page.locator('#sign-out').isVisible()).toBe(true);
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
  });

  withBrowser('says the circuit is open on the system page, and highlights the systems tab whichever tab it was opened from', async () => {
    await page.click('#tab-dead');
    expect(await page.locator('#tab-dead').getAttribute('aria-selected')).toBe('true');
    await page.evaluate(() => {
      (globalThis as any).location.hash = '#system/prov-down';
    });
    await page.locator('#sp-paused').waitFor();
    expect(await page.locator('#sp-paused').innerText()).toContain('熔断');
    expect(await page.locator('#sp-paused').getAttribute('class')).toContain('bad');
    expect(await page.locator('#tab-dead').getAttribute('aria-selected')).toBe('false');
    expect(await page.locator('#tab-systems').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#app [role="tab"][aria-selected="true"]').count()).toBe(1);
    await page.click('#panel-system .sp-back');
    await page.locator('#panel-systems').waitFor();
  });

  withBrowser('shows a decided delivery without its old error, and its result as labelled fields', async () => {
    await page.click('#tab-case');
    await page.fill('#case-id', recovered.caseId as string);
    await page.click('#case-form button[type=submit]');
    const card = page.locator('article[data-delivery="city-once"]');
    await card.locator('.timeline li[data-event="result"]').waitFor();
    expect(await card.locator('[data-field="last-error"]').count()).toBe(0);
    expect(await card.innerText()).not.toContain('最后错误');
    // The failed first attempt stays in the timeline, as history.
    expect(await card.locator('.timeline').innerText()).toContain('503');

    for (const where of ['dl > dd .result-fields', '.timeline li[data-event="result"] .result-fields']) {
      const fields = card.locator(where).first();
      expect(await fields.locator('[data-field="outcome"]').innerText()).toBe('准予');
      expect(await fields.locator('[data-field="message"]').innerText()).toContain('材料齐全，准予办理');
      expect(await fields.locator('[data-field="decided-at"]').innerText()).toBe('2026-11-28 10:15:00');
      expect(await fields.locator('[data-field="documents"]').innerText()).toContain('准予许可决定书');
    }
    expect(await card.innerText()).not.toMatch(/[{}]|"outcome"/);
  });

  withBrowser('in English, every time is Beijing time with its zone, the ISO instant on hover; no raw UTC', async () => {
    await page.click('#lang-toggle');
    await page.click('#tab-case');
    await page.fill('#case-id', held.caseId as string);
    await page.click('#case-form button[type=submit]');
    const card = page.locator('article[data-delivery="city-night"]');
    await card.locator('.timeline li[data-event="waiting"]').waitFor();
    const text = await card.innerText();
    expect(text).toContain('outside the maintenance window; opens at');
    expect(text).not.toMatch(/\d{2}T\d{2}:\d{2}/);
    const times = await card.locator('time').evaluateAll((els: any[]) => els.map((el) => ({ text: el.textContent, title: el.getAttribute('title'), datetime: el.getAttribute('datetime') })));
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (const t of times) {
      expect(t.text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+8$/);
      expect(t.title).toBe(t.datetime);
      expect(t.title).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
    await page.click('#lang-toggle');
  });

  withBrowser('raised no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
