/**
 * After `tsc`: copies the files the compiled code reads beside itself (Lua scripts, SQL migrations)
 * from src/ to dist/src/, keeping their folders. tsc copies only what it compiles.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const ASSET = /\.(lua|sql)$/;

function copy(from: string, to: string): number {
  let copied = 0;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copied += copy(source, path.join(to, entry.name));
    else if (ASSET.test(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, path.join(to, entry.name));
      copied++;
    }
  }
  return copied;
}

copy(path.join(ROOT, 'src'), path.join(ROOT, 'dist/src'));
