import { readFileSync, realpathSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { atExit } from "./at-exit.js";
import { identifyRedis } from "./identify-redis.js";
import { processAlive, processCommand } from "./process-liveness.js";
import { readRecordedPort, recordPort } from "./recorded-port.js";
import { startRedisServer } from "./start-redis-server.js";
import { stopRedisProcess } from "./stop-redis-process.js";

/** LocalRedis is the one redis-server serving a local run's data directory. */
export interface LocalRedis {
  readonly port: number;
  readonly pid: number;
  /** True when it was left running by an earlier run (killed with SIGKILL) and taken over. */
  readonly adopted: boolean;
  /** Shuts it down gracefully (AOF flushed) and waits for it; a no-op the second time. */
  stop(): Promise<void>;
}

/**
 * startLocalRedis gives the local run the redis-server of `redisDir`, which
 * the caller must hold exclusively (lockDataDirectory). A redis-server still
 * running on the directory from an earlier run is adopted only when it proves
 * to be that directory's server: its pid file names it, and on the port
 * recorded in the directory it answers with that pid and that directory.
 * Anything else is refused with what holds the directory or port and what to
 * do, so two servers never share one AOF directory. Otherwise it starts one
 * on the recorded port (`requestedPort`, or a free one the first time) and
 * records the port, so it stays the same across starts.
 */
export async function startLocalRedis(redisDir: string, requestedPort: number | undefined, log: (message: string) => void): Promise<LocalRedis> {
  const dir = realpathSync(redisDir);
  const pidFile = path.join(dir, "redis.pid");
  const portFile = path.join(dir, "redis.port");
  const recorded = readRecordedPort(portFile);

  const leftover = await leftoverRedis(dir, pidFile, recorded);
  if (leftover) {
    log(`local run: adopted the redis-server (pid ${leftover.pid}) an earlier run left on 127.0.0.1:${leftover.port}, data in ${dir}`);
    return managed(leftover.port, leftover.pid, true, log);
  }

  const port = requestedPort ?? recorded ?? (await freePort());
  const holder = await portHolder(port, dir);
  if (holder) {
    throw new Error(
      `port ${port}${port === recorded ? ` (this data directory's Redis port, recorded in ${portFile})` : ""} is in use by ${holder}. ` +
        `Free it, or set LOCAL_REDIS_PORT${port === recorded ? ` or remove ${portFile} to have a new port chosen` : " to another port"}.`,
    );
  }
  const child = await startRedisServer(dir, port, true);
  recordPort(portFile, port);
  log(`local run: redis-server on 127.0.0.1:${port}, data in ${dir}, log in ${path.join(dir, "redis.log")}`);
  return managed(port, child.pid!, false, log);
}

function managed(port: number, pid: number, adopted: boolean, log: (message: string) => void): LocalRedis {
  // Our redis-server must not outlive us: SIGTERM at the latest when we exit.
  const cancel = atExit(() => {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  });
  let stopped: Promise<void> | undefined;
  return {
    port,
    pid,
    adopted,
    stop() {
      stopped ??= stopRedisProcess(pid).then((gone) => {
        cancel();
        if (!gone) log(`local run: redis-server (pid ${pid}) is still shutting down; the next start waits for it`);
      });
      return stopped;
    },
  };
}

/**
 * The redis-server an earlier run left serving `dir`, or undefined when its
 * pid file names no live redis-server. A live one that does not prove to be
 * this directory's server on the recorded port is refused; one that is just
 * shutting down (its run stopped a moment ago) is given 5 s to go.
 */
async function leftoverRedis(dir: string, pidFile: string, recorded: number | undefined): Promise<{ pid: number; port: number } | undefined> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const pid = readPid(pidFile);
    if (pid === undefined || !processAlive(pid)) return undefined;
    const command = processCommand(pid);
    // The pid was given to another program since: that pid file is stale.
    if (command !== "" && !command.includes("redis")) return undefined;
    if (recorded !== undefined) {
      const identity = await identifyRedis(recorded, 1_000).catch(() => undefined);
      if (identity?.pid === pid && identity.dir === dir) return { pid, port: recorded };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `a redis-server (pid ${pid}${command ? `: ${command}` : ""}, from ${pidFile}) is still running on ${dir}, ` +
          `but it does not answer as this directory's server on ${recorded === undefined ? "a recorded port" : `its recorded port ${recorded}`}, ` +
          `so it is neither adopted nor joined by a second one. Stop it (kill ${pid}: a graceful shutdown) and start again.`,
      );
    }
    await sleep(100);
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Who listens on 127.0.0.1:`port` already, in words, or undefined when nobody does. */
async function portHolder(port: number, dir: string): Promise<string | undefined> {
  const listening = await new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (!listening) return undefined;
  const identity = await identifyRedis(port, 1_000).catch(() => undefined);
  if (!identity) return "another program (not a Redis that answers)";
  if (identity.dir === dir) return `a redis-server (pid ${identity.pid}) serving this very directory without its pid file: stop it (redis-cli -p ${port} shutdown) first`;
  return `another redis-server (pid ${identity.pid}, data in ${identity.dir})`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}
