/**
 * Lua scripts as files, as BullMQ keeps its commands: each room has its scripts in a `lua/` folder
 * beside the code that runs them, each file saying what its KEYS and ARGV are. They are loaded once
 * per Redis client with ioredis `defineCommand` (EVALSHA, falling back to EVAL after a Redis
 * restart). A script that starts with `--! include <name>` gets the shared piece
 * `src/platform/lua/<name>.lua` put in front of it, so a guard is written once.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RedisClient } from './redis';

const SHARED_DIR = path.join(__dirname, 'lua');

function source(dir: string, name: string): string {
  const text = fs.readFileSync(path.join(dir, `${name}.lua`), 'utf8');
  return text.replace(/^--! include ([a-z-]+)\n/gm, (_, piece: string) => `${fs.readFileSync(path.join(SHARED_DIR, `${piece}.lua`), 'utf8')}\n`);
}

type Command = (numberOfKeys: number, ...keysAndArgs: Array<string | number>) => Promise<unknown>;

/** The scripts of one room, defined on one client; `run` calls one by name. */
export class LuaScripts<Name extends string> {
  private readonly commands = new Map<Name, Command>();

  constructor(redis: RedisClient, dir: string, names: readonly Name[]) {
    for (const name of names) {
      // One command name per script file; the key count is passed on every call.
      const command = `ow_${path.basename(path.dirname(dir))}_${name.replace(/-/g, '_')}`;
      if (!(command in redis)) redis.defineCommand(command, { lua: source(dir, name) });
      const client = redis as unknown as Record<string, Command>;
      this.commands.set(name, (...args) => client[command]!(...args));
    }
  }

  run(name: Name, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.commands.get(name)!(keys.length, ...keys, ...args);
  }
}
