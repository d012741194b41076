import { readFileSync } from "node:fs";
import type { RedisClient } from "./redis-client.js";

type ScriptArg = string | number;
type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

/** RedisScripts are the Lua scripts behind every multi-key update. */
export interface RedisScripts {
  ssCreate: ScriptFn;
  ssFindByToken: ScriptFn;
  ssSlideSession: ScriptFn;
  ssMutate: ScriptFn;
  ssDelete: ScriptFn;
  ssListUser: ScriptFn;
  ssCurrent: ScriptFn;
  ssClearUser: ScriptFn;
  ssDeleteIfEquals: ScriptFn;
  ssClaimPointer: ScriptFn;
  ssIndexAdd: ScriptFn;
  ssIndexDeactivate: ScriptFn;
  ssUndoCreate: ScriptFn;
}

const definitions: Record<keyof RedisScripts, { file: string; keys: number }> = {
  ssCreate: { file: "create.lua", keys: 2 },
  ssFindByToken: { file: "find-by-token.lua", keys: 1 },
  ssSlideSession: { file: "slide-session.lua", keys: 1 },
  ssMutate: { file: "mutate.lua", keys: 2 },
  ssDelete: { file: "delete.lua", keys: 2 },
  ssUndoCreate: { file: "undo-create.lua", keys: 2 },
  ssListUser: { file: "list-user.lua", keys: 1 },
  ssCurrent: { file: "current-session.lua", keys: 1 },
  ssClearUser: { file: "clear-user.lua", keys: 1 },
  ssDeleteIfEquals: { file: "delete-if-equals.lua", keys: 1 },
  ssClaimPointer: { file: "claim-pointer.lua", keys: 1 },
  ssIndexAdd: { file: "index-add.lua", keys: 1 },
  ssIndexDeactivate: { file: "index-deactivate.lua", keys: 2 },
};

const read = (file: string) => readFileSync(new URL(`./lua/${file}`, import.meta.url), "utf8");

/**
 * defineRedisScripts registers the scripts with ioredis (defineCommand), which
 * runs them by EVALSHA and falls back to EVAL once after a SCRIPT FLUSH.
 */
export function defineRedisScripts(redis: RedisClient): RedisScripts {
  const prelude = read("prelude.lua");
  for (const [name, def] of Object.entries(definitions)) {
    redis.defineCommand(name, { numberOfKeys: def.keys, lua: `${prelude}\n${read(def.file)}` });
  }
  return redis as unknown as RedisScripts;
}
