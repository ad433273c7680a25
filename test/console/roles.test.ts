/**
 * The ops console per role, in a real browser (Debian's Chromium driven by playwright-core) against a
 * real gateway: after sign-in it asks GET /api/v1/admin/whoami, shows the role, and builds no
 * control the role may not use. A viewer sees no pause, resume, replay, discard or rematch button and
 * ID numbers masked; an operator can pause a system (still masked); an admin sees full case data.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/gateway';
import {
  INTAKE_TOKEN, OPERATOR_TOKEN, OPS_TOKEN, VIEWER_TOKEN, admin, caseView, eventually, legacyServer, pushResult, replyJson, restSystem, sampleCase, startTestGateway, submit, writeConfig, type LegacyServer,
} from '../support/harness';
import { browserTest, CHROMIUM, CHROMIUM_ARGS, signIn } from './browser';
import { freePort } from '../../src/platform/redis';

jest.setTimeout(90_000);

const withBrowser = browserTest('console roles');


const RESULT_TOKEN = 'roles-result-token';
const ID_NUMBER = '330802199001011234';
const MASKED = '330*************34';
/** Every action button the console has, by its accessible name. */
const ACTION_BUTTONS = '#app button[data-action]';


describe('the ops console for each role', () => {
  let legacy: LegacyServer;
  let gateway: RunningGateway;
  let browser: Browser | undefined;
  const decidedCase = sampleCase({ itemCode: 'STEADY-1' });
  const deadCase = sampleCase({ itemCode: 'FRAGILE-1' });
  const deadLetterId = `prov-fragile.${deadCase.caseId as string}`;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    legacy = await legacyServer((req, _n, res) => replyJson(res, 200, { code: '0', msg: '成功', data: { slbh: `SL-${(req.json as { bizNo: string }).bizNo}` } }));
    const dir = writeConfig(
      [
        restSystem('city-steady', `${legacy.url}/steady`, { result: { mode: 'push', map: '{"caseId": ywh, "outcome": "approved", "message": yj}', inboundToken: RESULT_TOKEN } }),
        restSystem('prov-fragile', `http://127.0.0.1:${await freePort()}/cases`, { level: 'provincial', retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 10 } } }),
      ],
      { routes: [{ itemCode: 'STEADY-*', targets: ['city-steady'] }, { itemCode: 'FRAGILE-*', targets: ['prov-fragile'] }] },
    );
    gateway = await startTestGateway(dir);

    expect((await submit(gateway, decidedCase)).status).toBe(202);
    expect((await submit(gateway, deadCase)).status).toBe(202);
    await eventually(async () => {
      expect((await caseView(gateway, decidedCase.caseId as string)).body.deliveries[0].status).toBe('delivered');
      expect((await caseView(gateway, deadCase.caseId as string)).body.deliveries[0].status).toBe('dead');
    });
    // The result's message carries an ID and a phone number: masked for viewers and operators.
    expect((await pushResult(gateway, 'city-steady', { ywh: decidedCase.caseId, yj: `申请人 ${ID_NUMBER}，电话 13800000000，已核查` }, RESULT_TOKEN)).status).toBe(200);
    // And an unmatched result, for the rematch button.
    expect((await pushResult(gateway, 'city-steady', { ywh: 'QZ-NO-SUCH-CASE', yj: '同意' }, RESULT_TOKEN)).status).toBe(404);

    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await legacy?.close();
  });

  /** A fresh tab (its own sessionStorage), signed in with `token`. */
  async function openSignedIn(token: string, name: string): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (req) => {
      if (!req.url().startsWith(`${gateway.url}/`) && !req.url().startsWith('data:')) pageErrors.push(`off origin: ${req.url()}`);
    });
    await page.goto(`${gateway.url}/console`);
    await signIn(page, token, name);
    return page;
  }

  async function signedIn(page: Page, roleLabel: string): Promise<void> {
    await page.locator('#systems-table tbody tr[data-system="city-steady"]').waitFor();
    expect(await page.locator('#who-role').innerText()).toBe(roleLabel);
  }

  async function openCase(page: Page, caseId: string, systemId: string): Promise<string> {
    await page.click('#tab-case');
    await page.fill('#case-id', caseId);
    await page.click('#case-form button[type=submit]');
    const card = page.locator(`article[data-delivery="${systemId}"]`);
    await card.waitFor();
    return card.innerText();
  }

  async function showTab(page: Page, tab: 'dead' | 'unmatched', row: string): Promise<void> {
    await page.click(`#tab-${tab}`);
    await page.locator(row).waitFor();
  }

  withBrowser('a viewer sees everything read-only: no action button anywhere, ID numbers masked', async () => {
    const page = await openSignedIn(VIEWER_TOKEN, '只读 赵六');
    await signedIn(page, '只读');
    expect(await page.locator('#systems-table thead th[data-needs]').isHidden()).toBe(true);
    expect(await page.locator('#systems-table tbody tr[data-system="city-steady"] td').count()).toBe(9);

    await showTab(page, 'dead', `tr[data-dead-letter="${deadLetterId}"]`);
    expect(await page.locator('#dead-replay-many').isHidden()).toBe(true);
    await showTab(page, 'unmatched', '#unmatched-table tbody tr[data-unmatched]');

    const dead = await openCase(page, deadCase.caseId as string, 'prov-fragile');
    expect(dead).toContain('投递失败');
    const decided = await openCase(page, decidedCase.caseId as string, 'city-steady');
    expect(decided).toContain(MASKED);
    expect(decided).not.toContain(ID_NUMBER);
    expect(decided).not.toContain('13800000000');
    expect(await page.locator(ACTION_BUTTONS).count()).toBe(0);

    // A reload asks the role again: still a viewer, still nothing to press.
    await page.reload();
    await signedIn(page, '只读');
    await showTab(page, 'dead', `tr[data-dead-letter="${deadLetterId}"]`);
    expect(await page.locator(ACTION_BUTTONS).count()).toBe(0);
    await page.context().close();
  });

  withBrowser('an operator pauses a system (audited with the role) and has the other actions, but still sees masked data', async () => {
    const page = await openSignedIn(OPERATOR_TOKEN, '操作员 孙七');
    await signedIn(page, '操作员');
    await page.click('button[data-action="pause"][data-target="city-steady"]');
    await page.fill('#ask-reason', '夜间维护');
    await page.click('#ask-ok');
    await page.locator('tr[data-system="city-steady"].paused').waitFor();
    expect((await admin(gateway, 'GET', '/systems')).body.find((s: { id: string }) => s.id === 'city-steady').paused).toBe(true);
    expect((await admin(gateway, 'GET', '/audit')).body.items[0]).toMatchObject({ action: 'system.pause', target: 'city-steady', role: 'operator', who: expect.stringContaining('孙七') });

    await showTab(page, 'dead', `button[data-action="replay"][data-target="${deadLetterId}"]`);
    expect(await page.locator(`button[data-action="discard"][data-target="${deadLetterId}"]`).count()).toBe(1);
    expect(await page.locator('#dead-replay-many').isVisible()).toBe(true);
    // Correcting a case before the replay is an admin's: an operator has no such button.
    expect(await page.locator('button[data-action="correct"]').count()).toBe(0);
    await showTab(page, 'unmatched', '#unmatched-table button[data-action="rematch"]');
    expect(await page.locator('#unmatched-table button[data-action="discard-unmatched"]').count()).toBeGreaterThan(0);

    const decided = await openCase(page, decidedCase.caseId as string, 'city-steady');
    expect(decided).toContain(MASKED);
    expect(decided).not.toContain(ID_NUMBER);
    await admin(gateway, 'POST', '/systems/city-steady/resume', {});
    await page.context().close();
  });

  withBrowser('an admin sees full case data and every action', async () => {
    const page = await openSignedIn(OPS_TOKEN, '管理员 周八');
    await signedIn(page, '管理员');
    expect(await page.locator('button[data-action="pause"][data-target="city-steady"]').count()).toBe(1);
    const decided = await openCase(page, decidedCase.caseId as string, 'city-steady');
    // The result in full (admins see full case data); its history entry is masked for everyone.
    expect(decided).toContain(ID_NUMBER);
    expect(decided).toContain(MASKED);
    await showTab(page, 'dead', `button[data-action="correct"][data-target="${deadLetterId}"]`);
    await openCase(page, deadCase.caseId as string, 'prov-fragile');
    expect(await page.locator(`article[data-delivery="prov-fragile"] button[data-action="replay"][data-target="${deadLetterId}"]`).count()).toBe(1);

    // Signed out, nothing of what the admin saw is left for the next token.
    await page.click('#sign-out');
    await page.locator('#login').waitFor();
    expect(await page.locator('#case-result').innerText()).toBe('');
    expect(await page.locator('#systems-table tbody tr').count()).toBe(0);
    await page.context().close();
  });

  withBrowser('an intake token is refused at sign-in (whoami answers 403)', async () => {
    const page = await openSignedIn(INTAKE_TOKEN, '受理平台');
    await page.waitForFunction(() => ((globalThis as any).document.getElementById('login-error')?.textContent ?? '').includes('不是运维令牌'));
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('ow.console.token'))).toBeNull();
    await page.context().close();
  });

  withBrowser('raised no script error and fetched nothing from elsewhere', () => {
    expect(pageErrors).toEqual([]);
  });
});
