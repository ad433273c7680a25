import fs from 'node:fs';
import path from 'node:path';

/** The gateway's version, from its package.json (one or two folders up: src/ or dist/src/). */
export function gatewayVersion(): string {
  for (const dir of [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'onewindow-gateway' && pkg.version) return pkg.version;
    } catch {
      // not here: the next folder up
    }
  }
  return 'unknown';
}
