/**
 * What every console browser test starts from: Debian's Chromium (scripts/ensure-chromium), launched
 * so that nothing can leave loopback, and `it` for the browser tests — skipped with a warning where
 * there is no Chromium, a failure in CI, where they must run.
 */
import fs from 'node:fs';

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
