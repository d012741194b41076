import { Redis } from "ioredis";

// What Redis itself says: commands run, and memory used. Nothing here knows
// the service's key names (they are changing); keys are told apart only by
// the bench's own `bare:` prefix and grouped by Redis type.

/** commandCounts is INFO commandstats as {command: calls}. */
export async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name!, Number(calls)]));
}

/**
 * netBytes is INFO stats' total_net_input_bytes and total_net_output_bytes:
 * every byte Redis read from and wrote to its clients. Between two snapshots
 * this includes the second INFO's request and the first one's reply (a few
 * KB per window, well under 1 B per call at the window sizes used).
 */
export async function netBytes(redis: Redis): Promise<{ input: number; output: number }> {
  const info = await redis.info("stats");
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? NaN);
  return { input: field("total_net_input_bytes"), output: field("total_net_output_bytes") };
}

/** serverPid is the redis-server's process id (INFO server), for its CPU time in /proc. */
export async function serverPid(redis: Redis): Promise<number> {
  return Number(/^process_id:(\d+)/m.exec(await redis.info("server"))![1]);
}

const scriptCommands = new Set(["evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"]);

/** The commands counted between two commandstats snapshots, without the bench's own INFO. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>) {
  let scripts = 0;
  let all = 0;
  for (const [name, calls] of after) {
    if (name === "info") continue;
    const delta = calls - (before.get(name) ?? 0);
    all += delta;
    if (scriptCommands.has(name)) scripts += delta;
  }
  return { scripts, all };
}

/**
 * countTopLevel counts, with MONITOR, the commands clients send while `during`
 * runs: commandstats also counts the commands scripts run, and cannot tell a
 * GET sent by a client from a GET inside a script. MONITOR can ("lua" source).
 * MONITOR slows Redis, so this runs outside the measured windows.
 */
export async function countTopLevel(url: string, during: () => Promise<void>, counted: (clientName: string) => boolean): Promise<number> {
  const conn = new Redis(url, { connectionName: benchConnectionName });
  // Only the measured server's connections count: the idle one (the service
  // runs its sweeper and health checks meanwhile) and the bench's own do not.
  // Clients are told apart by name; a connection opened during the window has none here.
  const names = new Map<string, string>();
  for (const line of String(await conn.client("LIST")).split("\n")) {
    const addr = /(?:^| )addr=(\S+)/.exec(line)?.[1];
    if (addr) names.set(addr, /(?:^| )name=(\S*)/.exec(line)?.[1] ?? "");
  }
  const monitor = await conn.monitor();
  let topLevel = 0;
  let lost = 0;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (source !== "lua" && args[0]?.toLowerCase() !== "info" && counted(names.get(source) ?? "")) topLevel++;
  });
  // ioredis reads a MONITOR line that arrives before it has switched the
  // connection to monitoring as a reply nobody asked for, and emits an error
  // (a crash without a listener): counted here, and kept out of the window below.
  monitor.on("error", () => void lost++);
  await new Promise((r) => setTimeout(r, 200));
  const lostBefore = lost;
  try {
    await during();
    await new Promise((r) => setTimeout(r, 200)); // the last MONITOR lines
  } finally {
    monitor.disconnect();
    conn.disconnect();
  }
  if (lost > lostBefore) throw new Error(`MONITOR lost ${lost - lostBefore} lines while counting`);
  return topLevel;
}

/** The client name of the bench's own Redis connections (CLIENT LIST). */
export const benchConnectionName = "bench";

export async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
}

export interface TypeUsage {
  type: string;
  keys: number;
  /** Mean MEMORY USAGE of a sample of up to 300 keys of this type. */
  meanBytes: number;
}

/** memoryByType walks every key (SCAN), groups those `wanted` by TYPE, and samples MEMORY USAGE per type. */
export async function memoryByType(redis: Redis, wanted: (key: string) => boolean): Promise<TypeUsage[]> {
  const types = new Map<string, { keys: number; sample: string[] }>();
  let cursor = "0";
  do {
    const [nextCursor, keys] = await redis.scan(cursor, "COUNT", 2000);
    cursor = nextCursor;
    const mine = keys.filter(wanted);
    const typed = await Promise.all(mine.map((k) => redis.type(k)));
    mine.forEach((key, i) => {
      const entry = types.get(typed[i]!) ?? { keys: 0, sample: [] };
      entry.keys++;
      if (entry.sample.length < 300) entry.sample.push(key);
      types.set(typed[i]!, entry);
    });
  } while (cursor !== "0");
  const usage: TypeUsage[] = [];
  for (const [type, { keys, sample }] of types) {
    const bytes = await Promise.all(sample.map((k) => redis.memory("USAGE", k)));
    const total = bytes.reduce<number>((sum, b) => sum + Number(b ?? 0), 0);
    usage.push({ type, keys, meanBytes: total / sample.length });
  }
  return usage.sort((a, b) => b.keys * b.meanBytes - a.keys * a.meanBytes);
}
