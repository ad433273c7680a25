/**
 * Lua scripts as files, as BullMQ keeps its commands: each room has its scripts in a `lua/` folder
 * beside the code that runs them, each file saying what its KEYS and ARGV are. A script is sent as
 * EVALSHA, and once as EVAL when Redis answers NOSCRIPT (a restarted or new server), which loads it.
 * A script that starts with `--! include <name>` gets the shared piece `src/platform/lua/<name>.lua`
 * put in front of it, so a guard is written once.
 *
 * Not ioredis `defineCommand`: every pipeline ioredis makes (each auto-pipelined batch, each MULTI)
 * copies every command defined on its client, and that copy was a few per cent of the gateway's CPU.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RedisClient } from './redis';

const SHARED_DIR = path.join(__dirname, 'lua');

interface Script {
  lua: string;
  sha: string;
}

/** Read once per process: the files do not change while it runs. */
const loaded = new Map<string, Script>();

function script(dir: string, name: string): Script {
  const file = path.join(dir, `${name}.lua`);
  let found = loaded.get(file);
  if (!found) {
    const text = fs.readFileSync(file, 'utf8');
    const lua = text.replace(/^--! include ([a-z-]+)\n/gm, (_, piece: string) => `${fs.readFileSync(path.join(SHARED_DIR, `${piece}.lua`), 'utf8')}\n`);
    found = { lua, sha: crypto.createHash('sha1').update(lua).digest('hex') };
    loaded.set(file, found);
  }
  return found;
}

/** The scripts of one room, run on one client; `run` calls one by name. */
export class LuaScripts<Name extends string> {
  private readonly scripts = new Map<Name, Script>();

  constructor(
    private readonly redis: RedisClient,
    dir: string,
    names: readonly Name[],
  ) {
    for (const name of names) this.scripts.set(name, script(dir, name));
  }

  async run(name: Name, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    const { lua, sha } = this.scripts.get(name)!;
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(lua, keys.length, ...keys, ...args);
    }
  }
}
