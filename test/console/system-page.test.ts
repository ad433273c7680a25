/**
 * The console's system page in a real browser (Debian's Chromium driven by playwright-core) against a
 * real gateway: the configuration in the CodeMirror editor, an invalid edit refused with the error at
 * its line and nothing stored, a valid one saved as the next version with its diff, a dry run of a
 * stored case (and of the unsaved edit), a rollback, the 412 of a stale version, a viewer's
 * read-only page, and the strict CSP holding with the editor's styles.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import { OPERATOR_TOKEN, VIEWER_TOKEN, admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS, replaceEditorText, signIn } from './browser';

jest.setTimeout(120_000);

const withBrowser = browserTest('system page');
/** `OW_SCREENSHOTS=docs npx jest test/console/system-page` refreshes docs/operations.md's screenshot (the whole page, 1280 wide). */
const SHOT = process.env.OW_SCREENSHOTS === 'docs' ? path.resolve(__dirname, '../../docs/console-system.png') : path.join(os.tmpdir(), 'ow-console-system.png');
const SECRET = 'steady-secret-token';

/** The YAML the page shows for a system (the same options as system/yaml-text.ts). */
const yamlOf = (system: unknown): string => YAML.stringify(system, { lineWidth: 0, singleQuote: true });

async function runningSystem(gateway: RunningGateway): Promise<{ version: number; system: Record<string, any> }> {
  const { status, body } = await admin(gateway, 'GET', '/systems/city-steady');
  expect(status).toBe(200);
  return body;
}

describe('the system page of the ops console', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const stored = sampleCase({ itemCode: 'STEADY-1' });
  const pageErrors: string[] = [];

  /** CSP violations and script errors of a page, gathered for the last test. */
  async function watch(p: Page): Promise<void> {
    await p.addInitScript(() => {
      const g = globalThis as any;
      g.__csp = [];
      g.document.addEventListener('securitypolicyviolation', (e: any) => g.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample} ${String(e.target?.outerHTML ?? e.target?.nodeName).slice(0, 200)}`));
    });
    p.on('pageerror', (err) => pageErrors.push(err.message));
    p.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
    });
  }

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } }));
    const dir = writeConfig([restSystem('city-steady', `${legacy.url}/steady`, { name: '衢州市测试系统', auth: { type: 'bearer', token: SECRET } })], { routes: [{ itemCode: '*', targets: ['city-steady'] }] });
    gateway = await startTestGateway(dir);
    expect((await submit(gateway, stored)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, stored.caseId as string)).body.deliveries[0].status).toBe('delivered'));
    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      await watch(page);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  it('serves the bundle and its styles under the console CSP, with nothing from elsewhere', async () => {
    for (const [file, type] of [
      ['system-page.js', 'text/javascript; charset=utf-8'],
      ['system-page.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await fetch(`${gateway.url}/console/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toContain("style-src 'self'");
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe');
      // Offline: no CDN, no font or script fetched from anywhere (the SVG namespace is a name, not a fetch;
      // the new-system templates' 127.0.0.1 endpoints are placeholders ops replace, never fetched by the page).
      expect((await res.text()).replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\/(?!127\.0\.0\.1:9100\/sim\/)/);
    }
  });

  withBrowser('opens from the systems board by the system id, with the configuration in the editor', async () => {
    await page.goto(`${gateway.url}/console`);
    await signIn(page, 'test-ops-admin-token', '值班员 王五');
    await page.click('#systems-table a[data-open-system="city-steady"]');
    await page.locator('#sp-editor .cm-editor').waitFor();
    expect(new URL(page.url()).hash).toBe('#system/city-steady');
    expect(await page.locator('#panel-systems').isHidden()).toBe(true);
    expect(await page.locator('#sp-version').innerText()).toBe('版本 v1');
    expect(await page.locator('#sp-source').innerText()).toBe('来源：配置文件');
    expect(await page.locator('#sp-name').innerText()).toBe('衢州市测试系统');
    // YAML highlighted by CodeMirror, and the JSONata inside the strings marked as JSONata.
    expect(await page.locator('#sp-editor .cm-line').filter({ hasText: 'endpoint:' }).count()).toBe(1);
    expect(await page.locator('#sp-editor .cm-jsonata').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#sp-editor .cm-jsonata-string').count()).toBeGreaterThan(0);
    // The secret is shown redacted, never as it is.
    expect(await page.locator('#sp-editor .cm-content').innerText()).toContain('[redacted]');
    expect(await page.content()).not.toContain(SECRET);
    expect(await page.locator('#sp-history tbody tr').count()).toBe(1);
    // CodeMirror's own styles apply (constructed style sheets in its shadow root), and system-page.css too.
    expect(await page.locator('#sp-editor .cm-editor').evaluate((el: any) => (globalThis as any).getComputedStyle(el).display)).toBe('flex');
    expect(await page.locator('#sp-editor .cm-jsonata').first().evaluate((el: any) => (globalThis as any).getComputedStyle(el).backgroundColor)).toBe('rgb(243, 246, 251)');

    // Back to the board, and in again by the deep link.
    await page.click('#panel-system .sp-back');
    await page.locator('#panel-systems').waitFor();
    expect(await page.locator('#panel-system').isHidden()).toBe(true);
    await page.goto(`${gateway.url}/console#system/city-steady`);
    await page.locator('#sp-editor .cm-editor').waitFor();
  });

  withBrowser('refuses an invalid mapping with the error at its line and stores nothing; then saves the fix as v2 with its diff', async () => {
    const before = await runningSystem(gateway);
    const broken = { ...before.system, timeoutMs: 4321, response: { ...before.system.response, success: 'code = ' } };
    const text = yamlOf(broken);
    await replaceEditorText(page, '#sp-editor', text);
    expect(await page.locator('#sp-dirty').innerText()).toBe('有未保存的修改');
    await page.click('#sp-save');

    const item = page.locator('#sp-errors li[data-path="response.success"]');
    await item.waitFor();
    const line = text.split('\n').findIndex((l) => l.trimStart().startsWith('success:')) + 1;
    expect(await item.innerText()).toContain(`第 ${line} 行`);
    expect(await item.innerText()).toContain('JSONata 表达式无效'); // the gateway's detail, in the page's language
    expect(await page.locator('#sp-notice [data-notice="error"]').innerText()).toContain('未保存');
    // Inline: the error underlined in the line of response.success, with a marker in the lint gutter.
    await page.locator('#sp-editor .cm-line', { hasText: 'success:' }).locator('.cm-lintRange-error').first().waitFor();
    expect(await page.locator('#sp-editor .cm-lint-marker-error').count()).toBeGreaterThan(0);
    expect((await runningSystem(gateway)).version).toBe(1);

    const fixed = { ...broken, response: { ...before.system.response, success: 'code = "0"' } };
    await replaceEditorText(page, '#sp-editor', yamlOf(fixed));
    await page.keyboard.press('Control+S'); // the editor's save key, as the button
    await page.locator('#sp-notice [data-notice="ok"]').waitFor();
    expect(await page.locator('#sp-notice').innerText()).toContain('v2');
    expect(await page.locator('#sp-version').innerText()).toBe('版本 v2');
    expect(await page.locator('#sp-source').innerText()).toBe('来源：管理接口');
    expect(await page.locator('#sp-errors li').count()).toBe(0);
    const now = await runningSystem(gateway);
    expect(now.version).toBe(2);
    expect(now.system.timeoutMs).toBe(4321);
    // The diff of what this save changed: v1 on the left, v2 on the right, the changed line marked.
    expect(await page.locator('#sp-diff-title').innerText()).toContain('v1');
    await page.locator('#sp-diff .cm-mergeView .cm-changedLine').first().waitFor();
    expect(await page.locator('#sp-diff .cm-merge-b .cm-changedLine').filter({ hasText: '4321' }).count()).toBe(1);
    expect(await page.locator('#sp-history tbody tr').count()).toBe(2);
    expect(await page.locator('#sp-history tbody tr[data-version="2"]').innerText()).toContain('值班员 王五');
    expect(await page.locator('#sp-history tbody tr[data-version="2"]').innerText()).toContain('修改了 timeoutMs');
    expect(await page.locator('#sp-history tbody tr[data-version="1"]').innerText()).toContain('配置文件');
  });

  withBrowser('dry-runs a stored case by id, and the unsaved edit, without sending or storing anything', async () => {
    const sentBefore = legacy.received.length;
    const api = await admin(gateway, 'POST', '/systems/city-steady/dry-run', { caseId: stored.caseId });
    await page.fill('#sp-dry-case', stored.caseId as string);
    await page.fill('#sp-dry-reply', JSON.stringify({ code: '0', data: { slbh: 'SL-DRY' } }));
    await page.click('#sp-dry-run');
    await page.locator('#sp-dry-body').waitFor();
    expect(await page.locator('#sp-dry-endpoint').innerText()).toBe(`POST ${legacy.url}/steady`);
    expect(JSON.parse(await page.locator('#sp-dry-body').innerText())).toMatchObject({ bizNo: stored.caseId, sqrxm: '张三' });
    expect(await page.locator('#sp-dry-charset').innerText()).toContain('utf-8');
    const headers = await page.locator('table.sp-headers').innerText();
    expect(headers).toContain('Bearer [redacted]');
    expect(headers).toContain(`${stored.caseId as string}:city-steady`);
    const seal = Object.entries(api.body.request.headers as Record<string, string>).find(([name]) => name.toLowerCase() === 'x-ow-seal');
    // SM2 signatures differ run to run; the digest of the same bytes, the purpose and the key do not.
    if (seal) {
      const shown = JSON.parse(await page.locator('#sp-dry-seal').innerText()) as Record<string, unknown>;
      const made = JSON.parse(Buffer.from(seal[1], 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(shown).toMatchObject({ digest: made.digest, purpose: made.purpose, keyId: made.keyId, caseId: stored.caseId, systemId: 'city-steady' });
      // A preview, and the page says so: a dry run's seal is not signed and never verifies.
      expect(shown).toMatchObject({ keyId: 'preview:dry-run', signature: '' });
      expect(await page.locator('#sp-dry-seal-preview').innerText()).toContain('永远无效');
    }
    // The seal is made over the bytes when they are sent: the dry run says the system's seal is on.
    else expect(await page.locator('#sp-dry-seal').getAttribute('data-sealed')).toBe('true');
    const reply = await page.locator('#sp-dry-reply-result').innerText();
    expect(reply).toContain('SL-DRY');
    expect(reply).toContain('是');
    expect(await page.locator('#sp-dry-result').innerText()).toContain('运行版本 v2');
    // Masked as everywhere ops look; the secret never reaches the page.
    expect(await page.locator('#sp-dry-result').innerText()).not.toContain('330802199001011234');
    expect(await page.content()).not.toContain(SECRET);
    // docs/operations.md's screenshot: the sign-in toast gone, the page as ops see it after a save and a dry run.
    await page.evaluate(() => (globalThis as any).document.querySelectorAll('#messages .message').forEach((m: any) => m.remove()));
    await page.screenshot({ path: SHOT, fullPage: true });
    expect(fs.statSync(SHOT).size).toBeGreaterThan(20_000);

    // The same case against the edit in the editor, not saved.
    const current = await runningSystem(gateway);
    await replaceEditorText(page, '#sp-editor', yamlOf({ ...current.system, request: { body: '{"ywh": caseId, "draft": "proposed"}' } }));
    await page.click('#sp-dry-run');
    await eventually(async () => expect(await page.locator('#sp-dry-result').innerText()).toContain('编辑中的配置'));
    expect(JSON.parse(await page.locator('#sp-dry-body').innerText())).toEqual({ ywh: stored.caseId, draft: 'proposed' });
    expect((await runningSystem(gateway)).version).toBe(2);
    await page.click('#sp-revert');
    expect(await page.locator('#sp-dirty').innerText()).toBe('与运行版本一致');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(legacy.received.length).toBe(sentBefore);
  });

  withBrowser('views an old version against the running one and rolls back to it as v3', async () => {
    await page.click('button[aria-label="查看版本 v1"]');
    await eventually(async () => expect(await page.locator('#sp-diff-title').innerText()).toContain('历史版本 v1'));
    await page.click('button[aria-label="回滚到版本 v1"]');
    await page.fill('#sp-confirm-reason', '超时改回');
    await page.click('#sp-confirm-ok');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v3'));
    expect(await page.locator('#sp-notice').innerText()).toContain('v1');
    const now = await runningSystem(gateway);
    expect(now.version).toBe(3);
    expect(now.system.timeoutMs).toBe(2000);
    expect(await page.locator('#sp-history tbody tr[data-version="3"]').innerText()).toContain('超时改回');
    expect(await page.locator('#sp-history tbody tr[data-version="3"]').innerText()).toContain('回滚到版本 v1：修改了 timeoutMs');
    expect(await page.locator('#sp-editor .cm-content').innerText()).toContain('timeoutMs: 2000');
  });

  withBrowser('says so when someone else saved meanwhile (412) and reloads the latest on request', async () => {
    const current = await runningSystem(gateway);
    const other = await admin(gateway, 'PUT', '/systems/city-steady', { ...current.system, name: '衢州市测试系统（他人修改）' }, { 'If-Match': '"3"' });
    expect(other.status).toBe(200);
    await replaceEditorText(page, '#sp-editor', yamlOf({ ...current.system, timeoutMs: 5555 }));
    await page.click('#sp-save');
    const notice = page.locator('#sp-notice [data-notice="error"]');
    await notice.waitFor();
    expect(await notice.innerText()).toContain('v4');
    expect(await notice.innerText()).toContain('值班员 李四'); // who was faster (the harness's operator name)
    expect((await runningSystem(gateway)).system.timeoutMs).toBe(2000);
    await page.click('#sp-notice button[data-action="reloadLatest"]');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v4'));
    expect(await page.locator('#sp-editor .cm-content').innerText()).toContain('他人修改');
    expect(await page.locator('#sp-dirty').innerText()).toBe('与运行版本一致');

    // Once more, keeping the edit this time: compared with the latest, then saved on top of it.
    const latest = await runningSystem(gateway);
    expect((await admin(gateway, 'PUT', '/systems/city-steady', { ...latest.system, timeoutMs: 3000 }, { 'If-Match': '"4"' })).status).toBe(200);
    await replaceEditorText(page, '#sp-editor', yamlOf({ ...latest.system, timeoutMs: 5555 }));
    await page.click('#sp-save');
    await page.locator('#sp-notice [data-notice="error"]').waitFor();
    await page.click('#sp-notice button[data-action="keepMine"]');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v5'));
    expect(await page.locator('#sp-dirty').innerText()).toBe('有未保存的修改');
    await eventually(async () => expect(await page.locator('#sp-diff .cm-merge-a .cm-changedLine').filter({ hasText: '3000' }).count()).toBe(1));
    await page.click('#sp-save');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v6'));
    expect((await runningSystem(gateway)).system.timeoutMs).toBe(5555);
  });

  withBrowser('resets to the file as a new version with source file', async () => {
    await page.click('#sp-reset');
    await page.click('#sp-confirm-ok');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v7'));
    expect(await page.locator('#sp-source').innerText()).toBe('来源：配置文件');
    const now = await runningSystem(gateway);
    expect(now).toMatchObject({ version: 7, source: 'file' });
    expect(now.system).toMatchObject({ name: '衢州市测试系统', timeoutMs: 2000 });
  });

  withBrowser('follows the console language (ow:lang) and leaves when another tab is chosen', async () => {
    await page.evaluate(() => {
      const d = (globalThis as any).document;
      d.documentElement.lang = 'en';
      d.dispatchEvent(new Event('ow:lang'));
    });
    expect(await page.locator('#sp-save').innerText()).toBe('Save');
    expect(await page.locator('#sp-version').innerText()).toBe('version v7');
    expect(await page.locator('#sp-history thead').innerText()).toContain('Version');
    await page.evaluate(() => {
      const d = (globalThis as any).document;
      d.documentElement.lang = 'zh-CN';
      d.dispatchEvent(new Event('ow:lang'));
    });
    expect(await page.locator('#sp-save').innerText()).toBe('保存');
    await page.click('#tab-audit');
    await page.locator('#panel-audit').waitFor();
    await eventually(async () => expect(await page.locator('#panel-system').isHidden()).toBe(true));
    expect(new URL(page.url()).hash).toBe('');
  });

  withBrowser('keeps unsaved edits when another tab is chosen, and gives them back on return', async () => {
    await page.click('#tab-systems');
    await page.click('#systems-table a[data-open-system="city-steady"]');
    await page.locator('#sp-editor .cm-editor').waitFor();
    await page.click('#sp-editor .cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('\n# 值班备注：稍后再改');
    expect(await page.locator('#sp-dirty').innerText()).toBe('有未保存的修改');
    await page.click('#tab-audit');
    await eventually(async () => expect(await page.locator('#panel-system').isHidden()).toBe(true));
    await page.click('#tab-systems');
    await page.click('#systems-table a[data-open-system="city-steady"]');
    await page.locator('#sp-editor .cm-editor').waitFor();
    await eventually(async () => expect(await page.locator('#sp-editor .cm-content').innerText()).toContain('值班备注：稍后再改'));
    expect(await page.locator('#sp-notice').innerText()).toContain('已恢复');
    expect(await page.locator('#sp-dirty').innerText()).toBe('有未保存的修改');
    await page.click('#sp-revert');
    expect(await page.locator('#sp-dirty').innerText()).toBe('与运行版本一致');
    expect((await runningSystem(gateway)).version).toBe(7); // nothing was saved on the way
  });

  withBrowser('shows a viewer the page read-only, and an operator no save, rollback or reset', async () => {
    for (const [token, role] of [
      [VIEWER_TOKEN, 'viewer'],
      [OPERATOR_TOKEN, 'operator'],
    ] as const) {
      const other = await browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
      const p = await other.newPage();
      await watch(p);
      // A deep link before sign-in opens once signed in.
      await p.goto(`${gateway.url}/console#system/city-steady`);
      await signIn(p, token, `值班员 ${role}`);
      await p.locator('#sp-editor .cm-editor').waitFor();
      await p.locator('#sp-history tbody tr[data-version="4"]').waitFor();
      for (const selector of ['#sp-save', '#sp-reset', 'button[aria-label^="回滚到版本"]']) expect(await p.locator(selector).count()).toBe(0);
      if (role === 'viewer') {
        expect(await p.locator('#sp-pause, #sp-dry-form, #sp-revert').count()).toBe(0);
        expect(await p.locator('#sp-editor .cm-content').getAttribute('contenteditable')).toBe('false');
        expect(await p.locator('#panel-system').innerText()).toContain('只读');
      } else {
        expect(await p.locator('#sp-dry-form').count()).toBe(1);
        expect(await p.locator('#sp-editor .cm-content').getAttribute('contenteditable')).toBe('true');
        // An operator pauses and resumes the system from its page.
        await p.click('#sp-pause');
        await p.fill('#sp-confirm-reason', '系统升级');
        await p.click('#sp-confirm-ok');
        await eventually(async () => expect(await p.locator('#sp-paused').innerText()).toBe('已暂停'));
        expect((await admin(gateway, 'GET', '/systems')).body.find((s: any) => s.id === 'city-steady').paused).toBe(true);
        expect(await p.locator('#sp-pause').innerText()).toBe('恢复');
        await p.click('#sp-pause');
        await p.click('#sp-confirm-ok');
        await eventually(async () => expect(await p.locator('#sp-paused').innerText()).toBe('运行中'));
        expect((await admin(gateway, 'GET', '/systems')).body.find((s: any) => s.id === 'city-steady').paused).toBe(false);
      }
      expect(await p.evaluate(() => (globalThis as any).__csp)).toEqual([]);
      await other.close();
    }
  });

  withBrowser('kept to the CSP (the editor styles itself without unsafe-inline) and raised no script error', async () => {
    expect(await page.evaluate(() => (globalThis as any).__csp)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
