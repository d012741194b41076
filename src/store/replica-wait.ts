import { Code, ConnectError } from "@connectrpc/connect";
import { Cluster } from "ioredis";
import { waitUntilReady, type RedisClient } from "./redis-client.js";
import { batchWritesPerTurn } from "./batch-writes.js";
import { redisScriptSources, type RedisScripts, type ScriptSource } from "./redis-scripts.js";

/** ReplicaWaitOptions turn on waiting for replicas (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS). */
export interface ReplicaWaitOptions {
  /** Replicas that must acknowledge a write before the call that made it succeeds (≥ 1). */
  readonly replicas: number;
  /** WAIT's timeout, ms (≥ 1: 0 would block until enough replicas answer). */
  readonly timeoutMs: number;
  /** Called with the extra connection the waited writes use (metrics instrument it). */
  readonly onConnection?: (client: RedisClient) => void;
}

/**
 * The scripts a call's success rests on: a create (its token pointer, its
 * tenant index entry, the session with the per-user limit and evictions), a
 * change (token rotation, end, expiry, touch), a delete, clearing a user,
 * signing a user out everywhere. Follow-up writes after one of them
 * (freeing pointers, moving or dropping index entries, undoing a create
 * answered as failed) and slides on the hot path do not wait: losing one is
 * repaired or harmless (an index entry without its session is dropped, a
 * pointer without its session is an unknown token, a lost slide expires a
 * session one slide earlier).
 */
export const waitedScripts: ReadonlySet<string> = new Set([
  "ssCreate",
  "ssClaimPointer",
  "ssIndexAdd",
  "ssMutate",
  "ssDelete",
  "ssClearUser",
  "ssSetUserStatus",
]);

/** ReplicaWaitError says fewer replicas than asked acknowledged a write in time (the cause of the UNAVAILABLE). */
export class ReplicaWaitError extends Error {
  override name = "ReplicaWaitError";
  constructor(readonly acknowledged: number, readonly wanted: number, readonly timeoutMs: number) {
    super(`write acknowledged by ${acknowledged} of ${wanted} replica(s) within ${timeoutMs} ms`);
  }
}

// Cluster replies after which the script did not run: sent again.
const notRun = /^(MOVED|TRYAGAIN|CLUSTERDOWN) /;
const retryDelayMs = 100;
const maxAttempts = 10;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * withReplicaWait returns `scripts` with the waited ones (waitedScripts)
 * followed by `WAIT replicas timeoutMs` on the same connection to the same
 * server as the write: each is sent as a pipeline of two commands, EVALSHA
 * then WAIT. On a Cluster ioredis sends a pipeline to the node serving its
 * first keyed command's slot, with keyless commands (WAIT) riding along
 * (Pipeline.exec); a keyless WAIT sent alone would go to a random node.
 * WAIT blocks its connection until the replicas answer, so the waited
 * writes use a connection of their own (a duplicate of `redis`): reads and
 * hot-path slides never queue behind a WAIT, even while a replica is down
 * and every WAIT runs to its timeout.
 *
 * When fewer replicas than asked acknowledge in time, the call fails as
 * UNAVAILABLE: the write ran on the primary but could still be lost to a
 * failover. The store handles that like a write whose reply was lost
 * (a create answered as failed is undone once its deadline has passed; a
 * change or delete stands). Without options the scripts are returned as
 * they are: nothing changes and nothing is paid when the setting is off.
 */
export function withReplicaWait(scripts: RedisScripts, redis: RedisClient, options: ReplicaWaitOptions | undefined): RedisScripts {
  if (!options || options.replicas <= 0) return scripts;
  const { replicas, timeoutMs } = options;
  const writer: RedisClient = redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
  batchWritesPerTurn(writer);
  // A client's errors are reported by its commands; unhandled 'error' events would crash.
  writer.on("error", () => undefined);
  options.onConnection?.(writer);
  // Ends with the store's own connection (store.close quits it).
  redis.once("end", () => writer.disconnect());

  const definitions = redisScriptSources();

  const unconfirmed = (acknowledged: number, cause?: unknown) =>
    new ConnectError(
      `write not confirmed by ${replicas} Redis replica(s) within ${timeoutMs} ms (${acknowledged} confirmed): ` +
        "it could be lost if Redis fails over, so it is not acknowledged; try again",
      Code.Unavailable,
      undefined,
      undefined,
      cause ?? new ReplicaWaitError(acknowledged, replicas, timeoutMs),
    );

  async function send(def: ScriptSource, args: (string | number)[], withLua: boolean): Promise<[Error | null, unknown][]> {
    const numberOfKeys = def.keys;
    const pipeline = writer.pipeline();
    // EVAL once the server does not have the script (NOSCRIPT): a promoted
    // replica's script cache starts empty.
    if (withLua) pipeline.eval(def.lua, numberOfKeys, ...args);
    else pipeline.evalsha(def.sha, numberOfKeys, ...args);
    pipeline.wait(replicas, timeoutMs);
    return ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
  }

  // Scripts this connection has sent in full once (then by SHA).
  const loaded = new Set<string>();

  async function waited(name: string, args: (string | number)[]): Promise<unknown> {
    const def = definitions[name as keyof RedisScripts];
    if (writer.status !== "ready") await waitUntilReady(writer, timeoutMs);
    let withLua = !loaded.has(def.sha);
    for (let attempt = 1; ; attempt++) {
      const [[scriptError, reply] = [null, undefined], [waitError, acknowledged] = [null, 0]] = await send(def, args, withLua);
      if (scriptError) {
        // Not run: sent again (with its source, or once the slots are known again).
        if (!withLua && scriptError.message.startsWith("NOSCRIPT")) {
          withLua = true;
          continue;
        }
        if (notRun.test(scriptError.message) && attempt < maxAttempts) {
          if (writer instanceof Cluster) writer.refreshSlotsCache();
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          continue;
        }
        throw scriptError;
      }
      loaded.add(def.sha);
      if (waitError) throw unconfirmed(0, waitError);
      if (Number(acknowledged) < replicas) throw unconfirmed(Number(acknowledged));
      return reply;
    }
  }

  const out: Record<string, ScriptFn> = {};
  for (const name of Object.keys(definitions)) {
    const direct = (scripts as unknown as Record<string, ScriptFn>)[name]!;
    out[name] = waitedScripts.has(name) ? (...args) => waited(name, args) : (...args) => direct.apply(scripts, args);
  }
  return out as unknown as RedisScripts;
}
