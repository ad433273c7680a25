/**
 * A dry run on the system page of a system that takes materials, in a real browser (Debian's
 * Chromium driven by playwright-core) against a real gateway: the materials the case carries are
 * listed with their kind, name, size and digest, how each would be handed over and that a dry run
 * fetched none of them, in Chinese and in English; never a URI, and nothing asked of the store.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import { SAMPLE_CASE } from '../../src/config/sample-case';
import { startMaterialStore } from '../../sim/materials';
import { legacyServer, replyJson, restSystem, startTestGateway, writeConfig, type LegacyServer } from '../support/harness';
import { tempDir } from '../seal/helpers';
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from './browser';

jest.setTimeout(90_000);

const withBrowser = browserTest('dry-run materials');

describe('the system page dry-runs a system that takes materials', () => {
  let store: Awaited<ReturnType<typeof startMaterialStore>>;
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const material = SAMPLE_CASE.materials[0]!;

  beforeAll(async () => {
    store = await startMaterialStore();
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', data: { slbh: `SL${n}` } }));
    const dir = writeConfig(
      [restSystem('city-inline', `${legacy.url}/inline`, { name: '内嵌材料的系统', materials: { mode: 'inline', field: '/fj' } })],
      { routes: [{ itemCode: '*', targets: ['city-inline'] }] },
      { materials: { stores: { intake: { baseUrl: `${store.url}/` } } } },
    );
    gateway = await startTestGateway(dir, { dataDir: tempDir('console-dry-materials') });
    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
      });
      page.on('request', (req) => {
        if (!req.url().startsWith(`${gateway.url}/`) && !req.url().startsWith('data:')) pageErrors.push(`off origin: ${req.url()}`);
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
    await store?.close();
  });

  async function dryRunSample(): Promise<void> {
    await page.fill('#sp-dry-case', '');
    await page.click('#sp-dry-run');
    await page.locator('#sp-dry-materials tbody tr').waitFor();
  }

  withBrowser('lists the sample case’s material: kind, name, size, digest, handed over inline at its field, not fetched', async () => {
    await page.goto(`${gateway.url}/console#system/city-inline`);
    await page.fill('#login-token', 'test-ops-admin-token');
    await page.fill('#login-name', '值班员 王五');
    await page.click('#login-form button[type=submit]');
    await page.locator('#sp-editor .cm-editor').waitFor();
    await dryRunSample();

    const cells = await page.locator('#sp-dry-materials tbody tr').first().locator('td').allInnerTexts();
    expect(cells).toEqual([material.kind, material.name, String(material.size), `${material.sha256!.slice(0, 12)}…`, '内嵌 base64，位于 /fj', '尚未获取（试运行不获取，投递时获取）']);
    expect(await page.locator('#sp-dry-materials tbody tr').count()).toBe(1);
    expect(await page.locator('#sp-dry-result').innerText()).toContain('材料（只列大小与摘要，不含内容）');
    // Never a material's URI; and the dry run asked the store for nothing.
    expect(await page.locator('#sp-dry-result').innerText()).not.toContain('store://');
    expect(store.store.fetches('sample/id-card.pdf')).toBe(0);
  });

  withBrowser('says the same in English once the language changes', async () => {
    await page.click('#lang-toggle');
    await page.locator('#sp-dry-materials thead th', { hasText: 'handed over' }).waitFor();
    expect(await page.locator('#sp-dry-materials tbody td').nth(4).innerText()).toBe('base64 in the body at /fj');
    expect(await page.locator('#sp-dry-materials tbody td').nth(5).innerText()).toBe('not fetched yet (a dry run fetches nothing; a delivery would)');
    await page.click('#lang-toggle');
  });

  withBrowser('raised no script error and fetched nothing from elsewhere', () => {
    expect(pageErrors).toEqual([]);
  });
});
