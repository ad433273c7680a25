/**
 * Bundles the console's system page (TypeScript under src/admin/console/system/, CodeMirror and its
 * parts from node_modules) into one file beside the console's hand-written ones, so the page needs no
 * CDN and works offline. The bundle is built, never committed: `npm run build` writes it, and the
 * console tests build it when it is missing (test/support/global-setup.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

// Run from dist/scripts/ (npm run build) or from scripts/ (ts-jest): the project root either way.
const ROOT = path.basename(path.resolve(__dirname, '..')) === 'dist' ? path.resolve(__dirname, '../..') : path.resolve(__dirname, '..');

export const CONSOLE_DIR = path.join(ROOT, 'src/admin/console');
export const SYSTEM_PAGE_BUNDLE = path.join(CONSOLE_DIR, 'system-page.js');

export async function bundleConsole(): Promise<void> {
  await build({
    entryPoints: [path.join(CONSOLE_DIR, 'system/main.ts')],
    outfile: SYSTEM_PAGE_BUNDLE,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    // The page is served under script-src 'self': no eval, no inline code, and no source map to leak paths.
    sourcemap: false,
    legalComments: 'eof',
    tsconfig: path.join(ROOT, 'tsconfig.console.json'),
    logLevel: 'warning',
  });
}

/** Whether the bundle is missing or older than a source of it (tests build it then, see global-setup). */
export function bundleIsStale(): boolean {
  if (!fs.existsSync(SYSTEM_PAGE_BUNDLE)) return true;
  const built = fs.statSync(SYSTEM_PAGE_BUNDLE).mtimeMs;
  const sources = path.join(CONSOLE_DIR, 'system');
  return fs.readdirSync(sources).some((file) => fs.statSync(path.join(sources, file)).mtimeMs > built);
}

if (require.main === module) {
  bundleConsole().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
