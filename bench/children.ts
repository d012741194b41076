import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import os from "node:os";

// Every process the bench starts, so that none outlives it, however it ends.
const children = new Set<ChildProcess>();

/** Pinning needs taskset and a second core (server on core 0; Redis and load on core 1). */
export const pinned = os.availableParallelism() >= 2 && spawnSync("taskset", ["-V"]).status === 0;

/**
 * spawnOn starts `command` pinned to `core` (when pinning is possible). taskset
 * execs the command, so the child's pid is the command's own: its CPU time in
 * /proc/<pid>/stat is the server's, not a wrapper's.
 */
export function spawnOn(core: number, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = pinned
    ? spawn("taskset", ["-c", String(core), command, ...args], { stdio: "inherit", ...options })
    : spawn(command, args, { stdio: "inherit", ...options });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** killChildren ends every child at once (SIGKILL: nothing they hold needs saving). */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** onEnd runs `cleanup` once on exit, Ctrl-C, SIGTERM or an uncaught error. */
export function onEnd(cleanup: () => void): void {
  let done = false;
  const once = () => {
    if (!done) (done = true), killChildren(), cleanup();
  };
  process.once("exit", once);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      once();
      process.exit(130);
    });
  }
}
