/**
 * What a configuration page needs that the board does not: the CodeMirror editor and diff, and YAML.
 * The bundle's second entry (system-page.js, scripts/bundle-console.ts), which the console imports
 * when such a page opens (system/page.tsx), so the board loads without its weight.
 */
export { createEditor, gatewayDiagnostics, showDiff, type ConfigEditor, type Translate } from './editor';
export { parseYaml, toYaml } from './yaml-text';
