/**
 * What every console browser test starts from: Debian's Chromium (scripts/ensure-chromium), launched
 * so that nothing can leave loopback, and `it` for the browser tests — skipped with a warning where
 * there is no Chromium, a failure in CI, where they must run.
 */
import fs from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Belt and braces: no host name resolves, so nothing can leave 127.0.0.1.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** `it` for the browser tests of `what` (e.g. "console roles"). */
export function browserTest(what: string): jest.It {
  if (CHROMIUM) return it;
  const why = `${what} browser test: no Chromium at /usr/bin/chromium; run scripts/ensure-chromium (as root it installs Debian's chromium)`;
  if (process.env.CI) throw new Error(`${why}. In CI the browser test must run.`);
  console.warn(`${why}. Skipping the browser tests.`);
  return it.skip;
}

/** Fills the console's sign-in form with `token` and the operator's `name`, and sends it. */
export async function signIn(page: Page, token: string, name: string): Promise<void> {
  await page.locator('#login-token').waitFor();
  await page.fill('#login-token', token);
  await page.fill('#login-name', name);
  await page.click('#login-form button[type=submit]');
}

/**
 * Replaces the whole text of the CodeMirror editor in `host` as typing would: select all, delete,
 * then one input. (Typing over a selection of many lines makes Chromium's own editing try a style
 * attribute, which the CSP blocks and reports; CodeMirror redraws the lines either way.)
 */
export async function replaceEditorText(page: Page, host: string, text: string): Promise<void> {
  await page.click(`${host} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}
