/**
 * Adding a system and editing the routes from the ops console, in a real browser (Debian's Chromium
 * driven by playwright-core) against a real gateway: the board's "add a system" (admin only) starts
 * from a template per protocol in the configuration editor, refuses an invalid one with its errors
 * at their lines and adds nothing, adds a valid one (its page opens at version 1) and never replaces
 * a system that exists; the routes tab shows the routing table with its version, an admin saves it
 * with If-Match (errors at their lines, a newer version saved meanwhile reloaded on request), views
 * and rolls back versions, and a viewer only reads it. Nothing breaks the console's CSP.
 */
import YAML from 'yaml';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import { TEMPLATES } from '../../src/admin/console/system/templates';
import { VIEWER_TOKEN, admin, caseView, eventually, legacyServer, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer } from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS, replaceEditorText, signIn } from './browser';

jest.setTimeout(120_000);

const withBrowser = browserTest('add a system and edit routes');

/** The REST template as an admin would finish it: its own id, the legacy system's address. */
function finished(id: string, endpoint: string, name = '衢州市控制台新增系统'): string {
  const raw = YAML.parse(TEMPLATES.rest) as Record<string, unknown>;
  return YAML.stringify({ ...raw, id, name, endpoint }, { lineWidth: 0 });
}

describe('adding a system and editing the routes in the ops console', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((_req, n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL${n}` } }));
    const dir = writeConfig([restSystem('city-steady', `${legacy.url}/steady`)], { routes: [{ itemCode: 'S-*', targets: ['city-steady'] }] });
    gateway = await startTestGateway(dir);
    if (CHROMIUM) {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      page = await context.newPage();
      // A CSP violation is said on the console, where the errors are gathered.
      await page.addInitScript(() => {
        const g = globalThis as any;
        g.document.addEventListener('securitypolicyviolation', (e: any) => g.console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  withBrowser('an admin adds a system from the REST template: an invalid one is refused at its lines and nothing is added; a valid one opens at version 1 and takes cases', async () => {
    await page.goto(`${gateway.url}/console`);
    await signIn(page, 'test-ops-admin-token', '值班员 王五');
    await page.locator('#app').waitFor();
    await page.click('#systems-add');
    await page.locator('#ns-editor .cm-editor').waitFor();
    expect(new URL(page.url()).hash).toBe('#new-system');
    expect(await page.locator('#panel-systems').isHidden()).toBe(true);
    expect(await page.locator('#tab-systems').getAttribute('aria-selected')).toBe('true');
    // A template per protocol, in the editor.
    expect(await page.locator('#ns-editor .cm-content').innerText()).toContain('protocol: rest');
    await page.selectOption('#ns-protocol', 'soap');
    await eventually(async () => expect(await page.locator('#ns-editor .cm-content').innerText()).toContain('protocol: soap'));
    expect(await page.locator('#ns-editor .cm-content').innerText()).toContain('wsdl:');
    await page.selectOption('#ns-protocol', 'xml');
    await eventually(async () => expect(await page.locator('#ns-editor .cm-content').innerText()).toContain('charset: gbk'));
    await page.selectOption('#ns-protocol', 'rest');

    const broken = finished('city-console-new', 'not a url').replace('success: code = "0"', 'success: "code = "');
    await replaceEditorText(page, '#ns-editor', broken);
    await page.click('#ns-create');
    await page.locator('#ns-errors li[data-path="endpoint"]').waitFor();
    expect(await page.locator('#ns-errors li[data-path="response.success"]').innerText()).toContain('JSONata 表达式无效');
    expect(await page.locator('#ns-notice [data-notice="error"]').innerText()).toContain('未新增');
    expect((await admin(gateway, 'GET', '/systems/city-console-new')).status).toBe(404);

    await replaceEditorText(page, '#ns-editor', finished('city-console-new', `${legacy.url}/console-new`));
    await page.click('#ns-create');
    await page.locator('#sp-editor .cm-editor').waitFor();
    expect(new URL(page.url()).hash).toBe('#system/city-console-new');
    await eventually(async () => expect(await page.locator('#sp-version').innerText()).toBe('版本 v1'));
    expect(await page.locator('#sp-source').innerText()).toBe('来源：管理接口');
    expect(await page.locator('#sp-notice [data-notice="ok"]').innerText()).toContain('已新增系统 city-console-new');
    expect(await page.locator('#sp-history tbody tr[data-version="1"]').innerText()).toContain('新增');
    expect((await admin(gateway, 'GET', '/systems/city-console-new')).body).toMatchObject({ version: 1, source: 'api', system: { name: '衢州市控制台新增系统' } });
    const c = sampleCase({ itemCode: 'S-1', targets: ['city-console-new'] });
    expect((await submit(gateway, c)).status).toBe(202);
    await eventually(async () => expect((await caseView(gateway, c.caseId as string)).body.deliveries[0].status).toBe('delivered'));

    // On the board, and adding the same id again replaces nothing.
    await page.click('#panel-system .sp-back');
    await page.locator('#systems-table tr[data-system="city-console-new"]').waitFor();
    await page.click('#systems-add');
    await page.locator('#ns-editor .cm-editor').waitFor();
    await replaceEditorText(page, '#ns-editor', finished('city-console-new', `${legacy.url}/elsewhere`, '另一个系统'));
    await page.click('#ns-create');
    await page.locator('#ns-notice [data-notice="error"]').waitFor();
    expect(await page.locator('#ns-notice').innerText()).toContain('已有 ID 为 city-console-new 的业务系统');
    expect((await admin(gateway, 'GET', '/systems/city-console-new')).body).toMatchObject({ version: 1, system: { name: '衢州市控制台新增系统' } });
    await page.click('#ns-notice button[data-action="openExisting"]');
    await eventually(async () => expect(await page.locator('#sp-id').innerText()).toBe('city-console-new'));
    expect(await page.locator('#panel-new-system').isHidden()).toBe(true);
  });

  withBrowser('an admin edits the routes with their version: an unknown target is refused at its line, a valid table is saved as v2 and routes cases', async () => {
    await page.click('#tab-routes');
    await page.locator('#rt-editor .cm-editor').waitFor();
    await eventually(async () => expect(await page.locator('#rt-version').innerText()).toBe('版本 v1'));
    expect(await page.locator('#rt-source').innerText()).toBe('来源：配置文件');
    expect(await page.locator('#rt-editor .cm-content').innerText()).toContain("itemCode: S-*");

    const table = (extra: Array<{ itemCode: string; targets: string[] }>) => YAML.stringify({ routes: [{ itemCode: 'S-*', targets: ['city-steady'] }, ...extra] });
    const unknown = table([{ itemCode: 'N-*', targets: ['city-nowhere'] }]);
    await replaceEditorText(page, '#rt-editor', unknown);
    await page.click('#rt-save');
    const item = page.locator('#rt-errors li[data-path="routes[1].targets[0]"]');
    await item.waitFor();
    expect(await item.innerText()).toContain('未知业务系统 "city-nowhere"');
    expect((await admin(gateway, 'GET', '/routes')).body.version).toBe(1);

    await replaceEditorText(page, '#rt-editor', table([{ itemCode: 'N-*', targets: ['city-console-new'] }]));
    await page.click('#rt-save');
    await eventually(async () => expect(await page.locator('#rt-version').innerText()).toBe('版本 v2'));
    expect(await page.locator('#rt-notice [data-notice="ok"]').innerText()).toContain('路由版本 v2');
    expect(await page.locator('#rt-source').innerText()).toBe('来源：管理接口');
    expect(await page.locator('#rt-errors li').count()).toBe(0);
    expect(await page.locator('#rt-history tbody tr[data-version="2"]').innerText()).toContain('值班员 王五');
    const routed = sampleCase({ itemCode: 'N-1' });
    const accepted = await submit(gateway, routed);
    expect(accepted.body.deliveries).toEqual([{ systemId: 'city-console-new', status: 'queued' }]);
  });

  withBrowser('says so when someone else saved the routes meanwhile (412), reloads the latest, and rolls back to v1', async () => {
    const current = (await admin(gateway, 'GET', '/routes')).body;
    expect((await admin(gateway, 'PUT', '/routes', { ...current, routes: [...current.routes, { itemCode: 'O-*', targets: ['city-steady'] }] }, { 'If-Match': '"2"' })).status).toBe(200);
    await replaceEditorText(page, '#rt-editor', YAML.stringify({ routes: [{ itemCode: 'S-*', targets: ['city-steady', 'city-console-new'] }] }));
    await page.click('#rt-save');
    const notice = page.locator('#rt-notice [data-notice="error"]');
    await notice.waitFor();
    expect(await notice.innerText()).toContain('v3');
    expect(await notice.innerText()).toContain('值班员 李四');
    expect((await admin(gateway, 'GET', '/routes')).body.version).toBe(3);
    await page.click('#rt-notice button[data-action="reloadLatest"]');
    await eventually(async () => expect(await page.locator('#rt-version').innerText()).toBe('版本 v3'));
    expect(await page.locator('#rt-editor .cm-content').innerText()).toContain('O-*');

    await page.click('#rt-history button[aria-label="查看版本 v1"]');
    await eventually(async () => expect(await page.locator('#rt-diff-title').innerText()).toContain('历史版本 v1'));
    await page.click('#rt-history button[aria-label="回滚到版本 v1"]');
    await page.fill('#rt-confirm-reason', '撤回新路由');
    await page.click('#rt-confirm-ok');
    await eventually(async () => expect(await page.locator('#rt-version').innerText()).toBe('版本 v4'));
    expect(await page.locator('#rt-history tbody tr[data-version="4"]').innerText()).toContain('撤回新路由');
    expect((await admin(gateway, 'GET', '/routes')).body).toMatchObject({ version: 4, routes: [{ itemCode: 'S-*', targets: ['city-steady'] }] });
    expect((await submit(gateway, sampleCase({ itemCode: 'N-2' }))).status).toBe(422);
  });

  withBrowser('a viewer reads the routes and cannot add a system', async () => {
    const viewer = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const p = await viewer.newPage();
    await p.goto(`${gateway.url}/console`);
    await signIn(p, VIEWER_TOKEN, '值班员 赵六');
    await p.locator('#app').waitFor();
    expect(await p.locator('#systems-add').isHidden()).toBe(true);
    await p.click('#tab-routes');
    await p.locator('#rt-editor .cm-editor').waitFor();
    await eventually(async () => expect(await p.locator('#rt-version').innerText()).toBe('版本 v4'));
    expect(await p.locator('#rt-save').count()).toBe(0);
    expect(await p.locator('#rt-read-only').innerText()).toContain('只读');
    expect(await p.locator('#rt-history button[aria-label="回滚到版本 v1"]').count()).toBe(0);
    expect(await p.locator('#rt-editor .cm-content').getAttribute('contenteditable')).toBe('false');
    await p.goto(`${gateway.url}/console#new-system`);
    await p.locator('#ns-admin-only').waitFor();
    expect(await p.locator('#ns-editor').count()).toBe(0);
    await viewer.close();
    // The admin's page, through everything above: no script error, nothing the CSP refused.
    expect(pageErrors).toEqual([]);
  });
});
