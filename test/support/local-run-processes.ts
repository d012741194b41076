import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import path from "node:path";

// Real processes for the local-run tests: the built service (`node
// dist/src/main.js`, as production runs it) and the redis-servers it leaves.

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
  /** The service's HTTP port once it listens; rejects (with its output) when it exits or takes over 20 s. */
  port(): Promise<number>;
}

const entry = "dist/src/main.js";
const started = new Set<ChildProcess>();

/** The newest modification time of any file under `dir`. */
const newest = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs));

/**
 * startService runs the built service with only `env` (plus PATH and HOME),
 * and `nodeOptions` before the entry point; a missing or stale build fails
 * loudly rather than testing old code.
 */
export function startService(env: Record<string, string>, nodeOptions: readonly string[] = []): ServiceProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (./scripts/test.sh does)`);
  if (newest("src") > statSync(entry).mtimeMs) throw new Error(`${entry} is older than src/: run \`npm run build\` first (./scripts/test.sh does)`);
  const child = spawn(process.execPath, ["--enable-source-maps", ...nodeOptions, entry], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    exited,
    output: () => output,
    async port() {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const match = /"port":(\d+),"host"/.exec(output);
        if (match) return Number(match[1]);
        if (done) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the service is not listening:\n${output}`);
    },
  };
}

/** exitWithin is the service's exit code, or "running" (and it is SIGKILLed) when it has not exited after `ms`. */
export async function exitWithin(p: ServiceProcess, ms = 20_000): Promise<number | null | "running"> {
  const code = await Promise.race([p.exited, new Promise<"running">((r) => setTimeout(() => r("running"), ms))]);
  if (code === "running") p.child.kill("SIGKILL");
  return code;
}

/** redisServersIn lists the pids of every redis-server whose working directory (its --dir) is `dir`: the servers on that data directory. */
export function redisServersIn(dir: string): number[] {
  const target = realpathSync(dir);
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/comm`, "utf8").startsWith("redis-server")) continue;
      if (readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.startsWith("Z")) continue;
      if (readlinkSync(`/proc/${name}/cwd`) === target) pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** killLeftovers SIGKILLs every service this file started that still runs, and every redis-server on one of `dirs`' redis/ directories. */
export function killLeftovers(dirs: readonly string[]): void {
  for (const child of started) child.kill("SIGKILL");
  for (const dir of dirs) {
    for (const sub of [dir, path.join(dir, "redis")]) {
      let pids: number[] = [];
      try {
        pids = redisServersIn(sub);
      } catch {
        continue; // no such directory
      }
      for (const pid of pids) process.kill(pid, "SIGKILL");
    }
  }
}
