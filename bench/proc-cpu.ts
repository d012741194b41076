import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

// Clock ticks per second of /proc's utime/stime (100 nearly everywhere).
const ticksPerSecond = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

/**
 * cpuMicros is the CPU time (user + system, all threads) process `pid` has
 * used so far, in µs, from /proc/<pid>/stat fields 14 and 15.
 */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces; [0] is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
}
