import { readFileSync } from "node:fs";

/**
 * processStartTime is `pid`'s start time in clock ticks since boot (Linux
 * /proc), or undefined elsewhere or when there is no such process. Kept next
 * to a pid, it tells the process apart from a later one given the same pid.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) may hold spaces, so count after its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** processAlive tells whether `pid` runs, and (when `startTime` is known and /proc is there) is still the same process. */
export function processAlive(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A zombie (exited, not yet reaped, as under a container init that never reaps) is gone.
  if (processState(pid) === "Z") return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

/** processCommand is `pid`'s command line (Linux /proc), or "" when unknown. */
export function processCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
