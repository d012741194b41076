import type { TypeUsage } from "./redis-stats.js";

/** One measured window of one variant. */
export interface Sample {
  callsPerSecond: number;
  p50ms: number;
  p99ms: number;
  cpuMicrosPerCall: number;
  redisCommandsPerCall: number;
  redisScriptsPerCall: number;
  /** redis-server's CPU time (user + system, /proc) in the window ÷ calls. */
  redisCpuMicrosPerCall: number;
  /** Bytes Redis read from / wrote to its clients in the window (INFO stats) ÷ calls. */
  redisBytesInPerCall: number;
  redisBytesOutPerCall: number;
  failures: number;
}

/** One table row: the medians over the rounds of one variant at one size. */
export interface Row {
  variant: string;
  baseline?: string;
  sessions: number;
  callsPerSecond: number;
  p50ms: number;
  p99ms: number;
  cpuMicrosPerCall: number;
  /** Median over rounds of this round's CPU-µs/call ÷ its baseline's in the same round. */
  cpuRatio?: number;
  p99Ratio?: number;
  redisTopLevelPerCall: number;
  redisCommandsPerCall: number;
  redisCpuMicrosPerCall: number;
  redisBytesInPerCall: number;
  redisBytesOutPerCall: number;
  failures: number;
  redisBytesPerSession: number;
  memoryByType: TypeUsage[];
}

export const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const fixed = (n: number | undefined, digits: number) => (n === undefined || Number.isNaN(n) ? "" : n.toFixed(digits));

/** "hash 1.00×350 B" per type: keys per session × mean MEMORY USAGE. */
const byType = (usage: TypeUsage[], sessions: number) =>
  usage.map((u) => `${u.type} ${(u.keys / sessions).toFixed(2)}×${Math.round(u.meanBytes)} B`).join(" + ");

/** table renders rows as a Markdown table (pastes into the README as is). */
export function table(rows: Row[]): string {
  const head = ["variant", "sessions", "calls/s", "p50 ms", "p99 ms", "server CPU µs/call", "CPU ÷ bare", "p99 ÷ bare",
    "Redis calls/call", "Redis cmds/call incl. scripts", "Redis CPU µs/call", "Redis B in/out per call", "Redis B/session",
    "Redis memory by type (keys/session × bytes)"];
  const lines = rows.map((r) => [
    r.variant, r.sessions.toLocaleString("en-US"), Math.round(r.callsPerSecond).toString(), fixed(r.p50ms, 2), fixed(r.p99ms, 2),
    fixed(r.cpuMicrosPerCall, 0), fixed(r.cpuRatio, 2), fixed(r.p99Ratio, 2), fixed(r.redisTopLevelPerCall, 2),
    fixed(r.redisCommandsPerCall, 2), fixed(r.redisCpuMicrosPerCall, 1), `${fixed(r.redisBytesInPerCall, 0)} / ${fixed(r.redisBytesOutPerCall, 0)}`,
    Math.round(r.redisBytesPerSession).toString(), byType(r.memoryByType, r.sessions),
  ]);
  return [head, head.map(() => "---"), ...lines].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
