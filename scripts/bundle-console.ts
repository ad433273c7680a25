/**
 * Builds the ops console (TypeScript under src/admin/console/, Preact, CodeMirror and the rest from
 * node_modules) into src/admin/console/bundle/, so the page needs no CDN and works offline:
 *   - first the API client's types, generated from docs/openapi.yaml by openapi-typescript into
 *     src/admin/console/openapi.d.ts (git-ignored: the published interface is the one source, so a
 *     change of an answer's schema breaks the console's typecheck, never its users);
 *   - then `console.js`, the app, and `system-page.js`, the configuration editor (CodeMirror, YAML),
 *     which the app imports only when a configuration page opens: the board loads without it.
 * Neither is committed: `npm run build` writes them, `npm run typecheck` writes the types, and the
 * console tests build both when a source is newer (test/support/global-setup.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

// Run from dist/scripts/ (npm run build) or from scripts/ (ts-jest): the project root either way.
const ROOT = path.basename(path.resolve(__dirname, '..')) === 'dist' ? path.resolve(__dirname, '../..') : path.resolve(__dirname, '..');

export const CONSOLE_DIR = path.join(ROOT, 'src/admin/console');
/** What the browser downloads besides index.html and the style sheets (served at /console/<file>). */
export const BUNDLE_DIR = path.join(CONSOLE_DIR, 'bundle');
export const OPENAPI = path.join(ROOT, 'docs/openapi.yaml');
export const API_TYPES = path.join(CONSOLE_DIR, 'openapi.d.ts');

/** docs/openapi.yaml as TypeScript types for openapi-fetch: what `npm run console:api` does (for the typecheck). */
export function writeApiTypes(): void {
  const cli = path.join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');
  execFileSync(process.execPath, [cli, path.relative(ROOT, OPENAPI), '--output', path.relative(ROOT, API_TYPES)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function bundleConsole(): Promise<void> {
  writeApiTypes();
  // Chunks carry a hash in their names: last build's are removed, not left to be served.
  fs.rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await build({
    entryPoints: { console: path.join(CONSOLE_DIR, 'main.tsx'), 'system-page': path.join(CONSOLE_DIR, 'system/kit.ts') },
    outdir: BUNDLE_DIR,
    bundle: true,
    // ES modules, so that the editor is loaded by import() when needed (script-src 'self' allows it).
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    // The words as written (served as UTF-8), not escaped to \uXXXX at twice their size.
    charset: 'utf8',
    // Served under script-src 'self': no eval, no inline code, and no source map to leak paths.
    sourcemap: false,
    legalComments: 'eof',
    tsconfig: path.join(ROOT, 'tsconfig.console.json'),
    logLevel: 'warning',
  });
}

/** Every file the bundle is made of that is not in node_modules: the console's sources, the interface, the tsconfig. */
function sources(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) return file === BUNDLE_DIR ? [] : walk(file);
      return /\.tsx?$/.test(e.name) && file !== API_TYPES ? [file] : [];
    });
  return [...walk(CONSOLE_DIR), OPENAPI, path.join(ROOT, 'tsconfig.console.json'), path.join(ROOT, 'src/config/expression-paths.ts')];
}

/** Whether the bundle is missing or older than a source of it (tests build it then, see global-setup). */
export function bundleIsStale(): boolean {
  const entry = path.join(BUNDLE_DIR, 'console.js');
  if (!fs.existsSync(entry) || !fs.existsSync(API_TYPES)) return true;
  const built = fs.statSync(entry).mtimeMs;
  return sources().some((file) => fs.statSync(file).mtimeMs > built);
}

if (require.main === module) {
  bundleConsole().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
