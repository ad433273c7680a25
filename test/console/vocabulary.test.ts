/**
 * The console's words for the gateway's vocabularies: every history event and every error code the
 * API can send has a label, and the console names nothing the API does not have.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyEventSchema } from '../../src/cases/model';

const SOURCE = fs.readFileSync(path.resolve(__dirname, '../../src/admin/console/console.js'), 'utf8');

function keysOf(constant: string): string[] {
  const block = new RegExp(`const ${constant} = \\{([^}]*)\\}`).exec(SOURCE)?.[1] ?? '';
  return [...block.matchAll(/^\s*'?([a-z_.]+)'?\s*:/gm)].map((m) => m[1]!);
}

describe('the console', () => {
  it('labels exactly the history events of the model', () => {
    expect(keysOf('EVENTS').sort()).toEqual([...historyEventSchema.options].sort());
  });
});
