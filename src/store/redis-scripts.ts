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

/** A script's source, its SHA1 digest (EVALSHA) and how many of its arguments are keys. */
export interface ScriptSource {
  readonly lua: string;
  readonly sha: string;
  readonly keys: number;
}

let sources: Readonly<Record<keyof RedisScripts, ScriptSource>> | undefined;

/** redisScriptSources reads the scripts' files once, on first use. */
export function redisScriptSources(): Readonly<Record<keyof RedisScripts, ScriptSource>> {
  if (sources) return sources;
  const prelude = read("prelude.lua");
  const events = read("events.lua");
  const all: Partial<Record<keyof RedisScripts, ScriptSource>> = {};
  for (const [name, def] of Object.entries(definitions) as [keyof RedisScripts, (typeof definitions)[keyof RedisScripts]][]) {
    const lua = def.events ? `${prelude}\n${events}\n${read(def.file)}` : `${prelude}\n${read(def.file)}`;
    all[name] = Object.freeze({ lua, sha: createHash("sha1").update(lua).digest("hex"), keys: def.keys });
  }
  return (sources = Object.freeze(all as Record<keyof RedisScripts, ScriptSource>));
}

/**
 * defineRedisScripts returns the scripts on `redis`, each call sent as one
 * ioredis Command (a ScriptCommand) rather than through ioredis's
 * defineCommand, whose command adds three arrays, a promise and two
 * functions per call around the same EVALSHA, on every token validation.
 */
export function defineRedisScripts(redis: RedisClient): RedisScripts {
  const scripts: Partial<Record<keyof RedisScripts, ScriptFn>> = {};
  for (const [name, source] of Object.entries(redisScriptSources()) as [keyof RedisScripts, ScriptSource][]) {
    scripts[name] = scriptRunner(redis, { ...source, sentOn: new WeakSet() });
  }
  return scripts as RedisScripts;
}

interface Script extends ScriptSource {
  /** The sockets this script's source was sent on (one set per client: its sockets are its own). */
  readonly sentOn: WeakSet<object>;
}

// Replies as strings, as ioredis's script commands answer them.
const utf8 = { replyEncoding: "utf8" } as const;

/**
 * ScriptCommand is EVAL with the script's source on a socket that has not
 * had it yet (a new connection: a restarted or promoted server has lost its
 * scripts), EVALSHA after that, as ioredis's own script commands do: a
 * restart costs no NOSCRIPT round trip, and calls keep their order.
 */
class ScriptCommand extends Command {
  /** The socket it was last written to. */
  socket: object | undefined;

  constructor(
    readonly script: Script,
    args: ScriptArg[],
  ) {
    super("evalsha", [script.sha, script.keys, ...args], utf8);
  }

  override toWritable(socket: object): string | Buffer {
    this.socket = socket;
    const full = !this.script.sentOn.has(socket);
    if (full) this.script.sentOn.add(socket);
    // Written again (a Cluster redirection) it may go either way.
    this.name = full ? "eval" : "evalsha";
    this.args[0] = full ? this.script.lua : this.script.sha;
    return super.toWritable(socket);
  }
}

function scriptRunner(redis: RedisClient, script: Script): ScriptFn {
  return (...args) => {
    const command = new ScriptCommand(script, args);
    // ioredis's own: what instrumentRedis wraps after this counts this command alone.
    const { resolve, reject } = command;
    command.reject = (e: Error) => {
      if (!(e instanceof Error && e.message.startsWith("NOSCRIPT"))) return reject(e);
      // The server lost its scripts while the connection stayed (SCRIPT FLUSH):
      // the call goes again, with the source, and settles this one; it runs
      // after what the connection sent meanwhile, the one case of a call
      // leaving its order.
      if (command.socket) script.sentOn.delete(command.socket);
      const again = new ScriptCommand(script, args);
      again.promise.then(
        (value) => void resolve(value),
        (error: unknown) => void reject(error as Error),
      );
      redis.sendCommand(again);
    };
    redis.sendCommand(command);
    return command.promise;
  };
}
