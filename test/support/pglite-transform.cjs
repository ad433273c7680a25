// Jest runs test code in a vm without ESM support, and PGlite's CommonJS build still loads Node's
// built-ins with `await import("fs")`. Under jest only, those become plain requires; the gateway
// itself (node dist/...) loads PGlite untouched.
/* global module, require */
module.exports = {
  process(source) {
    // Bound once at the top: the emscripten code declares its own `var require` in some functions.
    return { code: `const __owRequire = require;\n${source.replace(/\bimport\(("[^"]+")\)/g, 'Promise.resolve().then(() => __owRequire($1))')}` };
  },
  getCacheKey(source) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:crypto').createHash('sha256').update('pglite-transform-2').update(source).digest('hex');
  },
};
