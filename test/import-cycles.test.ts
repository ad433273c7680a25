/**
 * No module imports itself round a loop (type-only imports included, the console's .tsx too): a
 * cycle makes the load order decide what a module sees, and two rooms that need each other are one
 * room or need a third.
 */
import path from 'node:path';
import madge from 'madge';

const ROOT = path.resolve(__dirname, '..');

describe('the import graph of src/, scripts/ and test/', () => {
  it('then it has no cycle', async () => {
    const graph = await madge(['src', 'scripts', 'test'].map((dir) => path.join(ROOT, dir)), {
      baseDir: ROOT,
      fileExtensions: ['ts', 'tsx'],
      tsConfig: path.join(ROOT, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
    });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(200);
    expect(graph.circular()).toEqual([]);
  }, 60_000);
});
