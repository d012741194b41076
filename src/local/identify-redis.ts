import { askRedis } from "./ask-redis.js";

/** RedisIdentity is what a listener says about itself when it is a Redis server. */
export interface RedisIdentity {
  /** Its process id (INFO server process_id). */
  readonly pid: number;
  /** Its working directory, where its AOF and pid files live (CONFIG GET dir). */
  readonly dir: string;
  readonly runId: string;
}

/**
 * identifyRedis asks the listener on 127.0.0.1:`port` who it is: PING, then
 * its data directory and process id. It rejects when the listener is not a
 * Redis that answers these (another program, a Redis wanting a password), so
 * a port that merely accepts connections is never taken for ours.
 */
export async function identifyRedis(port: number, timeoutMs = 2_000): Promise<RedisIdentity> {
  const [pong, dir, info] = await askRedis(port, [["PING"], ["CONFIG", "GET", "dir"], ["INFO", "server"]], timeoutMs);
  for (const reply of [pong, dir, info]) if (reply instanceof Error) throw new Error(`the listener on port ${port} answered: ${reply.message}`);
  if (pong !== "PONG" || !Array.isArray(dir) || typeof dir[1] !== "string" || typeof info !== "string") {
    throw new Error(`the listener on port ${port} does not answer like a Redis server`);
  }
  const field = (name: string) => new RegExp(`^${name}:(.*?)\\r?$`, "m").exec(info)?.[1];
  const pid = Number(field("process_id"));
  const runId = field("run_id");
  if (!Number.isInteger(pid) || !runId) throw new Error(`the listener on port ${port} does not report its process id`);
  return { pid, dir: dir[1], runId };
}
