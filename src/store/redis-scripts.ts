import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Command } from "ioredis";
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
 * defineRedisScripts returns the scripts, each run by EVALSHA and, once a
 * server answers NOSCRIPT (a restart, SCRIPT FLUSH, a promoted replica), by
 * EVAL with its source. They are registered with ioredis (defineCommand) as
 * well, where replica-wait reads their source; they are not called through
 * it, because its command adds three arrays, a promise and two functions per
 * call around the same EVALSHA, on every token validation.
 */
export function defineRedisScripts(redis: RedisClient): RedisScripts {
  const prelude = read("prelude.lua");
  const events = read("events.lua");
  const scripts: Partial<Record<keyof RedisScripts, ScriptFn>> = {};
  for (const [name, def] of Object.entries(definitions) as [keyof RedisScripts, (typeof definitions)[keyof RedisScripts]][]) {
    const lua = def.events ? `${prelude}\n${events}\n${read(def.file)}` : `${prelude}\n${read(def.file)}`;
    redis.defineCommand(name, { numberOfKeys: def.keys, lua });
    scripts[name] = scriptRunner(redis, lua, def.keys);
  }
  return scripts as RedisScripts;
}

// Replies as strings, as ioredis's script commands answer them.
const utf8 = { replyEncoding: "utf8" } as const;

function scriptRunner(redis: RedisClient, lua: string, keys: number): ScriptFn {
  const sha = createHash("sha1").update(lua).digest("hex");
  return (...args) => {
    const command = new Command("evalsha", [sha, keys, ...args], utf8);
    const reject = command.reject;
    command.reject = (e: Error) => {
      if (!(e instanceof Error && e.message.startsWith("NOSCRIPT"))) return reject(e);
      // The same call again with the source: the server keeps the script from then on.
      const withSource = new Command("eval", [lua, keys, ...args], utf8);
      withSource.promise.then(command.resolve, reject);
      redis.sendCommand(withSource);
    };
    redis.sendCommand(command);
    return command.promise;
  };
}
