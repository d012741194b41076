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
  ssSetUserStatus: ScriptFn;
  ssIndexExpire: ScriptFn;
}

// `events`: the script writes session events (events.lua is prepended to it).
const definitions: Record<keyof RedisScripts, { file: string; keys: number; events?: true }> = {
  ssCreate: { file: "create.lua", keys: 3, events: true },
  ssFindByToken: { file: "find-by-token.lua", keys: 1 },
  ssSlideSession: { file: "slide-session.lua", keys: 1 },
  ssMutate: { file: "mutate.lua", keys: 3, events: true },
  ssDelete: { file: "delete.lua", keys: 3, events: true },
  ssUndoCreate: { file: "undo-create.lua", keys: 3, events: true },
  ssListUser: { file: "list-user.lua", keys: 1 },
  ssCurrent: { file: "current-session.lua", keys: 1 },
  ssClearUser: { file: "clear-user.lua", keys: 2, events: true },
  ssDeleteIfEquals: { file: "delete-if-equals.lua", keys: 1 },
  ssClaimPointer: { file: "claim-pointer.lua", keys: 1 },
  ssIndexAdd: { file: "index-add.lua", keys: 1 },
  ssIndexDeactivate: { file: "index-deactivate.lua", keys: 2 },
  ssSetUserStatus: { file: "set-user-status.lua", keys: 2, events: true },
  ssIndexExpire: { file: "index-expire.lua", keys: 2, events: true },
};

const read = (file: string) => readFileSync(new URL(`./lua/${file}`, import.meta.url), "utf8");

/**
 * defineRedisScripts registers the scripts with ioredis (defineCommand), which
 * runs them by EVALSHA and falls back to EVAL once after a SCRIPT FLUSH.
 */
export function defineRedisScripts(redis: RedisClient): RedisScripts {
  const prelude = read("prelude.lua");
  const events = read("events.lua");
  for (const [name, def] of Object.entries(definitions)) {
    const lua = def.events ? `${prelude}\n${events}\n${read(def.file)}` : `${prelude}\n${read(def.file)}`;
    redis.defineCommand(name, { numberOfKeys: def.keys, lua });
  }
  return redis as unknown as RedisScripts;
}
