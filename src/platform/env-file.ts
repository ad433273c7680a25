/**
 * OW_ENV_FILE: a file of NAME=value lines (# comments, blank lines, optional quotes; the format of
 * deploy/.env.example and of Node's --env-file), read before anything else. A variable already in the
 * environment wins over the file, so one can be overridden for a single run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/** Adds the file's variables that `env` lacks; a problem (naming the file) when it cannot be read. */
export function applyEnvFile(env: Record<string, string | undefined>): string | undefined {
  const file = env.OW_ENV_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return `OW_ENV_FILE: cannot read ${path.resolve(file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined && value !== undefined) env[name] = value;
  }
  return undefined;
}
